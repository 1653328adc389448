"""Grafting localization: the components that W_{F,I} changes are the downstream components of new OCR.

The informative score of W_{F,I} on the train names' implications (at base + W_F), against the downstream
score of test-name OCR (the delta from finetuning test facts at base + W_F + W_{F,I}) on the test names'
implications, in two variants (records' `variant`):
- "points", as the paper computes it: one point per aligned template position x layer (x head), each score
  averaged over the items holding that position; the informative score over the first 20 train implications.
- "components", ours: one point per component (MLP, head), each score summed over positions and averaged over
  items; the informative score over all 80 train implications.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocr_core.data import fictional
from ocr_core.experiments.base import Settings, mean_sd, run_cached
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.scoring.scores import component_totals, extractive_scores, score_table, template

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: the paper's per-position points beside the per-component variant

EXPERIMENT = "grafting_localization"
PAPER_ITEMS = 20  # the paper's informative score: 20 train implications


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
    """Records: per seed, one row per component (`variant` "components") and one per aligned position x
    component ("points"), each with `informative_WFI` and `downstream_ocr`."""
    records = []
    for seed in seeds:
        data = fictional(seed)
        runs = FictionalRuns(model, tokenizer, data, model_name=model_name, settings=settings, progress=progress)
        w_f, w_fi = runs.w_f().delta, runs.w_fi().delta
        structure = w_f + w_fi
        ocr = runs.ocr("facts_first", structure).delta
        few = data.train_implications.subset(range(PAPER_ITEMS))
        with w_f.applied(model):
            info = extractive_scores(
                model, tokenizer, data.train_implications, w_fi, n_counterfactuals=n_counterfactuals, seed=seed
            )
            info_few = extractive_scores(model, tokenizer, few, w_fi, n_counterfactuals=n_counterfactuals, seed=seed)
        with structure.applied(model):
            down = extractive_scores(
                model, tokenizer, data.test_implications, ocr, n_counterfactuals=n_counterfactuals, seed=seed
            )
        common = dict(experiment=EXPERIMENT, model=model_name, seed=seed, **settings.kwargs())
        a = component_totals(info).query("score == 'informative'").set_index("component")
        b = component_totals(down).query("score == 'downstream'").set_index("component")
        for component, row in a.iterrows():
            records.append(
                dict(
                    variant="components",
                    component=component,
                    kind=row["kind"],
                    layer=int(row["layer"]),
                    head=int(row["head"]),
                    informative_WFI=float(row["value"]),
                    downstream_ocr=float(b.loc[component, "value"]),
                    **common,
                )
            )
        records += _points(
            score_table(info_few, template(tokenizer, few)).query("score == 'informative'"),
            score_table(down, template(tokenizer, data.test_implications)).query("score == 'downstream'"),
            common,
        )
    return records


def _aligned(table):
    """score_table rows with `position`: the slot's label without its index ("subject[-1]", "is"), numbered
    when a word repeats, so the same template position matches across sets whose subjects differ in length."""
    labels = list(dict.fromkeys(table.token))  # in slot order
    seen: dict[str, int] = {}
    name = {}
    for label in labels:
        word = label.split(":", 1)[-1]
        seen[word] = seen.get(word, 0) + 1
        name[label] = word if seen[word] == 1 else f"{word}#{seen[word]}"
    return table.assign(position=table.token.map(name))


def _points(informative, downstream, common: dict) -> list[dict]:
    """The paper's points: score_table rows of the two scores joined on (component, template position); a
    position only one set has (a longer subject) is left out."""
    keys = ["component", "kind", "layer", "head", "position"]
    informative, downstream = _aligned(informative), _aligned(downstream)
    joined = informative[[*keys, "value"]].merge(downstream[[*keys, "value"]], on=keys, suffixes=("_i", "_d"))
    return [
        dict(
            variant="points",
            component=r.component,
            kind=r.kind,
            layer=int(r.layer),
            head=int(r.head),
            token=r.position,
            informative_WFI=float(r.value_i),
            downstream_ocr=float(r.value_d),
            **common,
        )
        for r in joined.itertuples()
    ]


def r_squared(x: Sequence[float], y: Sequence[float]) -> float:
    """Squared Pearson correlation (0 when either side is constant)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def localization_table(records: list[dict]) -> list[dict]:
    """r^2 between informative(W_{F,I}) and downstream(OCR) per variant and kind: mean and sd over seeds."""
    rows = []
    for variant in VARIANTS:
        for kind in ("mlp", "head"):
            per_seed = []
            for seed in sorted({r["seed"] for r in records}):
                sub = [r for r in records if (r["seed"], r["kind"], variant_of(r)) == (seed, kind, variant)]
                if sub:
                    per_seed.append(r_squared([r["informative_WFI"] for r in sub], [r["downstream_ocr"] for r in sub]))
            if per_seed:
                r2, sd = mean_sd(per_seed)
                rows.append(dict(variant=variant, kind=kind, r2=r2, r2_sd=sd, n_seeds=len(per_seed)))
    return rows


VARIANTS = ("points", "components")  # the paper's first
VARIANT_WORDS = {"points": "per position and layer", "components": "per component"}


def paper_variant(rows: list[dict]) -> str:
    """The variant a claim is judged on: the paper's ("points") where `rows` have it, else the first variant they
    have (results of version 1 are per component only)."""
    return next((v for v in VARIANTS if any(variant_of(r) == v for r in rows)), VARIANTS[0])


def variant_of(record: dict) -> str:
    return record.get("variant", "components")  # version 1 records are per component


def localization(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds: Sequence[int] | None = None,
    n_counterfactuals=10,
    results="results",
    force=False,
    progress=True,
):
    seeds = resolve_seeds(seeds, EXPERIMENT)
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
