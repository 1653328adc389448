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
# it already knows. SmolLM2-135M learns new first-hop facts but draws none of their implications (OCR
# verification chapter); Gemma-3-270M draws them. Here both are given a structure-training stage with the
# paper's **real templates** on other subjects (first hop: 80 structure names, "NAME lives in" -> city and
# "The people in the city NAME is from speak" -> language; second hop: 30 structure cities outside the
# pool, "The mayor of CITY is" -> NAME and "The mayor of the city that contains LANDMARK is" -> NAME), in
# three orders (joint, facts first, implications first; *none* is the control), at each model's two-phase
# setting (as in data ordering). Then only the facts of 20 **fresh** subjects are finetuned, at the OCR
# verification setting (so *none* is the verification experiment on fresh subjects), and their implication
# rank is tracked. Fresh names share no first or last name with the structure names. Ranks: 0 = best,
# chance 9.5. Each seed is its own cached run (measured on 2 CPU cores: 13-19 min for SmolLM2-135M, 16-26 min
# for Gemma-3-270M, depending on the host).

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
from ocr_core.reporting.charts import rank_trajectories, score_heatmap
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lr, epochs, ocr_lr, ocr_epochs, seeds, results = check_params(
    models=models, lr=lr, epochs=epochs, ocr_lr=ocr_lr, ocr_epochs=ocr_epochs, seeds=seeds, results=results
)
records, table = per_model(installation, installation_table, models, lr=lr, epochs=epochs, ocr_lr=ocr_lr,
                           ocr_epochs=ocr_epochs, seeds=seeds, results=results)
frame = pd.DataFrame([r for r in records if r["record"] == "rank"])

# %% [markdown]
# Fresh subjects' implication rank before and after their facts are trained (mean over seeds, sd in the
# columns ending in .sd), their fact rank, and the structure stage's own train facts and implications.

# %%
# NBVAL_CHECK_OUTPUT
cols = ["fresh_implications.before", "fresh_implications.after", "fresh_implications.after.sd",
        "fresh_facts.after", "train_facts.after_structure", "train_implications.after_structure"]
for (m, hop), sub in table.groupby(["model", "hop"], sort=False):
    print(m, hop)
    print(sub.set_index("order")[cols].round(2).to_string())

# %%
ocr = frame[(frame.stage == "ocr") & (frame.eval_set == "test_implications")]
rank_trajectories(ocr, color="order", column="hop", row="model", chance=9.5,
                  title="Fresh subjects' implications while only their facts are trained")

# %% [markdown]
# **Where is the structure?** Extractive scores of the fresh-subject OCR delta (first seed), computed on the
# model before installation (*none*) and after facts-first installation: the layer and token where each
# score peaks (MLPs), and the heatmaps of the downstream score.

# %%
# NBVAL_CHECK_OUTPUT
peaks = pd.concat([score_peaks([r for r in records if r["model"] == m]).assign(model=m) for m in models],
                  ignore_index=True)
print(peaks[["model", "hop", "order", "score", "layer", "token", "top_half_layers"]].to_string(index=False))

# %%
scores = pd.DataFrame([r for r in records if r["record"] == "score"])
scores = scores[scores.seed == seeds[0]]
charts = [
    score_heatmap(scores[(scores.model == m) & (scores.hop == h) & (scores.order == o)], score="downstream",
                  title=f"{m}, {h}, {o}")
    for m in models for h in ("first_hop", "second_hop") for o in ("none", "facts_first")
]
alt.vconcat(*[alt.hconcat(*charts[i:i + 2]) for i in range(0, len(charts), 2)])

# %% [markdown]
# In words. The control *none* is the fresh-fact finetune with no structure stage (rule as in the OCR
# chapter: *strong OCR* if the fresh implications end below 3.17, *partial* if they fell by at least one
# rank). An order *installs OCR* if the fresh implications end at least one rank below the control in the
# mean **and** every seed ends below every control seed; *weakens OCR* is the mirror case. "Structure facts"
# is the structure stage's own train-fact rank at its end, "fresh facts" the fresh subjects' fact rank at the
# end of the OCR stage (means over seeds; per-seed implication ranks in brackets, seeds in order): above 1, that
# stage did not learn its facts, and the test of that order is weak.

# %%
# NBVAL_CHECK_OUTPUT
from ocr_core.reporting.compare import installation_verdicts, ocr_word

for _, r in table[table.order == "none"].iterrows():
    b, a = r["fresh_implications.before"], r["fresh_implications.after"]
    print(f"{r.model}, {r.hop}, no structure stage: fresh implications {b:.2f} -> {a:.2f} ({ocr_word(b, a)})")
def per_seed(values):
    return "/".join(f"{x:.2f}" for x in values)


for v in installation_verdicts(records):
    print(f"{v['model']}, {v['hop']}, {v['order']}: fresh implications {v['after']:.2f} ({per_seed(v['per_seed'])}) "
          f"vs {v['none_after']:.2f} ({per_seed(v['none_per_seed'])}) without structure: {v['verdict']}; "
          f"structure facts {v['structure_facts']:.2f}, fresh facts {v['fresh_facts']:.2f}")

# %% [markdown]
# ## Verdict (3 seeds)
#
# **First hop, SmolLM2-135M: a structure can be installed.** Out of the box it barely generalizes fresh
# subjects' facts (fresh implications 9.63 -> 7.93 with no structure stage). After training the facts *and*
# implications of 80 other subjects it draws the implications of 20 fresh subjects' facts: 3.38 after the
# joint stage, 3.70 after facts first, 5.67 after implications first, every seed below every control seed.
# Every order helps; joint and facts first about equally (their seed ranges overlap), implications first
# least. So the paper's prediction that the structure needs facts *before* their implications does not hold
# here (as in the data-ordering chapter on SmolLM2).
#
# **First hop, Gemma-3-270M: no clear effect.** It already has the structure (1.27 with no structure stage).
# Facts first takes it to 0.22 (0.55, 0.05, 0.05), a mean gain of 1.05 ranks, but seed 0 only ties the best
# control seed (0.55), so by the stated rule it is not an installation. Joint (0.00, 0.00, 8.00) and
# implications first (0.85, 0.80, 8.70) help in two seeds and break in the third: in seed 2 the joint
# structure stage did not learn its own facts (rank 5.11) and after implications first the OCR stage did not
# learn the fresh facts (8.55). At Gemma's two-phase learning rate (2e-4) the structure stage is unstable.
#
# **Second hop: no installation.** The structure stage mostly does not learn its own second-hop facts at the
# two-phase setting ("structure facts" 1.5 to 11.6), and on Gemma-3-270M every order leaves its out-of-the-box
# second-hop OCR weaker (5.13 -> 7.4 to 8.1; joint and facts first in every seed); on SmolLM2-135M no order
# helps. This is a weak test: a longer structure stage, until its own facts are learned, is the next
# experiment.
#
# **Where the structure appears** (seed 0, MLPs): after facts-first installation Gemma's downstream score moves
# from layer 14 on "speak" to layer 3 on the subject's last token (first hop), and from layer 12 on "is" to
# layer 3 on the subject's last token (second hop). SmolLM2's first-hop peaks stay where they were (informative
# at layer 0, downstream at layer 29 on "speak"), but its downstream mass spreads into early layers (2 to 9).
#
# **How firm these numbers are.** Same seed on the same machine gives identical numbers. On another host CPU
# the control (*none*) reproduced to within 0.05 ranks, but single-seed results after a structure stage moved by
# up to 1.3 ranks (SmolLM2) and 2.3 ranks (Gemma, second hop): floating-point differences grow through the
# longer, higher-lr structure stage. Differences smaller than the seed spread are noise. The paper studied
# 7-9B models and did not run this experiment.
