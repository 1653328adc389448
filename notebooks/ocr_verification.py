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
# # Does OCR happen? Finetune on facts, test their implications
#
# Each model is finetuned on 20 new facts and never sees their implications. First-hop: "NAME lives in" →
# city, tested on "The people in the city NAME is from speak" → language. Second-hop: "The mayor of CITY
# is" → NAME, tested on "The mayor of the city that contains LANDMARK is" → NAME. Ranks among 20 options
# (0 = best, chance 9.5) before training and after every epoch; lines are means over seeds, bands the
# seeds' range. With `data` (your own hop files, README "Your own facts") the chapter runs those instead.
# Only the blocks' weights are trained, as in the paper's OLMo runs; the table's second part is an ablation
# that also trains the input embedding, the output layer and the final norm (the models in
# `ablation_models`).

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None  # None: each model's recommended learning rate (ocr_core.models.loading)
epochs = None
seeds = [0, 1, 2]
results = "results"
data = None  # your own hop files (.csv/.json, README "Your own facts") instead of the built-in hops
ablation_models = ["gemma-3-270m", "smollm2-135m"]  # also run with the embeddings and final norm trained

# %%
import pandas as pd

from ocr_core.experiments.ocr_verification import summarize_ocr, verify
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lr, epochs, seeds, results, data, ablation_models = check_params(
    models=models, lr=lr, epochs=epochs, seeds=seeds, results=results, data=data, ablation_models=ablation_models
)
records = [r for m in models for r in verify(m, lr=lr, epochs=epochs, seeds=seeds, data=data, results=results,
                                             progress=False).records()]
frame = pd.DataFrame(records).drop(columns=["ranks"])
summary = pd.DataFrame(summarize_ocr(records))
ablation = [
    pd.DataFrame(summarize_ocr(verify(m, lr=lr, epochs=epochs, seeds=seeds, data=data, results=results,
                                      embeddings=True, progress=False).records()))
    for m in models if m in ablation_models
]

# %%
# NBVAL_CHECK_OUTPUT
print(summary.round(2).to_string(index=False))

# %% [markdown]
# Ablation: the same finetunes with the input embedding, output layer and final norm trained as well.

# %%
# NBVAL_CHECK_OUTPUT
print(pd.concat(ablation).round(2).to_string(index=False) if ablation else "(no ablation models)")

# %%
rank_trajectories(frame, color="split", column="hop", row="model", chance=9.5 if data is None else None)

# %% [markdown]
# **Reading.** Facts are learned when their rank reaches 0. OCR shows as the *implication* rank falling
# although no implication was trained on. The paper (OLMo-7b, lr 3e-6, 8 epochs) reports implication ranks
# 0.00 (first hop) and 1.80 (second hop) after training; the table above is what these small models do.

# %% [markdown]
# In words, from the numbers above (rule: *strong OCR* if the implication rank ends below 3.17, *partial*
# if it fell by at least one rank):

# %%
from ocr_core.reporting.compare import ocr_word

for r in summary[summary.split == "implication"].itertuples():
    facts = summary[(summary.model == r.model) & (summary.hop == r.hop) & (summary.split == "fact")].iloc[0]
    print(f"{r.model}, {r.hop}: facts {facts.before:.2f} -> {facts.after:.2f}; implications {r.before:.2f} -> "
          f"{r.after:.2f} (sd {r.after_sd:.2f} over {r.n_seeds} seeds): {ocr_word(r.before, r.after)}")
