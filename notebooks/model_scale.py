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
# # Model scale: which sizes show OCR?
#
# The paper's models have 1-72 billion parameters; the two embedded CPU models have 0.135 and 0.268
# billion. This page puts them on one axis: the implication rank after finetuning on facts (OCR
# verification, each model at its recommended settings; chance 9.5, 0 = best). Rows for the paper's GPU
# models are filled **only** from finished result files in `results/`; an empty row shows the exact command
# that fills it on a GPU. The memory column is the planned peak of full finetuning in the model's dtype
# (`ocr_core.models.memory`): it says which GPU each run needs.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]  # read from their OCR-verification chapter's finished results
paper_models = None  # None: every paper model in ocr_core.models.presets.PAPER_MODELS (rows filled from result files)
seeds = None  # None: each experiment's own seeds (5 for verification, freezing and scores; 3 for the rest)
results = "results"

# %%
import altair as alt
import pandas as pd

from ocr_core.experiments.params import check_params
from ocr_core.models.presets import PAPER_MODELS
from ocr_core.reporting.charts import Figure
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.scale import scale_rows
from ocr_core.reporting.tables import Table

setup_notebook()
models, paper_models, seeds, results = check_params(
    models=models, paper_models=paper_models, seeds=seeds, results=results
)
gpu = list(PAPER_MODELS) if paper_models is None else paper_models
table = pd.DataFrame(scale_rows([*models, *gpu], seeds=seeds, results=results))
measured = table[table.measured]

# %%
# NBVAL_CHECK_OUTPUT
columns = ["model", "params_b", "paper", "finetune_gib", "first_hop.implication.after", "second_hop.implication.after"]
shown = table.reindex(columns=columns).round(2)
words = {"params_b": "params (B)", "finetune_gib": "finetune (GiB)",
         "first_hop.implication.after": "first-hop implication rank",
         "second_hop.implication.after": "second-hop implication rank"}
Table(shown.astype(object).where(shown.notna(), "-").rename(columns=words),
      "Table 1. Implication rank after the facts are trained (mean over seeds), per model; the paper's models on "
      "a GPU: the memory a finetune needs (GiB)")

# %% [markdown]
# Rows without numbers, and the command that fills each (run it on a GPU; the memory plan is printed first
# and the run refuses to start if it will not fit):

# %%
Table(table[~table.measured][["model", "finetune_gib", "command"]].rename(columns=words),
      "Table 2. The command that fills each empty row, and the memory its finetune needs (GiB)")

# %%
long = measured.melt(
    id_vars=["model", "params_b"],
    value_vars=[c for c in measured.columns if c.endswith("implication.after")],
    var_name="hop",
    value_name="implication rank",
)
long["hop"] = long.hop.str.split(".").str[0].str.replace("_", " ")
points = alt.Chart(long).mark_point(size=90, filled=True).encode(
    x=alt.X("params_b:Q", scale=alt.Scale(type="log"), title="parameters (billions, log)",
            axis=alt.Axis(values=[0.1, 0.2, 0.5, 1, 2, 5, 10], labelOverlap=True)),
    y=alt.Y("implication rank:Q", scale=alt.Scale(domain=[0, 12]), title="implication rank after facts"),
    color=alt.Color("hop:N", legend=alt.Legend(orient="bottom")),
    shape="hop:N",
    tooltip=["model", "hop", alt.Tooltip("implication rank:Q", format=".2f"), "params_b"],
)
chance = alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.datum(9.5))
# each model named once, under its lowest point
names = alt.Chart(long.loc[long.groupby("model")["implication rank"].idxmin()]).mark_text(
    dy=16, fontSize=11).encode(x="params_b:Q", y="implication rank:Q", text="model:N")
Figure((points + names + chance).properties(width=300, height=240),
       "Figure 1. Implication rank after the facts are trained against model size (measured rows only, each "
       "model named under its points; dashed: chance)")

# %% [markdown]
# **Reading.** Only measured points are drawn; each CPU model's verdict, with its interval, is in the
# OCR-verification chapter, and the paper's numbers are on the comparison page. Whether the trend between the
# CPU models and the paper's is smooth is exactly what the empty rows would tell: fill them with the commands
# above.
