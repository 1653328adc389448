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

# %% [markdown]
# # Choosing the learning rate: do facts survive the implication phase?
#
# The paper's 3e-6 is for 7B models. Data ordering and weight grafting need a two-phase finetune on the
# fictional relations: facts F of the train names (W_F), then their implications on top (W_{F,I}). Both
# phases must work *and* the facts must survive the second phase, or facts-first ordering and grafting
# are confounded by forgetting. For each learning rate, training the blocks only (the book's default): the
# train facts' rank after W_F, the train implications' rank after W_{F,I}, and what is left of the facts
# after W_{F,I}. Seed 0, 80 train names, 5 epochs per phase.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lrs = [1e-4, 2e-4, 3e-4]
epochs = 5
seed = 0
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.lr_sweep import lr_sweep, sweep_table
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lrs, epochs, seed, results = check_params(models=models, lrs=lrs, epochs=epochs, seed=seed, results=results)
records, tables = [], []
for m in models:
    run = lr_sweep(m, lrs=lrs, epochs=epochs, seed=seed, results=results, progress=False)
    records += run.records()
    tables.append(pd.DataFrame(sweep_table(run.records())).assign(model=m))
frame = pd.DataFrame(records)
table = pd.concat(tables, ignore_index=True)

# %%
# NBVAL_CHECK_OUTPUT
print(table[["model", "lr", "facts_after_W_F", "implications_after_W_FI", "facts_after_W_FI"]]
      .round(2).to_string(index=False))

# %%
frame["step"] = frame["epoch"] + (frame["phase"] == "W_FI") * epochs
rank_trajectories(frame.assign(lr=frame["lr"].map("lr {:g}".format)), x="step", color="eval_set", column="lr",
                  row="model", chance=9.5, title=f"W_F (epochs 0-{epochs}), then W_{{F,I}} on top")
