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
# # What the models already know
#
# Out-of-context reasoning chains a *new* fact with *old* knowledge. First-hop OCR ("The people in the city
# NAME is from speak") needs city → language; second-hop OCR ("The mayor of the city that contains
# LANDMARK is") needs landmark → city. Here the untouched base models rank the answers of those latent
# relations among the same 20 options the experiments use (0 = best; chance 9.5 for 20 options). The
# fictional *dax*/*zong* relations are a control: no model can know them, so they must sit near chance.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
results = "results"

# %%
import altair as alt
import pandas as pd

from ocr_core.experiments.params import check_params
from ocr_core.experiments.prior_knowledge import knowledge_table, prior_knowledge
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table

setup_notebook()
models, results = check_params(models=models, results=results)
records = [r for m in models for r in prior_knowledge(m, results=results, progress=False).records()]
table = pd.DataFrame(knowledge_table(records))

# %% [markdown]
# Mean rank and top-1 accuracy of the base model per relation:

# %%
# NBVAL_CHECK_OUTPUT
Table(table, "Table 1. The base models on the latent relations: mean rank of the true answer and top-1 accuracy")

# %%
from ocr_core.reporting.charts import Figure
from ocr_core.reporting.words import words

shown = table.assign(relation=table.relation.map(words))
Figure(alt.Chart(shown).mark_bar().encode(
    x=alt.X("relation:N", title=None, sort=list(dict.fromkeys(shown.relation))),
    xOffset="model:N",
    y=alt.Y("mean_rank:Q", title="mean rank of the true answer (0 = best)"),
    color=alt.Color("model:N", legend=alt.Legend(orient="bottom")),
    tooltip=["model", "relation", alt.Tooltip("mean_rank:Q", format=".2f"), alt.Tooltip("top1:Q", format=".0%")],
).properties(width=300, height=220) + alt.Chart(shown).mark_rule(strokeDash=[4, 4]).encode(y="mean(chance):Q"),
       "Figure 1. Mean rank of the true answer per relation and model (dashed: chance)")

# %% [markdown]
# **Reading.** Both hops of OCR can only work if the latent relation is known. A relation far below the
# dashed chance line is known; the fictional relations are the baseline for *unknown* (near chance).
