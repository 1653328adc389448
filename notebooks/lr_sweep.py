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
# # Choosing the learning rate: do facts survive the implication phase?
#
# The paper's 3e-6 is for 7B models. Data ordering and weight grafting need a two-phase finetune on the fictional
# relations: facts F of the train names ($W_F$), then their implications on top ($W_{F,I}$). Both phases must work
# *and* the facts must survive the second phase, or facts-first ordering and grafting are confounded by forgetting.
# The book's two-phase rule, fixed before any OCR result of these experiments was read: **each phase trains until
# its own items are learned** (mean rank of the set it trains on at most 0.5 after an epoch), at most `max_epochs`
# epochs (a parameter, 15 by default); the learning rate is the one at which both phases learn their items and the
# facts survive the implication phase best (`choose_lr`). For each learning rate, training the blocks only (the
# book's default): the epochs each phase took, the train facts' rank after $W_F$, the train implications' rank after
# $W_{F,I}$, and what is left of the facts after $W_{F,I}$. Seed 0, 80 train names.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lrs = [1e-4, 2e-4, 3e-4]
max_epochs = 15  # each phase trains until its items are learned, at most this many epochs
seed = 0
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.lr_sweep import choose_lr, lr_sweep, sweep_table
from ocr_core.experiments.params import check_params
from ocr_core.experiments.settings import UNTIL, Settings
from ocr_core.reporting.charts import Figure, rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox

setup_notebook()
models, lrs, max_epochs, seed, results = check_params(models=models, lrs=lrs, max_epochs=max_epochs, seed=seed,
                                                      results=results)
records, tables = [], []
for m in models:
    run = lr_sweep(m, lrs=lrs, max_epochs=max_epochs, seed=seed, results=results, progress=False)
    records += run.records()
    tables.append(pd.DataFrame(sweep_table(run.records())).assign(model=m))
frame = pd.DataFrame(records)
table = pd.concat(tables, ignore_index=True)

# %%
# NBVAL_CHECK_OUTPUT
columns = ["model", "lr", "epochs_W_F", "facts_after_W_F", "epochs_W_FI", "implications_after_W_FI",
           "facts_after_W_FI"]
words = {"epochs_W_F": "epochs of W_F", "facts_after_W_F": "facts after W_F", "epochs_W_FI": "epochs of W_FI",
         "implications_after_W_FI": "implications after W_FI", "facts_after_W_FI": "facts after W_FI"}
Table(table[columns].assign(lr=table.lr.map("{:g}".format)).rename(columns=words),
      "Table 1. Per learning rate: the epochs each phase trained and the mean ranks at each phase's end")

# %%
ends = frame[frame.phase == "W_F"].groupby(["model", "lr"]).epoch.max().rename("offset")
frame = frame.join(ends, on=["model", "lr"])
frame["epochs"] = frame["epoch"] + (frame["phase"] == "W_FI") * frame["offset"]
frame["lr"] = frame["lr"].map("lr {:g}".format)
starts = ends.reset_index().assign(lr=lambda f: f["lr"].map("lr {:g}".format)).rename(columns={"offset": "epochs"})
Figure(rank_trajectories(frame, x="epochs", color="eval_set", column="lr", row="model", chance=9.5,
                         x_title="epoch (both phases)", marks=starts),
       "Figure 1. W_F until the facts are learned, then W_FI on top: train facts and implications after each "
       "epoch, counted across both phases (seed 0; dashed: chance; dotted vertical: where W_FI starts)")

# %% [markdown]
# ## The rule's choice
#
# Per model: the learning rate the rule picks from this sweep, and the one the two-phase chapters use (the
# model's preset). Where they differ, or no rate learns both phases, the two-phase chapters say so.

# %%
# NBVAL_CHECK_OUTPUT
choice = []
for m, sub in table.groupby("model", sort=False):
    chosen = choose_lr(sub.to_dict("records"), UNTIL)
    kept = sub.set_index("lr").facts_after_W_FI
    choice.append(dict(model=m, rule="no lr learns both phases" if chosen is None else f"{chosen:g}",
                       facts_after_W_FI=None if chosen is None else kept[chosen],
                       two_phase_chapters=f"{Settings.for_model(m, fictional=True).lr:g}"))
Table(pd.DataFrame(choice).rename(columns=dict(facts_after_W_FI="facts after W_FI", two_phase_chapters="two-phase "
                                                "chapters' lr")),
      "Table 2. The rule's learning rate per model, and the one the two-phase chapters use")

# %% [markdown]
# **Do the facts survive?** At the rule's rate, the train facts' mean rank after $W_F$ and after $W_{F,I}$ on
# top. Read on one seed and one run per rate (no interval): *kept* if the facts are still learned after
# $W_{F,I}$ (the rule's threshold), *partly forgotten* if they rose above it but stay below chance, *forgotten*
# at or above chance. Facts-first ordering and grafting read the facts after $W_{F,I}$: the more is forgotten,
# the less those chapters can show.

# %%
# NBVAL_CHECK_OUTPUT
def survival(after: float) -> str:
    return "kept" if after <= UNTIL else "partly forgotten" if after < 9.5 else "forgotten"


lines = []
for c in choice:
    if c["facts_after_W_FI"] is None:
        lines.append((f"{c['model']}: no rate learns both phases", "not testable"))
        continue
    row = table[(table.model == c["model"]) & (table.lr == float(c["rule"]))].round(2).iloc[0]  # as Table 1
    lines.append((f"{c['model']}, lr {c['rule']}: train facts {row.facts_after_W_F:.2f} after W_F → "
                  f"{row.facts_after_W_FI:.2f} after W_FI", survival(row.facts_after_W_FI)))
VerdictBox(lines, title="Do the facts survive the implication phase? (seed 0, one run per rate: no interval)")
