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
# three orders (joint, facts first, implications first; *none* is the control). Then only the facts of 20
# **fresh** subjects are finetuned, and their implication rank is tracked. Fresh names share no first or
# last name with the structure names. Ranks: 0 = best, chance 9.5.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None  # None: each model's two-phase (fictional) setting, as in data ordering
epochs = None
seeds = [0, 1, 2]
results = "results"

# %%
import altair as alt
import pandas as pd

from ocr_core.book import setup_notebook
from ocr_core.charts import rank_trajectories, score_heatmap
from ocr_core.experiments.installation import installation, installation_table, score_peaks
from ocr_core.summary import per_model

setup_notebook()
records, table = per_model(installation, installation_table, models, lr=lr, epochs=epochs, seeds=seeds,
                           results=results)
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
charts = [
    score_heatmap(scores[(scores.model == m) & (scores.hop == h) & (scores.order == o)], score="downstream",
                  title=f"{m}, {h}, {o}")
    for m in models for h in ("first_hop", "second_hop") for o in ("none", "facts_first")
]
alt.vconcat(*[alt.hconcat(*charts[i:i + 2]) for i in range(0, len(charts), 2)])

# %% [markdown]
# In words (rule as in the OCR chapter: *strong OCR* if the fresh implications end below 3.17, *partial* if
# they fell by at least one rank), per model, hop and order:

# %%
from ocr_core.compare import ocr_word

for _, r in table.iterrows():
    b, a = r["fresh_implications.before"], r["fresh_implications.after"]
    print(f"{r.model}, {r.hop}, {r.order}: fresh implications {b:.2f} -> {a:.2f} ({ocr_word(b, a)}); fresh facts "
          f"{r['fresh_facts.after']:.2f}; structure facts {r['train_facts.after_structure']:.2f}")
