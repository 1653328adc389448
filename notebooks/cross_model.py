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
# # Across models: one line per model
#
# The headline number of every experiment, per model, at each model's default settings, read from the
# experiment chapters' finished results (this page never trains: a missing result stops it with the command
# that computes it). Mean ranks: 0 = best, chance 9.5.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
seeds = None  # None: each experiment's own seeds (5 for verification, freezing and scores; 3 for the rest)
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import Figure, measure_bars
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.summary import headline
from ocr_core.reporting.tables import Table

setup_notebook()
models, seeds, results = check_params(models=models, seeds=seeds, results=results)
table = pd.DataFrame([headline(m, seeds=seeds, results=results) for m in models])

# %%
# NBVAL_CHECK_OUTPUT
Table(table.set_index("model").T.rename_axis("measure"), "Table 1. Headline numbers per model (mean over seeds)",
      index=True)

# %%
long = table.melt(id_vars=["model", "parameters"], var_name="measure", value_name="mean rank")
long = long[long.measure.str.contains("impl")]
Figure(measure_bars(long, measure="measure", value="mean rank", color="model", chance=9.5),
       "Figure 1. Implication ranks per model, in the order of Table 1 (bars: mean over seeds; dashed line: "
       "chance, 9.5; 0 = best)")
