"""Data ordering: does an extractive structure form only when facts come before their implications?

Structure stage, on the train names of the fictional relations: `joint` (facts and implications shuffled
together), `facts_first` (facts, then implications), `implications_first` (implications, then facts), and
`none` (no structure training, a control). OCR stage: from each result, finetune only the test names' facts
and track the test names' implication rank per epoch. Retention of the train facts is logged in every phase.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr_core.data import fictional
from ocr_core.experiments.base import Settings, final_mean_sd, run_cached
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.training.deltas import Delta
from ocr_core.training.finetune import FinetuneResult

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: retention ranked at the ends of the OCR stage only; per-item ranks; the two-phase rule

EXPERIMENT = "data_ordering"
ORDERS = ("none", "joint", "facts_first", "implications_first")


def structure(runs: FictionalRuns, order: str) -> tuple[Delta, list[tuple[str, list[dict]]]]:
    """The structure-stage delta of an order and its phases' histories [(phase, history), ...]."""
    if order == "none":
        return Delta(), []
    if order == "joint":
        r = runs.w_j()
        return r.delta, [("joint", r.history)]
    if order == "facts_first":
        first, second = runs.w_f(), runs.w_fi()
        return first.delta + second.delta, [("facts", first.history), ("implications", second.history)]
    if order == "implications_first":
        first, second = runs.w_i(), runs.w_if()
        return first.delta + second.delta, [("implications", first.history), ("facts", second.history)]
    raise ValueError(f"unknown order {order!r}; choose from {ORDERS}")


def order_records(
    runs: FictionalRuns, order: str, settings: Settings, base: dict
) -> tuple[Delta, FinetuneResult, list[dict]]:
    """The structure stage of `order`, then the test-name OCR stage on top of it: the structure delta, the
    OCR finetune result and one row per (stage, phase, epoch, eval_set), each `base` plus stage, phase,
    epoch, step (epochs counted across phases, so trajectories run end to end), eval_set, mean_rank and the
    per-item ranks (`ranks`, in the eval set's item order)."""
    delta, phases = structure(runs, order)
    ocr = runs.ocr(order, delta)
    stages = [("structure", phase, history) for phase, history in phases] + [("ocr", "test_facts", ocr.history)]
    rows, offset = [], 0
    for stage, phase, history in stages:
        for row in history:
            rows.append(
                dict(
                    base,
                    stage=stage,
                    phase=phase,
                    epoch=row["epoch"],
                    step=offset + row["epoch"],
                    eval_set=row["eval_set"],
                    mean_rank=row["mean_rank"],
                    ranks=row["ranks"],
                )
            )
        offset += max(row["epoch"] for row in history)  # a phase may stop early (the two-phase rule)
    return delta, ocr, rows


def phase_starts(records: list[dict]) -> list[dict]:
    """Where each phase after the first starts on the end-to-end `step` axis: one row per (model, order, seed,
    stage, phase) with its first `step` (phases end at different epochs per seed: the two-phase rule)."""
    first: dict[tuple, int] = {}
    for r in records:
        key = (r["model"], r["order"], r["seed"], r["stage"], r["phase"])
        first[key] = min(first.get(key, r["step"]), r["step"])
    return [dict(model=k[0], order=k[1], seed=k[2], stage=k[3], phase=k[4], step=s) for k, s in first.items() if s > 0]


def run_ordering(
    model,
    tokenizer,
    *,
    model_name: str,
    settings: Settings,
    seeds: Sequence[int] = (0,),
    orders: Sequence[str] = ORDERS,
    progress: bool = True,
) -> list[dict]:
    """Records: one row per (seed, order, stage, phase, epoch, eval_set). `step` counts epochs across the
    structure phases and the OCR stage, so trajectories can be drawn end to end."""
    records = []
    for seed in seeds:
        runs = FictionalRuns(
            model, tokenizer, fictional(seed), model_name=model_name, settings=settings, progress=progress
        )
        for order in orders:
            base = dict(experiment=EXPERIMENT, model=model_name, seed=seed, order=order, **settings.kwargs())
            records += order_records(runs, order, settings, base)[2]
    return records


def ordering_table(records: list[dict]) -> list[dict]:
    """Final ranks per order (mean and sd over seeds): test implications before/after the OCR stage, test
    facts after it, train facts at the end of the structure stage and after the OCR stage."""

    rows = []
    for order in dict.fromkeys(r["order"] for r in records):
        row = dict(order=order)
        for label, args in [
            ("test_implications.before", ("ocr", "test_implications", "first")),
            ("test_implications.after", ("ocr", "test_implications", "last")),
            ("test_facts.after", ("ocr", "test_facts", "last")),
            ("train_facts.after_structure", ("structure", "train_facts", "last")),
            ("train_implications.after_structure", ("structure", "train_implications", "last")),
            ("train_facts.after_ocr", ("ocr", "train_facts", "last")),
        ]:
            stage, eval_set, which = args
            row[label], row[label + ".sd"] = final_mean_sd(records, which, order=order, stage=stage, eval_set=eval_set)
        rows.append(row)
    return rows


def ordering(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds: Sequence[int] | None = None,
    orders=ORDERS,
    results="results",
    force=False,
    progress=True,
):
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings, fictional=True)
    config = dict(**settings.kwargs(), seeds=list(seeds), orders=list(orders))
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_ordering(
            m, t, model_name=model_name, settings=settings, seeds=seeds, orders=orders, progress=progress
        ),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
