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
# # Beyond the paper: installing an extractive structure
#
# The paper's hypothesis is that extractive structures are *learned* when a model sees implications of facts
# it already knows. Does a model that draws few implications of new facts out of the box (see the OCR
# verification chapter for each model's verdict) draw more after seeing the implications of other subjects'
# facts? Here both models are given a structure-training stage with the
# paper's **real templates** on other subjects (first hop: 80 structure names, "NAME lives in" → city and
# "The people in the city NAME is from speak" → language; second hop: 30 structure cities outside the
# pool, "The mayor of CITY is" → NAME and "The mayor of the city that contains LANDMARK is" → NAME), in
# three orders (joint, facts first, implications first; *none* is the control), at each model's two-phase
# setting (as in data ordering). Then only the facts of 20 **fresh** subjects are finetuned, at the OCR
# verification setting (so *none* is the verification experiment on fresh subjects), and their implication
# rank is tracked. Fresh names share no first or last name with the structure names. Ranks: 0 = best,
# chance 9.5. Each seed is its own cached run; the time each takes is on the *Rerun it yourself* page.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None  # structure stage; None: each model's two-phase (fictional) setting, as in data ordering
epochs = None
ocr_lr = None  # fresh-subject OCR stage; None: each model's OCR-verification setting
ocr_epochs = None
seeds = [0, 1, 2]
results = "results"

# %%
import altair as alt
import pandas as pd

from ocr_core.experiments.base import per_model
from ocr_core.experiments.params import check_params
from ocr_core.experiments.structure_installation import installation, installation_table, score_peaks
from ocr_core.reporting.charts import Figure, rank_trajectories, score_heatmap
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox
from ocr_core.reporting.verdicts import installation_verdicts, ordering_verdicts

setup_notebook()
models, lr, epochs, ocr_lr, ocr_epochs, seeds, results = check_params(
    models=models, lr=lr, epochs=epochs, ocr_lr=ocr_lr, ocr_epochs=ocr_epochs, seeds=seeds, results=results
)
records, table = per_model(installation, installation_table, models, lr=lr, epochs=epochs, ocr_lr=ocr_lr,
                           ocr_epochs=ocr_epochs, seeds=seeds, results=results)
ranks = [r for r in records if r["record"] == "rank"]
frame = pd.DataFrame(ranks)
verdicts = []  # per (model, hop): the control (no structure stage) against before, then each order against it
for m in models:
    for hop in ("first_hop", "second_hop"):
        mine = [r for r in ranks if r["model"] == m and r["hop"] == hop]
        if not mine:
            continue
        none = next(r for r in ordering_verdicts(mine)["orders"] if r["order"] == "none")
        rows = table[(table.model == m) & (table.hop == hop)].set_index("order")
        verdicts.append(dict(model=m, hop=hop, order="none (control)", fresh_implications=none["after"],
                             against=f"before: {none['before']:.2f}", change=none["change"],
                             verdict=none["verdict"]))
        for v in installation_verdicts(mine):
            r = rows.loc[v["order"]]
            verdicts.append(dict(model=m, hop=hop, order=v["order"], fresh_implications=v["after"],
                                 against=f"none: {v['none']}", change=v["change"], verdict=v["verdict"],
                                 structure_facts=r["train_facts.after_structure"],
                                 fresh_facts=r["fresh_facts.after"]))

# %%
# NBVAL_CHECK_OUTPUT
VerdictBox([(f"{v['model']}, {v['hop'].replace('_', ' ')}, {v['order'].replace('_', ' ')}: fresh implications "
             f"{v['fresh_implications']} against {v['against']}", v["verdict"]) for v in verdicts],
           title="Verdict: does a structure stage make the fresh subjects' implications follow their facts? "
                 "(95% intervals)")

# %%
# NBVAL_CHECK_OUTPUT
cols = ["fresh_implications.before", "fresh_implications.after", "fresh_implications.after.sd",
        "fresh_facts.after", "train_facts.after_structure", "train_implications.after_structure"]
names = dict(zip(cols, ["fresh impl.: before", "fresh impl.: after", "sd", "fresh facts: after", "structure facts",
                         "structure impl."], strict=True))
shown = table[["model", "hop", "order", *cols]].rename(columns=names)
Table(shown.assign(hop=shown.hop.str.replace("_", " "), order=shown.order.str.replace("_", " ")),
      "Table 1. Fresh subjects' implication rank before and after their facts are trained (mean over seeds; "
      "sd), their fact rank, and the structure stage's own train facts and implications")

# %%
ocr = frame[(frame.stage == "ocr") & (frame.eval_set == "test_implications")]
Figure(rank_trajectories(ocr, color="order", column="hop", row="model", chance=9.5),
       "Figure 1. Fresh subjects' implications while only their facts are trained (line: mean over seeds; band: "
       "the seeds' range; dashed: chance)")

# %% [markdown]
# **Where is the structure?** Extractive scores of the fresh-subject OCR delta (first seed), computed on the
# model before installation (*none*) and after facts-first installation: the layer and token where each
# score peaks (MLPs), and the heatmaps of the downstream score.

# %%
# NBVAL_CHECK_OUTPUT
peaks = pd.concat([score_peaks([r for r in records if r["model"] == m]).assign(model=m) for m in models],
                  ignore_index=True)
Table(peaks[["model", "hop", "order", "score", "layer", "token", "top_half_layers"]],
      "Table 2. Where each score of the fresh-subject OCR delta peaks (MLPs, first seed)", digits=3)

# %%
scores = pd.DataFrame([r for r in records if r["record"] == "score"])
scores = scores[scores.seed == seeds[0]]
charts = [
    score_heatmap(scores[(scores.model == m) & (scores.hop == h) & (scores.order == o)], score="downstream",
                  title=f"{m}, {h.replace('_', ' ')}, {o.replace('_', ' ')}")
    for m in models for h in ("first_hop", "second_hop") for o in ("none", "facts_first")
]
Figure(alt.concat(*charts, columns=2).resolve_scale(color="independent"),
       "Figure 2. Downstream score of the fresh-subject OCR delta per layer and token (MLPs, first seed), "
       "without a structure stage and after facts-first installation; each panel has its own colour range, "
       "centred on 0")

# %% [markdown]
# ## Method and reading
#
# Rules of *Methods* ("Verdicts"), 95% intervals over seeds and the 20 fresh subjects. First the control: with
# no structure stage, do the fresh subjects' implications fall (OCR against the same subjects before their facts
# are trained)? Then each order against that control (the same subjects): *installs* if the fresh
# implications end lower, *weakens* if higher. "Structure facts" is the structure stage's own train-fact rank
# at its end and "fresh facts" the fresh subjects' fact rank at the end of the OCR stage (means over seeds):
# where either is far above 0 that stage did not learn its facts, and the test of that order is weak.

# %%
# NBVAL_CHECK_OUTPUT
Table(pd.DataFrame(verdicts), "Table 3. The control and each order against it, per model and hop",
      group=["model", "hop"])
