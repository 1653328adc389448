# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
model = "gemma-3-270m"
lr = None  # None: the model's recommended learning rate
epochs = None
seeds = [0, 1, 2]
results = "results"

# %% [markdown]
# # OCR verification
# Finetune on first-hop and second-hop facts; rank the implications (chance 9.5).

# %%
import pandas as pd

from ocr_core.experiments.ocr_verification import format_summary, summarize_ocr, verify

run = verify(model, lr=lr, epochs=epochs, seeds=seeds, results=results)
records = run.records()
print(format_summary(summarize_ocr(records)))

# %%
frame = pd.DataFrame(records).drop(columns=["ranks"])
frame.groupby(["hop", "split", "epoch"])["mean_rank"].agg(["mean", "std"]).round(2)
