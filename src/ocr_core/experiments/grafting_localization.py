"""Grafting localization: the components that W_{F,I} changes are the downstream components of new OCR.

Per component: the informative score of W_{F,I} on the train names' implications (at base + W_F), against the
downstream score of test-name OCR (the delta from finetuning test facts at base + W_F + W_{F,I}) on the test
names' implications. Scores are summed over positions and averaged over items; r^2 per kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr_core.data import fictional
from ocr_core.experiments.base import Settings, mean_sd, run_cached
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.scoring.scores import component_totals, extractive_scores

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 1

EXPERIMENT = "grafting_localization"


def run_localization(
    model,
    tokenizer,
    *,
    model_name: str,
    settings: Settings,
    seeds: Sequence[int] = (0,),
    n_counterfactuals: int = 10,
    progress: bool = True,
) -> list[dict]:
    """Records: one row per (seed, component) with `informative_WFI` and `downstream_ocr`."""
    records = []
    for seed in seeds:
        data = fictional(seed)
        runs = FictionalRuns(model, tokenizer, data, model_name=model_name, settings=settings, progress=progress)
        w_f, w_fi = runs.w_f().delta, runs.w_fi().delta
        structure = w_f + w_fi
        ocr = runs.ocr("facts_first", structure).delta
        with w_f.applied(model):
            info = extractive_scores(
                model, tokenizer, data.train_implications, w_fi, n_counterfactuals=n_counterfactuals, seed=seed
            )
        with structure.applied(model):
            down = extractive_scores(
                model, tokenizer, data.test_implications, ocr, n_counterfactuals=n_counterfactuals, seed=seed
            )
        a = component_totals(info).query("score == 'informative'").set_index("component")
        b = component_totals(down).query("score == 'downstream'").set_index("component")
        for component, row in a.iterrows():
            records.append(
                dict(
                    experiment=EXPERIMENT,
                    model=model_name,
                    seed=seed,
                    component=component,
                    kind=row["kind"],
                    layer=int(row["layer"]),
                    head=int(row["head"]),
                    informative_WFI=float(row["value"]),
                    downstream_ocr=float(b.loc[component, "value"]),
                    **settings.kwargs(),
                )
            )
    return records


def r_squared(x: Sequence[float], y: Sequence[float]) -> float:
    """Squared Pearson correlation (0 when either side is constant)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def localization_table(records: list[dict]) -> list[dict]:
    """r^2 between informative(W_{F,I}) and downstream(OCR) per kind: mean and sd over seeds."""
    rows = []
    for kind in ("mlp", "head"):
        per_seed = []
        for seed in sorted({r["seed"] for r in records}):
            sub = [r for r in records if r["seed"] == seed and r["kind"] == kind]
            per_seed.append(r_squared([r["informative_WFI"] for r in sub], [r["downstream_ocr"] for r in sub]))
        r2, sd = mean_sd(per_seed)
        rows.append(dict(kind=kind, r2=r2, r2_sd=sd, n_seeds=len(per_seed)))
    return rows


def localization(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds=(0, 1, 2),
    n_counterfactuals=10,
    results="results",
    force=False,
    progress=True,
):
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings, fictional=True)
    config = dict(**settings.kwargs(), seeds=list(seeds), n_counterfactuals=n_counterfactuals)
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_localization(
            m,
            t,
            model_name=model_name,
            settings=settings,
            seeds=seeds,
            n_counterfactuals=n_counterfactuals,
            progress=progress,
        ),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
