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
seeds = [0, 1, 2, 3, 4]
results = "results"
data = None  # your own hop files (.csv/.json, README "Your own facts") instead of the built-in hops
ablation_models = ["gemma-3-270m", "smollm2-135m"]  # also run with the embeddings and final norm trained
ablation_seeds = None  # None: the first three of seeds

# %%
import pandas as pd
from IPython.display import display

from ocr_core.experiments.ocr_verification import summarize_ocr, verify
from ocr_core.experiments.params import check_params
from ocr_core.experiments.settings import seeds_for_ablation
from ocr_core.reporting.charts import Figure, rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox
from ocr_core.reporting.verdicts import verification_verdicts

setup_notebook()
models, lr, epochs, seeds, results, data, ablation_models, ablation_seeds = check_params(
    models=models, lr=lr, epochs=epochs, seeds=seeds, results=results, data=data, ablation_models=ablation_models,
    ablation_seeds=ablation_seeds,
)
records = [r for m in models for r in verify(m, lr=lr, epochs=epochs, seeds=seeds, data=data, results=results,
                                             progress=False).records()]
frame = pd.DataFrame(records).drop(columns=["ranks"])
summary = pd.DataFrame(summarize_ocr(records))
ablation_records = [r for m in models if m in ablation_models
                    for r in verify(m, lr=lr, epochs=epochs, seeds=seeds_for_ablation(seeds, ablation_seeds), data=data,
                                    results=results, embeddings=True, progress=False).records()]
ablation = [pd.DataFrame(summarize_ocr([r for r in ablation_records if r["model"] == m]))
            for m in dict.fromkeys(r["model"] for r in ablation_records)]

# %%
# NBVAL_CHECK_OUTPUT
VerdictBox([(f"{v['model']}, {v['hop'].replace('_', ' ')}: implication rank {v['before']:.2f} → {v['after']}",
             v["verdict"]) for v in verification_verdicts(records)],
           title="Verdict: does training the facts lower the implication rank below chance? (95% intervals)")

# %%
# NBVAL_CHECK_OUTPUT
Table(summary, "Table 1. Mean rank before training and after the last epoch (mean and sd over seeds)")

# %% [markdown]
# Ablation: the same finetunes with the input embedding, output layer and final norm trained as well.

# %%
# NBVAL_CHECK_OUTPUT
if ablation:
    display(Table(pd.concat(ablation), "Table 2. Ablation: the embedding, output layer and final norm trained too"))
else:
    print("(no ablation models)")

# %%
Figure(rank_trajectories(frame, color="split", column="hop", row="model", chance=9.5 if data is None else None),
       "Figure 1. Mean rank of the trained facts and of their implications per epoch (line: mean over seeds; band: "
       "the seeds' range; dashed: chance)")

# %% [markdown]
# **Reading.** Facts are learned when their rank reaches 0. OCR shows as the *implication* rank falling
# although no implication was trained on. The paper's own ranks (OLMo-7B, lr 3e-6, 8 epochs) are on the
# comparison page; the table above is what these small models do.

# %% [markdown]
# **Verdicts.** Each compares the implication rank after training with the same items' rank in the untrained
# model (its control), item by item: *OCR* when the change's 95% interval lies below 0 and the final rank's
# interval lies below chance; *fell, not below chance* when only the first holds; *no clear effect* when the
# change's interval holds 0; *rose* when it lies above 0. Intervals: bootstrap over seeds, then the 20 items
# within each seed (`ocr_core.reporting.verdicts`). *facts after* is the trained facts' final rank.

# %%
# NBVAL_CHECK_OUTPUT
columns = ["model", "hop", "verdict", "change", "after", "before", "facts_after", "seeds"]  # verdict first: wide rows
display(Table(pd.DataFrame(verification_verdicts(records))[columns], "Table 3. OCR verdicts (blocks only)",
              group=["model", "hop"]))
if ablation_records:
    display(Table(pd.DataFrame(verification_verdicts(ablation_records))[columns],
                  "Table 4. OCR verdicts, ablation (embeddings and final norm trained as well)",
                  group=["model", "hop"]))
