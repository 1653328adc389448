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
from IPython.display import display

from ocr_core.experiments.base import per_model
from ocr_core.experiments.data_ordering import ordering, ordering_table, phase_starts
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import Figure, rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox, label
from ocr_core.reporting.verdicts import ordering_verdicts

setup_notebook()
models, lr, epochs, seeds, results = check_params(models=models, lr=lr, epochs=epochs, seeds=seeds, results=results)
records, table = per_model(ordering, ordering_table, models, lr=lr, epochs=epochs, seeds=seeds, results=results)
frame = pd.DataFrame(records)
found = {m: ordering_verdicts([r for r in records if r["model"] == m]) for m in models}

# %%
# NBVAL_CHECK_OUTPUT
lines = []
for m, f in found.items():
    lines += [(f"{m}, {r['order'].replace('_', ' ')}: test implications {r['before']:.2f} → {r['after']}",
               r["verdict"]) for r in f["orders"]]
    if f["ordering"]:
        lines.append((f"{m}: facts first ends below implications first and below no structure stage",
                      f["ordering"]["verdict"]))
VerdictBox(lines, title="Verdict: do test names show OCR after each order, and does facts first help most? "
                        "(95% intervals)")

# %%
# NBVAL_CHECK_OUTPUT
cols = ["test_implications.before", "test_implications.after", "test_facts.after",
        "train_facts.after_structure", "train_implications.after_structure", "train_facts.after_ocr"]
names = {c: label(c) for c in cols}
Table(table[["model", "order", *cols]].rename(columns=names),
      "Table 1. Final mean ranks (mean over seeds): test names before and after the OCR stage, and the train "
      "names' retention after each stage")

# %%
ocr = frame[(frame.stage == "ocr") & frame.eval_set.isin(["test_implications", "test_facts"])]
Figure(rank_trajectories(ocr, color="order", column="eval_set", row="model", chance=9.5),
       "Figure 1. OCR stage: the test names' ranks while only their facts are trained (line: mean over seeds; "
       "band: the seeds' range; dashed: chance)")

# %%
structure = frame[frame.eval_set.isin(["train_facts", "train_implications"])]
Figure(rank_trajectories(structure, x="step", color="eval_set", column="order", row="model", chance=9.5,
                         x_title="epochs, all phases end to end", marks=pd.DataFrame(phase_starts(records))),
       "Figure 2. Every phase, end to end: the train names' facts and implications (line: mean over seeds; "
       "band: the seeds' range; dashed: chance; dotted verticals: where a seed's next phase starts). Phases end "
       "at different epochs per seed (the two-phase rule), so past the first dotted line the mean mixes phases: "
       "pick a seed under the chart to follow one run")

# %% [markdown]
# ## Method and reading
#
# Rules of *Methods* ("Verdicts"), 95% intervals over seeds and the 20 test names. Per order: the test names'
# implication rank at the end of the OCR stage against its start (the same names), and the OCR verdict. Then
# the paper's prediction: facts first ends lower than implications first *and* lower than no structure stage.
# Read it with the retention columns of Table 1: an order whose structure stage lost the facts tests little.

# %%
# NBVAL_CHECK_OUTPUT
display(Table(pd.DataFrame([dict(model=m, **r) for m, f in found.items() for r in f["orders"]]),
              "Table 2. Per order: the test names' implication rank before and after their facts are trained"))
contrasts = [dict(model=m, **f["ordering"]) for m, f in found.items() if f["ordering"]]
if contrasts:
    display(Table(pd.DataFrame(contrasts), "Table 3. The paper's ordering prediction and its two contrasts"))
