"""A small learning-rate sweep on the fictional relations, recorded, to choose an embedded model's defaults.

For each learning rate: W_F (train facts), then W_{F,I} (train implications on top of W_F), each phase under the
two-phase rule (`settings.UNTIL`, `settings.MAX_EPOCHS`: until its own items are learned, with a cap), logging
how well the facts are learned, how well the implications are learned, and how much of the facts survive the
implication phase (facts-first ordering and grafting need facts that survive). `choose_lr` is the rule that
reads the sweep, written before it was run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ocr_core.data import fictional
from ocr_core.experiments.base import Settings, run_cached
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.experiments.settings import MAX_EPOCHS

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: each phase under the two-phase rule (until learned, capped)

EXPERIMENT = "lr_sweep"


def run_lr_sweep(
    model,
    tokenizer,
    *,
    model_name: str,
    lrs: Sequence[float],
    max_epochs: int = MAX_EPOCHS,
    batch_size: int = 8,
    embeddings: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> list[dict]:
    records = []
    shared = Settings.for_model(model_name, fictional=True)  # its deltas are data ordering's (seed 0): cached
    for lr in lrs:
        settings = replace(shared, lr=lr, max_epochs=max_epochs, batch_size=batch_size, embeddings=embeddings)
        runs = FictionalRuns(
            model,
            tokenizer,
            fictional(seed),
            model_name=model_name,
            settings=settings,
            progress=progress,
            cache=settings == shared,
        )
        for phase, result in (("W_F", runs.w_f()), ("W_FI", runs.w_fi())):
            for row in result.history:
                records.append(
                    dict(
                        experiment=EXPERIMENT,
                        model=model_name,
                        seed=seed,
                        lr=lr,
                        max_epochs=max_epochs,
                        until=settings.until,
                        embeddings=embeddings,
                        phase=phase,
                        epoch=row["epoch"],
                        eval_set=row["eval_set"],
                        mean_rank=row["mean_rank"],
                        seconds=round(result.seconds, 1),
                    )
                )
    return records


def sweep_table(records: list[dict]) -> list[dict]:
    """Per lr: the epochs each phase trained, train facts after W_F, train implications after W_{F,I}, facts
    left after W_{F,I}."""
    rows = []
    for lr in dict.fromkeys(r["lr"] for r in records):

        def last(phase, eval_set, lr=lr):
            sub = [r for r in records if (r["lr"], r["phase"], r["eval_set"]) == (lr, phase, eval_set)]
            return max(sub, key=lambda r: r["epoch"])["mean_rank"]

        def epochs(phase, lr=lr):
            return max(r["epoch"] for r in records if (r["lr"], r["phase"]) == (lr, phase))

        rows.append(
            dict(
                lr=lr,
                epochs_W_F=epochs("W_F"),
                epochs_W_FI=epochs("W_FI"),
                facts_after_W_F=last("W_F", "train_facts"),
                implications_after_W_FI=last("W_FI", "train_implications"),
                facts_after_W_FI=last("W_FI", "train_facts"),
            )
        )
    return rows


def choose_lr(table: list[dict], until: float) -> float | None:
    """The two-phase rule's learning rate: among those at which W_F learns the facts and W_{F,I} the
    implications (both <= `until` within the cap), the one that keeps the facts best after W_{F,I} (lowest
    train-fact rank; ties: the smaller lr). None if no lr learns both phases."""
    ok = [r for r in table if r["facts_after_W_F"] <= until and r["implications_after_W_FI"] <= until]
    return min(ok, key=lambda r: (r["facts_after_W_FI"], r["lr"]))["lr"] if ok else None


def lr_sweep(
    model_name: str,
    *,
    lrs=(1e-4, 2e-4, 3e-4),
    max_epochs: int = MAX_EPOCHS,
    embeddings: bool | None = None,
    seed: int = 0,
    results="results",
    force=False,
    progress=True,
):
    if embeddings is None:
        embeddings = Settings.for_model(model_name).embeddings
    config = dict(lrs=list(lrs), max_epochs=max_epochs, seed=seed, embeddings=embeddings)
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_lr_sweep(
            m,
            t,
            model_name=model_name,
            lrs=lrs,
            max_epochs=max_epochs,
            embeddings=embeddings,
            seed=seed,
            progress=progress,
        ),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
