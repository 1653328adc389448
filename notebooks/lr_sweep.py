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
# The paper's 3e-6 is for 7B models. Data ordering and weight grafting need a two-phase finetune on the
# fictional relations: facts F of the train names (W_F), then their implications on top (W_{F,I}). Both
# phases must work *and* the facts must survive the second phase, or facts-first ordering and grafting
# are confounded by forgetting. For each learning rate, with the embedding matrices trained or frozen: the
# train facts' rank after W_F, the train implications' rank after W_{F,I}, and what is left of the facts
# after W_{F,I}. Seed 0, 80 train names, 5 epochs per phase.

# %% tags=["parameters"]
models = ["gemma-3-270m", "smollm2-135m"]
lrs = [1e-4, 2e-4, 3e-4]
frozen_lrs = [1e-4, 3e-4]  # a second sweep with the input embedding and output layer frozen ...
frozen_models = ["gemma-3-270m"]  # ... for these models
epochs = 5
seed = 0
results = "results"

# %%
import pandas as pd

from ocr_core.experiments.lr_sweep import lr_sweep, sweep_table
from ocr_core.experiments.params import check_params
from ocr_core.reporting.charts import rank_trajectories
from ocr_core.reporting.notebooks import setup_notebook

setup_notebook()
models, lrs, frozen_lrs, frozen_models, epochs, seed, results = check_params(
    models=models, lrs=lrs, frozen_lrs=frozen_lrs, frozen_models=frozen_models, epochs=epochs, seed=seed,
    results=results,
)
records, tables = [], []
sweeps = [(m, "train", lrs) for m in models] + [(m, "freeze", frozen_lrs) for m in models if m in frozen_models]
for m, e, grid in sweeps:
    run = lr_sweep(m, lrs=grid, epochs=epochs, embeddings=e == "train", seed=seed, results=results, progress=False)
    records += [dict(r, embeddings=e) for r in run.records()]
    tables.append(pd.DataFrame(sweep_table(run.records())).assign(model=m, embeddings=e))
frame = pd.DataFrame(records)
table = pd.concat(tables, ignore_index=True)

# %%
# NBVAL_CHECK_OUTPUT
print(table[["model", "embeddings", "lr", "facts_after_W_F", "implications_after_W_FI", "facts_after_W_FI"]]
      .round(2).to_string(index=False))

# %%
frame["step"] = frame["epoch"] + (frame["phase"] == "W_FI") * epochs
frame["setting"] = frame["model"] + ", embeddings " + frame["embeddings"]
rank_trajectories(frame.assign(lr=frame["lr"].map("lr {:g}".format)), x="step", color="eval_set", column="lr",
                  row="setting", chance=9.5, title=f"W_F (epochs 0-{epochs}), then W_{{F,I}} on top")
