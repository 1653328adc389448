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
# # Data ordering: facts before implications?
#
# Fictional relations: "NAME dax is" → city (facts), "NAME zong is the" → the animal of that city
# (implications). On the 80 train names the model is trained *joint* (shuffled together), *facts first*,
# *implications first*, or not at all (*none*). Then only the **facts** of 20 held-out test names (sharing
# no first or last name with the train names) are finetuned, and the test names' implication rank is
# tracked. The paper predicts OCR on test names only after facts-first (partly after joint) training.
# Retention of the train facts is logged through every phase, because a phase can erase the previous one.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None
epochs = None
seeds = [0, 1, 2]
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.base import per_model
from ocr_core.experiments.data_ordering import ordering, ordering_table
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lr, epochs, seeds, results = check_params(models=models, lr=lr, epochs=epochs, seeds=seeds, results=results)
records, table = per_model(ordering, ordering_table, models, lr=lr, epochs=epochs, seeds=seeds, results=results)
frame = pd.DataFrame(records)

# %% [markdown]
# Final mean ranks (mean over seeds): test implications before and after the OCR stage, test facts after
# it, and the train facts after the structure stage and after the OCR stage (retention).

# %%
# NBVAL_CHECK_OUTPUT
cols = ["test_implications.before", "test_implications.after", "test_facts.after",
        "train_facts.after_structure", "train_implications.after_structure", "train_facts.after_ocr"]
for m, sub in table.groupby("model", sort=False):
    print(m)
    print(sub.set_index("order")[cols].round(2).to_string())

# %%
ocr = frame[(frame.stage == "ocr") & frame.eval_set.isin(["test_implications", "test_facts"])]
rank_trajectories(ocr, color="order", column="eval_set", row="model", chance=9.5,
                  title="OCR stage: test names' ranks while only their facts are trained")

# %%
structure = frame[frame.eval_set.isin(["train_facts", "train_implications"])]
rank_trajectories(structure, x="step", color="eval_set", column="order", row="model", chance=9.5,
                  title="Every phase, end to end: train facts and implications (retention)")

# %% [markdown]
# ## Verdict
#
# Rules of *Methods* ("Verdicts"), 95% intervals over seeds and the 20 test names. Per order: the test names'
# implication rank at the end of the OCR stage against its start (the same names), and the OCR verdict. Then
# the paper's prediction: facts first ends lower than implications first *and* lower than no structure stage.
# Read it with the retention columns above: an order whose structure stage lost the facts tests little.

# %%
# NBVAL_CHECK_OUTPUT
from ocr_core.reporting.verdicts import ordering_verdicts

for m in models:
    found = ordering_verdicts([r for r in records if r["model"] == m])
    print(m)
    for r in found["orders"]:
        print(f"  {r['order']}: test implications {r['before']:.2f} -> {r['after']}, change {r['change']}: "
              f"{r['verdict']}")
    o = found["ordering"]
    print(f"  ordering prediction: {o['verdict']} (facts first - implications first "
          f"{o['facts_first - implications_first']}; facts first - none {o['facts_first - none']})")
