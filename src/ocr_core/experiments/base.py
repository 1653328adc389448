"""What every experiment shares: resolved settings, seed statistics and the cached run wrapper."""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from ocr_core.arch.trainable import Trainable
from ocr_core.data import Dataset, Example
from ocr_core.errors import UserError
from ocr_core.experiments.settings import SEEDS, Settings
from ocr_core.models.loading import load_model
from ocr_core.models.placement import lost_update_fraction, of_model, resolve
from ocr_core.store import events
from ocr_core.store.results import RunDir
from ocr_core.training.deltas import Delta
from ocr_core.training.finetune import FinetuneResult, cached_finetune, finetune


def train_on(
    model,
    tokenizer,
    train: Dataset | Sequence[Example],
    *,
    model_name: str,
    settings: Settings,
    seed: int,
    base: Delta | None = None,
    trainable: Trainable | None = None,
    eval_sets: dict[str, Dataset] | None = None,
    end_eval_sets: Sequence[str] = (),
    until_sets: Sequence[str] = (),
    progress: bool = True,
    desc: str = "finetune",
    cache: bool = True,
) -> FinetuneResult:
    """Finetune of base weights + `base` (applied for the duration); returns the new delta alone. Every
    experiment trains through here. With `cache` (default) the delta is cached on disk (`cached_finetune`;
    deltas of a model placed other than float32 on the CPU are cached apart, `Placement.tag`); without, the
    same finetune runs uncached. With `until_sets` and settings that carry the two-phase rule (`until`), the
    finetune trains until those sets are learned, at most `settings.max_epochs` epochs."""
    trainable = settings.trainable(trainable)
    placement = of_model(model)
    if placement.tag:
        _warn_if_updates_vanish(model, trainable, settings.lr)
    kwargs = dict(
        model_name=f"{model_name}@{placement.tag}" if placement.tag else model_name,
        seed=seed,
        trainable=trainable,
        eval_sets=eval_sets,
        progress=progress,
        desc=desc,
        lr=settings.lr,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
    )
    if end_eval_sets:  # passed only when set: a delta's cache key stays what it was without it
        kwargs["end_eval_sets"] = tuple(end_eval_sets)
    if until_sets and settings.until is not None:  # the two-phase rule: until learned, at most max_epochs
        kwargs.update(until=settings.until, until_sets=tuple(until_sets), epochs=settings.max_epochs or settings.epochs)
    if not cache:
        kwargs.pop("model_name")
        with base.applied(model) if base is not None and len(base) else nullcontext():
            result = finetune(model, tokenizer, train, **kwargs)
        events.emit("finetune", result.seconds, model=model_name, steps=result.steps, cached=False, desc=desc)
        return result
    if base is None or not len(base):
        return cached_finetune(model, tokenizer, train, **kwargs)
    with base.applied(model):
        return cached_finetune(model, tokenizer, train, base=base.content_hash(), **kwargs)


_warned: set[tuple[int, float]] = set()


def _warn_if_updates_vanish(model, trainable: Trainable | None, lr: float) -> None:
    """Warn (once per model and lr) when most weights are too large for an update of size lr to change them
    in their dtype (bfloat16 at the paper's lr 3e-6): training would silently do almost nothing."""
    if (id(model), lr) in _warned:
        return
    _warned.add((id(model), lr))
    fraction = lost_update_fraction((trainable or Trainable()).select(model).values(), lr)
    if fraction > 0.5:
        warnings.warn(
            f"{fraction:.0%} of the trained weights are too large for an Adam step of lr={lr:g} to change them "
            f"in {next(model.parameters()).dtype}: finetune in float32 (--dtype float32) or raise the lr",
            stacklevel=3,
        )


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def row_per_seed(records: Sequence[dict], which: str = "last", **match) -> dict[int, dict]:
    """{seed: row} at the last (`which="first"`: first) step of each seed's rows among `records` whose fields
    equal `match` (e.g. stage="ocr", eval_set="test_implications"); of rows at the same step, the later."""
    best: dict[int, dict] = {}
    for r in records:
        if all(r.get(k) == v for k, v in match.items()):
            seed, kept = r["seed"], best.get(r["seed"])
            if kept is None or (r["step"] >= kept["step"] if which == "last" else r["step"] <= kept["step"]):
                best[seed] = r
    return best


def final_per_seed(records: Sequence[dict], which: str = "last", **match) -> dict[int, float]:
    """{seed: mean_rank} of `row_per_seed`."""
    return {seed: r["mean_rank"] for seed, r in row_per_seed(records, which, **match).items()}


def final_mean_sd(records: Sequence[dict], which: str = "last", **match) -> tuple[float, float]:
    """Mean and sd over seeds of `final_per_seed` (NaN, 0 when no row matches)."""
    per_seed = final_per_seed(records, which, **match)
    return mean_sd(list(per_seed.values())) if per_seed else (float("nan"), 0.0)


class MissingResultError(UserError):
    """A result that reporting reads (under `read_only()`) has not been computed; the message gives the command
    that computes it."""

    def __init__(self, experiment: str, model: str, command: str, path: Path):
        self.experiment, self.model, self.command, self.path = experiment, model, command, path
        super().__init__(
            f"no finished {experiment} result for {model} (expected in {path}); reporting only reads results, "
            f"so compute it first: {command}"
        )


_read_only: ContextVar[bool] = ContextVar("read_only", default=False)


@contextmanager
def read_only() -> Iterator[None]:
    """Within this block `run_cached` only reads: a finished result is returned as always, a missing one raises
    MissingResultError (naming the command that computes it) instead of loading the model. Reporting (the
    aggregate chapters, `ocr_core.reporting`) reads the experiments' results this way and never trains."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def per_model(fn, table_fn, models: Sequence[str], **kwargs):
    """Run (or reuse) experiment entry `fn` for each model (quietly); returns every record and `table_fn`'s rows
    for each model, with a `model` column, in one frame. What an experiment's chapter runs."""
    import pandas as pd

    records, tables = [], []
    for model in models:
        mine = fn(model, progress=False, **kwargs).records()
        records += mine
        tables.append(pd.DataFrame(table_fn(mine)).assign(model=model))
    return records, pd.concat(tables, ignore_index=True)


@dataclass(frozen=True)
class SeedRuns:
    """Finished result folders (`ocr_core.store.io.RunDir`), one per group of seeds, read as one run: `records()`
    concatenates them in seed order; `path` is the model's folder that holds them."""

    runs: tuple[RunDir, ...]

    @property
    def path(self) -> Path:
        return self.runs[0].path.parent

    @property
    def done(self) -> bool:
        return all(run.done for run in self.runs)

    def records(self) -> list[dict]:
        return [r for run in self.runs for r in run.records()]


def seed_groups(seeds: Sequence[int]) -> list[tuple[int, ...]]:
    """How a one-run-for-all-seeds experiment caches `seeds`: seeds that begin with SEEDS keep those as one run
    (the key their three-seed run always had) and run every further seed on its own, so that adding seeds
    never re-runs the first three; any other list is one run, as before."""
    seeds = tuple(seeds)
    if len(seeds) > len(SEEDS) and seeds[: len(SEEDS)] == SEEDS:
        return [SEEDS, *((s,) for s in seeds[len(SEEDS) :])]
    return [seeds]


def run_cached(
    experiment: str,
    model_name: str,
    config: dict,
    compute: Callable[..., list[dict]],
    *,
    module: str,
    results: str | Path = "results",
    force: bool = False,
    progress: bool = True,
) -> RunDir:
    """Reuse `<results>/<experiment>/<model>/<hash>/` if finished, else plan the memory (refusing what will
    not fit), load the model where `ocr_core.models.placement` says, run `compute(model, tokenizer)` and write its
    records. `module`: the calling experiment's module (`__name__`); its VERSION is part of the key.
    Under `read_only()` a result that is not finished (or `force`) raises MissingResultError instead."""
    import sys

    from ocr_core.models.gguf import weights_id
    from ocr_core.models.memory import check_before_loading

    asked = config
    placement = resolve(model_name)
    if placement.tag:
        config = dict(config, placement=placement.tag)
    config = dict(config, weights=weights_id(model_name))
    run = RunDir(results, experiment, model_name, config, module=module, version=sys.modules[module].VERSION)
    if run.done and not force:
        events.emit("result", experiment=experiment, model=model_name, reused=True, path=str(run.path))
        if progress:
            print(f"[ocr_core] reusing {run.path}", flush=True)
        return run
    if _read_only.get():
        from ocr_core.experiments.registry import get

        raise MissingResultError(experiment, model_name, get(experiment).command(model_name, asked, results), run.path)
    started = time.perf_counter()
    check_before_loading(model_name, placement, progress=progress)
    model, tokenizer = load_model(model_name, progress=progress, **placement.kwargs())
    run.write(compute(model, tokenizer))
    seconds = time.perf_counter() - started
    events.emit("result", seconds, experiment=experiment, model=model_name, reused=False, path=str(run.path))
    if progress:
        print(f"[ocr_core] {experiment} on {model_name}: {time.perf_counter() - started:.0f} s", flush=True)
    return run
