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
# # Is OCR tied to one wording? Paraphrases and another attribute
#
# The OCR verification asks each hop's implication with one template. A reader will ask whether the effect
# holds for another wording of the same question, or for another attribute of the same latent city. The same
# finetunes as in the verification (each hop's 20 facts, 5 seeds, the blocks only) are tested on three
# paraphrases per hop and, for the first hop, on the city's country. Per template: the implication rank of the
# untrained model and after the facts are trained, on the same items, and the OCR verdict (rule in *Methods*,
# "Verdicts"; 95% interval over seeds and the 20 items). Ranks: 0 = best, chance 9.5.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lr = None  # None: each model's OCR-verification setting (the finetunes are the verification's)
epochs = None
seeds = [0, 1, 2, 3, 4]  # the verification's: its original-template numbers are this chapter's "original" rows
results = "results"

# %%
import altair as alt
import pandas as pd

from ocr_core.experiments.base import per_model
from ocr_core.experiments.implication_robustness import robustness, robustness_table
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import Figure
from ocr_core.reporting.notebooks import setup_notebook
from ocr_core.reporting.tables import Table, VerdictBox
from ocr_core.reporting.verdicts import robustness_verdicts

setup_notebook()
models, lr, epochs, seeds, results = check_params(models=models, lr=lr, epochs=epochs, seeds=seeds, results=results)
records, _ = per_model(robustness, robustness_table, models, lr=lr, epochs=epochs, seeds=seeds, results=results)
table = pd.DataFrame(robustness_verdicts(records))
prompts = pd.DataFrame(records).drop_duplicates(["hop", "template"])[["hop", "template", "kind", "prompt"]]

# %%
# NBVAL_CHECK_OUTPUT
VerdictBox([(f"{r.model}, {r.hop.replace('_', ' ')}, {r.template}: {r.before:.2f} → {r.after}", r.verdict)
            for r in table.itertuples()], title="Verdict per template (OCR against the untrained model, 95% intervals)")

# %% [markdown]
# The templates (the first subject's prompt of each; *original* is the verification's):

# %%
Table(prompts, "Table 1. The implication templates")

# %% [markdown]
# ## Ranks per template

# %%
# NBVAL_CHECK_OUTPUT
Table(table[["model", "hop", "template", "kind", "verdict", "before", "after", "change", "seeds"]],
      "Table 2. Implication rank of the untrained model (before) and after the facts are trained (after, 95% "
      "interval), the paired change and the OCR verdict", group=["model", "hop"])

# %%
frame = pd.DataFrame(records)
long = pd.concat([frame.assign(when="untrained", rank=frame.before),
                  frame.assign(when="facts trained", rank=frame.after)])
long["panel"] = long.model + " · " + long.hop.str.replace("_", " ")
points = alt.Chart().mark_point(filled=True, size=60).encode(
    y=alt.Y("template:N", title=None, sort=list(dict.fromkeys(frame.template))),
    x=alt.X("mean(rank):Q", scale=alt.Scale(domain=[0, 19]), title="implication rank (mean over seeds; 0 = best)"),
    color=alt.Color("when:N", sort=["untrained", "facts trained"], legend=alt.Legend(orient="bottom")),
    tooltip=["model", "hop", "template", "when", alt.Tooltip("mean(rank):Q", format=".2f")],
)
chance = alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(x=alt.datum(9.5))
Figure(alt.layer(points, chance, data=long).properties(width=240, height=alt.Step(18)).facet(
    facet=alt.Facet("panel:N", title=None, sort=list(dict.fromkeys(long.panel))), columns=2
).resolve_scale(y="independent"),
       "Figure 1. Implication rank per template before and after the facts are trained (mean over seeds; dashed: "
       "chance; the axis spans every rank)")

# %% [markdown]
# **Reading.** Where the original template shows OCR and its paraphrases do too, the effect belongs to the
# new fact, not to one wording. A paraphrase that the untrained model already answers well (a low rank before
# training) cannot show a fall; the verdict compares each template with its own untrained rank.
#
# **A caveat of the design** (noticed after the first run; the templates were not changed): the *whose
# language* paraphrase begins with the trained fact's own words ("NAME lives in a city whose main language
# is"), so a fall there can come from completing the trained prompt rather than from reasoning through the
# latent city. The other paraphrases and the country question do not share the fact's prefix.
