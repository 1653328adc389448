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
# # Weight grafting: is what implication training learned a reusable structure?
#
# $W_F$: facts F of the train names. $W_{F,I}$: their implications, trained on top of $W_F$. $W_{F'}$: a
# *different* assignment of names to cities (counterfactual facts F'), from base. $W_I$: the implications of
# F trained from base (control). The graft base + $W_{F'}$ + $W_{F,I}$ never saw F' and its implications
# together; if $W_{F,I}$ installed an extraction structure rather than memorized answers, it predicts the
# implications of F'. Retention rows: base + $W_F$ and base + $W_F$ + $W_{F,I}$ on the facts F.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None
epochs = None
seeds = [0, 1, 2]
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.base import per_model
from ocr_core.experiments.params import check_params
from ocr_core.experiments.weight_grafting import EVALS, grafting, grafting_table
from ocr_core.reporting.charts import Figure, grouped_bars
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox
from ocr_core.reporting.verdicts import grafting_verdicts

setup_notebook()
models, lr, epochs, seeds, results = check_params(models=models, lr=lr, epochs=epochs, seeds=seeds, results=results)
records, table = per_model(grafting, grafting_table, models, lr=lr, epochs=epochs, seeds=seeds, results=results)
verdicts = grafting_verdicts(records)

# %%
# NBVAL_CHECK_OUTPUT
WITHOUT = "graft - base+W_F'"
VerdictBox([(f"{v['model']}: the graft on the F' implications {v['graft']}, against base + W_F' {v[WITHOUT]}, "
             f"against the control {v['graft - control']}", v["verdict"]) for v in verdicts],
           title="Verdict: does grafting W_FI predict the implications of new facts? (95% intervals)")

# %%
# NBVAL_CHECK_OUTPUT
cols = [*EVALS, "facts_F"]
Table(table[["model", "weights", *cols]],
      "Table 1. Mean rank per weight set (mean over seeds) on each evaluation set; facts_F: retention of F")

# %%
main = table[table.weights.isin(["base+W_F'", "graft", "control"])]
long = pd.DataFrame([dict(model=r["model"], weights=r["weights"], eval_set=c, mean=r[c], sd=r[c + ".sd"])
                     for _, r in main.iterrows() for c in EVALS])
Figure(grouped_bars(long, x="eval_set", color="weights", row="model"),
       "Figure 1. Mean rank of base + W_F', the graft and the control graft (bars: mean over seeds; whiskers: "
       "± sd)")

# %% [markdown]
# ## Method and reading
#
# The paper's claim (rule in *Methods*, "Verdicts"): with $W_{F,I}$ grafted, the implications of F' rank lower
# than on base + $W_{F'}$ alone *and* lower than with the control graft $W_I$, paired over seeds and the 80 train
# names. The paper's own numbers are on the comparison page. Check the retention column of Table 1 too: if
# base + $W_F$ + $W_{F,I}$ no longer knows F, $W_{F,I}$ partly overwrote the facts instead of learning to extract them.

# %%
# NBVAL_CHECK_OUTPUT
Table(pd.DataFrame(verdicts), "Table 2. The grafting claim per model, with its two contrasts and how well F' "
                              "was learned")
