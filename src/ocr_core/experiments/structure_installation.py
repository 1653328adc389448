"""Installing an extractive structure: train a model on facts and implications of *other* subjects, with the
paper's real templates, then test OCR on fresh subjects.

The paper's hypothesis: extractive structures are learned when a model sees implications of facts it
already knows. Data ordering tests it on the fictional dax/zong relations; here the relations are the real
ones (city -> language, landmark -> city), so a model that has no OCR out of the box (SmolLM2-135M) can be
given the implications it fails to draw, and a model that has it (Gemma-3-270M) can be asked whether more of
the same strengthens it.

  first hop:  structure names (80) "NAME lives in" -> city, "The people in the city NAME is from speak" ->
              language; 20 fresh test names, each living in one of the 20 pool cities.
  second hop: structure cities (30, outside the pool) "The mayor of CITY is" -> NAME, "The mayor of the city
              that contains LANDMARK is" -> NAME; the 20 pool cities get fresh mayors for the test.

Structure stage, as in data ordering (at the two-phase settings): none / joint / facts_first /
implications_first. OCR stage: finetune only the fresh subjects' facts on top, at the OCR-verification
settings (so order none is that experiment on fresh subjects), and track their implication rank. Scores: the
extractive scores of the fresh-subject OCR delta, computed on base + structure delta, before installation
(order none) and after it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ocr_core.data import Dataset, Example, check_clean_split, cities, city_pool, names
from ocr_core.data.datasets import (
    FIRST_HOP_FACT,
    FIRST_HOP_IMPLICATION,
    SECOND_HOP_FACT,
    SECOND_HOP_IMPLICATION,
)
from ocr_core.data.tables import DEFAULT_POOL
from ocr_core.experiments.base import SeedRuns, Settings, final_mean_sd, run_cached
from ocr_core.experiments.data_ordering import ORDERS, order_records
from ocr_core.experiments.fictional import FictionalRuns, structure_eval_sets
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.scoring.scores import extractive_scores, peak, score_table, template

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: the structure stage's retention ranked at its ends only; scores for the first seed only;
# rank rows carry the per-item ranks

EXPERIMENT = "structure_installation"
HOPS = ("first_hop", "second_hop")


@dataclass(frozen=True)
class InstallationData:
    """Structure-training facts and implications, and the fresh test subjects' facts and implications (the
    fields `FictionalRuns` uses)."""

    hop: str
    train_facts: Dataset
    train_implications: Dataset
    test_facts: Dataset
    test_implications: Dataset
    seed: int


def installation_data(hop: str, seed: int = 0, n_train_names: int = 80, n_test: int = 20) -> InstallationData:
    """Seeded structure/test split with the real templates; no name part is shared between the splits."""
    rng = random.Random(f"installation:{hop}:{seed}")
    pool = city_pool(DEFAULT_POOL)
    if hop == "first_hop":
        people = rng.sample(list(names()), n_train_names + n_test)
        test, train = people[:n_test], people[n_test:]
        check_clean_split(train, test)
        slots = [pool[i % len(pool)] for i in range(len(train))]
        rng.shuffle(slots)
        test_cities = rng.sample(list(pool), n_test)

        def sets(tag, who, where):
            facts = [Example(FIRST_HOP_FACT.format(name=p), c.city, str(p)) for p, c in zip(who, where, strict=True)]
            impls = [
                Example(FIRST_HOP_IMPLICATION.format(name=p), c.language, str(p))
                for p, c in zip(who, where, strict=True)
            ]
            return (
                Dataset(f"installation.first_hop.{tag}.facts", tuple(facts), tuple(c.city for c in pool)),
                Dataset(f"installation.first_hop.{tag}.implications", tuple(impls), tuple(c.language for c in pool)),
            )

        return InstallationData(hop, *sets("train", train, slots), *sets("test", test, test_cities), seed)
    if hop == "second_hop":
        others = [c for c in cities() if c.city not in DEFAULT_POOL]
        mayors = rng.sample(list(names()), len(others) + n_test)
        test, train = mayors[:n_test], mayors[n_test:]
        check_clean_split(train, test)
        test_cities = rng.sample(list(pool), n_test)

        def sets(tag, where, who):
            pairs = list(zip(where, (str(m) for m in who), strict=True))
            facts = [Example(SECOND_HOP_FACT.format(city=c.city), m, c.city) for c, m in pairs]
            impls = [Example(SECOND_HOP_IMPLICATION.format(landmark=c.landmark), m, c.city) for c, m in pairs]
            options = tuple(m for _, m in pairs)
            return (
                Dataset(f"installation.second_hop.{tag}.facts", tuple(facts), options),
                Dataset(f"installation.second_hop.{tag}.implications", tuple(impls), options),
            )

        return InstallationData(hop, *sets("train", others, train), *sets("test", test_cities, test), seed)
    raise ValueError(f"unknown hop {hop!r}; choose from {HOPS}")


class InstallationRuns(FictionalRuns):
    """FictionalRuns on the installation data, with the OCR stage at its own settings (`ocr_settings`: the
    OCR-verification setting, so order *none* is the verification experiment on fresh subjects). With
    `cache=False` the finetunes skip the on-disk delta cache: this experiment's deltas are shared with no other
    experiment, and 9 per hop and seed (1 GB each for Gemma) would fill a disk. Same finetune calls, same
    numbers; a rerun retrains (finished results are still reused)."""

    def __init__(self, *args, ocr_settings: Settings, cache: bool = False, **kwargs):
        super().__init__(*args, cache=cache, **kwargs)
        self.ocr_settings = ocr_settings

    def settings_for(self, key: str) -> Settings:
        return self.ocr_settings if key.startswith("OCR") else self.settings

    def end_eval_sets(self, key: str) -> tuple[str, ...]:
        """Only the OCR stage's fresh-subject ranks are charted epoch by epoch; the structure stage's own train
        facts and implications are read at its end (except what its stopping rule reads every epoch)."""
        return tuple(s for s in structure_eval_sets(self.data) if s not in self.until_sets(key))


def run_installation(
    model,
    tokenizer,
    *,
    model_name: str,
    settings: Settings,
    ocr_settings: Settings | None = None,
    seeds: Sequence[int] = (0,),
    hops: Sequence[str] = HOPS,
    orders: Sequence[str] = ORDERS,
    score_orders: Sequence[str] = ("none", "facts_first"),
    score_seeds: Sequence[int] | None = None,
    n_counterfactuals: int = 10,
    cache_deltas: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Records of two kinds: `record="rank"` rows as in data ordering (seed, hop, order, stage, phase, epoch,
    step, eval_set, mean_rank), and `record="score"` rows (seed, hop, order, score, kind, layer, slot, token,
    value; heads summed per layer) for the fresh-subject OCR delta after each of `score_orders`, for the seeds in
    `score_seeds` (None: every seed)."""
    records = []
    for seed in seeds:
        for hop in hops:
            data = installation_data(hop, seed)
            runs = InstallationRuns(
                model,
                tokenizer,
                data,
                model_name=model_name,
                settings=settings,
                ocr_settings=ocr_settings or settings,
                cache=cache_deltas,
                progress=progress,
                tag=f"{model_name} {hop} seed {seed}",
            )
            base = dict(
                experiment=EXPERIMENT,
                model=model_name,
                seed=seed,
                hop=hop,
                **settings.kwargs(),
                **{f"ocr_{k}": v for k, v in (ocr_settings or settings).kwargs().items()},
            )
            for order in orders:
                delta, ocr, rows = order_records(runs, order, settings, dict(base, record="rank", order=order))
                records += rows
                if order in score_orders and (score_seeds is None or seed in score_seeds):
                    with delta.applied(model):
                        raw = extractive_scores(
                            model,
                            tokenizer,
                            data.test_implications,
                            ocr.delta,
                            n_counterfactuals=n_counterfactuals,
                            seed=seed,
                        )
                    table = layer_scores(score_table(raw, template(tokenizer, data.test_implications)))
                    for row in table.to_dict("records"):
                        records.append(dict(base, record="score", order=order, **row))
                del delta, ocr
                runs.forget()  # the orders share no finetune: each order's deltas are freed before the next
    return records


def layer_scores(table: pd.DataFrame) -> pd.DataFrame:
    """A score table with the heads summed per layer (kind "head", head -1): what the heatmaps show."""
    keys = ["score", "kind", "layer", "slot", "token"]
    summed = table.groupby(keys, sort=False, as_index=False)["value"].sum()
    return summed.assign(component=summed.kind + "." + summed.layer.astype(str), head=-1)


def installation_table(records: list[dict]) -> list[dict]:
    """Per (hop, order), mean and sd over seeds: the fresh subjects' implication rank before and after their
    facts are trained, their fact rank after, and the structure stage's train facts and implications."""
    ranks = [r for r in records if r["record"] == "rank"]

    rows = []
    for hop, order in dict.fromkeys((r["hop"], r["order"]) for r in ranks):
        row = dict(hop=hop, order=order, seeds=len({r["seed"] for r in ranks}))
        for label, args in [
            ("fresh_implications.before", ("ocr", "test_implications", "first")),
            ("fresh_implications.after", ("ocr", "test_implications", "last")),
            ("fresh_facts.after", ("ocr", "test_facts", "last")),
            ("train_facts.after_structure", ("structure", "train_facts", "last")),
            ("train_implications.after_structure", ("structure", "train_implications", "last")),
        ]:
            stage, eval_set, which = args
            match = dict(hop=hop, order=order, stage=stage, eval_set=eval_set)
            row[label], row[label + ".sd"] = final_mean_sd(ranks, which, **match)
        rows.append(row)
    return rows


def score_peaks(records: list[dict]) -> pd.DataFrame:
    """Where each score peaks (MLP layer and token) per hop and order, first seed: did installation move the
    structure?"""
    table = pd.DataFrame([r for r in records if r["record"] == "score"])
    if table.empty:
        return table
    table = table[table.seed == table.seed.min()]
    rows = []
    for (hop, order), sub in table.groupby(["hop", "order"], sort=False):
        for score in ("informative", "upstream", "downstream"):
            rows.append(dict(hop=hop, order=order, **peak(sub, score, "mlp")))
    return pd.DataFrame(rows)


def installation(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    ocr_lr=None,
    ocr_epochs=None,
    seeds: Sequence[int] | None = None,
    hops=HOPS,
    orders=ORDERS,
    results="results",
    force=False,
    progress=True,
) -> SeedRuns:
    """Run (or reuse) the installation experiment for one model: the structure stage at the model's two-phase
    (fictional) settings (`lr`, `epochs`), the fresh-subject OCR stage at its OCR-verification settings
    (`ocr_lr`, `ocr_epochs`; defaults as in `verify`). Each seed is its own cached run, so an interrupted
    sweep over seeds resumes at the first unfinished seed. Extractive scores are computed for the first seed only
    (the chapter reads no other: they cost as much as a structure stage)."""
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings, fictional=True)
    ocr_settings = Settings.for_model(model_name, ocr_lr, ocr_epochs, batch_size, embeddings)
    runs = []
    for seed in seeds:
        scored = seed == seeds[0]
        config = dict(**settings.kwargs(), ocr=ocr_settings.kwargs(), seed=seed, hops=list(hops), orders=list(orders))
        config["scores"] = scored
        runs.append(
            run_cached(
                EXPERIMENT,
                model_name,
                config,
                lambda m, t, seed=seed, scored=scored: run_installation(
                    m,
                    t,
                    model_name=model_name,
                    settings=settings,
                    ocr_settings=ocr_settings,
                    seeds=(seed,),
                    hops=hops,
                    orders=orders,
                    score_seeds=(seed,) if scored else (),
                    progress=progress,
                ),
                module=__name__,
                results=results,
                force=force,
                progress=progress,
            )
        )
    return SeedRuns(tuple(runs))
