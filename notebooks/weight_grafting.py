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
# W_F: facts F of the train names. W_{F,I}: their implications, trained on top of W_F. W_{F'}: a
# *different* assignment of names to cities (counterfactual facts F'), from base. W_I: the implications of
# F trained from base (control). The graft base + W_{F'} + W_{F,I} never saw F' and its implications
# together; if W_{F,I} installed an extraction structure rather than memorized answers, it predicts the
# implications of F'. Retention rows: base + W_F and base + W_F + W_{F,I} on the facts F.

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
from ocr_core.reporting.charts import grouped_bars
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lr, epochs, seeds, results = check_params(models=models, lr=lr, epochs=epochs, seeds=seeds, results=results)
records, table = per_model(grafting, grafting_table, models, lr=lr, epochs=epochs, seeds=seeds, results=results)

# %%
# NBVAL_CHECK_OUTPUT
cols = [*EVALS, "facts_F"]
for m, sub in table.groupby("model", sort=False):
    print(m)
    print(sub.set_index("weights")[cols].round(2).to_string())

# %%
main = table[table.weights.isin(["base+W_F'", "graft", "control"])]
long = pd.DataFrame([dict(model=r["model"], weights=r["weights"], eval_set=c, mean=r[c], sd=r[c + ".sd"])
                     for _, r in main.iterrows() for c in EVALS])
grouped_bars(long, x="eval_set", color="weights", row="model", title="Weight grafting: mean rank")

# %% [markdown]
# ## Verdict
#
# The paper's claim (rule in *Methods*, "Verdicts"): with W_{F,I} grafted, the implications of F' rank lower
# than on base + W_{F'} alone *and* lower than with the control graft W_I, paired over seeds and the 80 train
# names. The paper's own numbers are on the comparison page. Check the retention rows above too: if
# base + W_F + W_{F,I} no longer knows F, W_{F,I} partly overwrote the facts instead of learning to extract them.

# %%
# NBVAL_CHECK_OUTPUT
from ocr_core.reporting.verdicts import grafting_verdicts

for r in grafting_verdicts(records):
    without = r["graft - base+W_F'"]
    print(f"{r['model']}: {r['verdict']}. Graft on the F' implications {r['graft']}; against base + W_F' {without}; "
          f"against the control {r['graft - control']}; facts F' learned: {r['facts_F_prime']}")
