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
# # Where are new facts stored? Layer freezing
#
# Blocks are split at 3/4 of depth into *early* and *late*. *pre*: finetune with one part frozen; *post*:
# finetune everything, then revert one part's delta. *none* trains everything; *all* is the base model.
# The paper's prediction: first-hop OCR needs the fact stored **early** (reverting or freezing early layers
# hurts the first-hop implication), second-hop OCR needs it **late**. Only the blocks' weights are trained
# (as in the paper's OLMo runs), so *early* and *late* are exactly the blocks named below; an ablation at the
# end also trains the input embedding, the output layer and the final norm, which on a model with tied
# embeddings are both the first and the last layer and fall into neither part.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None
epochs = None
seeds = [0, 1, 2, 3, 4]
split = 0.75
results = "results"
data = None  # your own hop files (.csv/.json, README "Your own facts") instead of the built-in hops
ablation_models = ["gemma-3-270m", "smollm2-135m"]  # also run with the embeddings and final norm trained
ablation_seeds = None  # None: the first three of seeds

# %%
import pandas as pd
from IPython.display import display

from ocr_core.experiments.base import per_model
from ocr_core.experiments.layer_freezing import freezing, freezing_table
from ocr_core.experiments.params import check_params
from ocr_core.experiments.settings import seeds_for_ablation
from ocr_core.reporting.charts import Figure, grouped_bars
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox, label
from ocr_core.reporting.verdicts import freezing_verdicts

setup_notebook()
models, lr, epochs, seeds, split, results, data, ablation_models, ablation_seeds = check_params(
    models=models, lr=lr, epochs=epochs, seeds=seeds, split=split, results=results, data=data,
    ablation_models=ablation_models, ablation_seeds=ablation_seeds,
)
records, table = per_model(freezing, freezing_table, models, lr=lr, epochs=epochs, seeds=seeds, split=split,
                           data=data, results=results)
verdicts = freezing_verdicts(records)
mine = [m for m in models if m in ablation_models]
ablation = ablation_verdicts = None
if mine:
    ablation_records, ablation = per_model(freezing, freezing_table, mine, lr=lr, epochs=epochs,
                            seeds=seeds_for_ablation(seeds, ablation_seeds), split=split, data=data, results=results,
                            embeddings=True)
    ablation_verdicts = freezing_verdicts(ablation_records)
cols = [c for c in table.columns if c not in ("variant", "model") and not c.endswith(".sd")]
names = {c: label(c, spaces=False) for c in cols}  # "first_hop: fact": the hop keeps its name (yours too)

# %%
# NBVAL_CHECK_OUTPUT
VerdictBox([(f"{v['model']}, {v['hop'].replace('_', ' ')}, {v['variant'].replace('_', ' ')}: implications "
             f"{v['none']} (none) → {v['frozen']}", v["verdict"]) for v in verdicts],
           title="Verdict: does freezing or reverting the predicted layers hurt the implication? (95% intervals)")

# %%
# NBVAL_CHECK_OUTPUT
blocks = [dict(model=m, early=str(r["early_layers"]), late=str(r["late_layers"]))
          for m in models for r in [next(r for r in records if r["model"] == m)]]
Table(pd.DataFrame(blocks), "Table 1. The blocks in each part (first and last index)")

# %%
# NBVAL_CHECK_OUTPUT
Table(table[["model", "variant", *cols]].rename(columns=names),
      "Table 2. Mean rank per variant (mean over seeds), per hop and split")

# %%
long = []
for _, r in table.iterrows():
    for c in cols:
        long.append(dict(model=r["model"], variant=r["variant"], cell=names[c], mean=r[c], sd=r[c + ".sd"]))
long = pd.DataFrame(long)
Figure(grouped_bars(long, x="cell", color="variant", row="model"),
       "Figure 1. Mean rank per variant, per hop and split (bars: mean over seeds; whiskers: ± sd)")

# %% [markdown]
# ## Method and reading
#
# The paper's four freezing claims (rule in *Methods*, "Verdicts"): freezing (*pre*) or reverting (*post*) the
# early layers raises the first-hop implication rank above training every block (*none*), and the late layers
# the second-hop one; paired over seeds and items, 95% intervals. A claim is "not testable" where training
# every block shows no OCR against the untrained model (*all*): there is nothing for freezing to remove.

# %%
# NBVAL_CHECK_OUTPUT
Table(pd.DataFrame(verdicts), "Table 3. The four claims per model: the implication rank with every block "
                              "trained (none) and with the part frozen or reverted")

# %% [markdown]
# Ablation: the same variants with the input embedding, output layer and final norm trained as well (in
# *pre*, they are trained with whichever part is not frozen; in *post*, reverting a part leaves them).

# %%
# NBVAL_CHECK_OUTPUT
if ablation is not None:
    display(Table(ablation[["model", "variant", *cols]].rename(columns=names),
                  "Table 4. Ablation: mean rank per variant with the embeddings and final norm trained too"))
    display(Table(pd.DataFrame(ablation_verdicts), "Table 5. Ablation: the four claims per model with the "
                                                   "embeddings and final norm trained too (same rule as Table 3)"))
else:
    print("(no ablation models)")
