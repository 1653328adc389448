"""Layer freezing: are facts stored early (first-hop) or late (second-hop)?

Blocks are split at `split` x depth (default 3/4) into early and late. Variants:
  none        finetune everything                       all   no finetuning (the base model)
  early_post  finetune everything, revert early blocks  late_post  ... revert late blocks
  early_pre   finetune with early blocks frozen         late_pre   ... late blocks frozen
Embeddings and the final norm are outside the blocks: trained in every variant but `all`.
Hops: the built-in first and second hop, or a user's hop files (`ocr_core.data.userdata`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ocr_core.arch.families import num_layers
from ocr_core.arch.trainable import Trainable
from ocr_core.data.userdata import HopFile
from ocr_core.experiments.base import SeedRuns, Settings, mean_sd, run_cached, seed_groups, train_on
from ocr_core.experiments.ocr_verification import (
    HOPS,
    data_config,
    finetune_facts,
    hop_dataset,
    hops_to_run,
    resolve_hops,
)
from ocr_core.experiments.settings import early_cut, resolve_seeds
from ocr_core.models.memory import release
from ocr_core.store.results import RunDir
from ocr_core.training.deltas import Delta
from ocr_core.training.metrics import ranks

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: records carry the per-item ranks

EXPERIMENT = "layer_freezing"
VARIANTS = ("none", "early_post", "late_post", "all", "early_pre", "late_pre")


def split_layers(model, split: float = 0.75) -> tuple[range, range]:
    """(early, late) block indices; early = the first `early_cut(depth, split)` blocks."""
    depth = num_layers(model)
    cut = early_cut(depth, split)
    if not 0 < cut < depth:
        raise ValueError(f"split {split} leaves no early or no late layers in a {depth}-layer model")
    return range(cut), range(cut, depth)


def _variants(model, tokenizer, data, full: Delta, early: range, late: range, tag: str, common: dict):
    """Yields (variant, delta) in the records' order, each built only when asked for: with the caller dropping
    each delta before the next, at most two live at once (the full one and one variant; about 1 GB each for
    Gemma-3-270M)."""
    yield "none", full
    yield "early_post", full.without(model, early)
    yield "late_post", full.without(model, late)
    yield "all", Delta()
    # the frozen finetunes are used here only: not cached (the finished result is what a rerun reuses)
    for variant, frozen, name in (("early_pre", early, "early"), ("late_pre", late, "late")):
        trainable = Trainable(frozen_layers=tuple(frozen))
        yield (
            variant,
            train_on(
                model, tokenizer, data.facts, trainable=trainable, desc=f"{tag} {name} frozen", cache=False, **common
            ).delta,
        )


def run_freezing(
    model,
    tokenizer,
    *,
    model_name: str,
    settings: Settings,
    seeds: Sequence[int] = (0,),
    hops: Sequence[str] = tuple(HOPS),
    files: Sequence[HopFile] = (),
    split: float = 0.75,
    progress: bool = True,
) -> list[dict]:
    """Records: one row per (hop, seed, variant, split) with the final mean rank; the built-in `hops`, then the
    user's hop `files`."""
    early, late = split_layers(model, split)
    records = []
    for hop in hops_to_run(hops, files, tokenizer):
        for seed in seeds:
            data = hop_dataset(hop, seed, files)
            # the frozen finetunes log no ranks: the records rank each variant's final weights below
            common = dict(model_name=model_name, settings=settings, seed=seed, progress=progress)
            tag = f"{model_name} {hop} seed {seed}"
            full = finetune_facts(
                model,
                tokenizer,
                data,
                model_name=model_name,
                settings=settings,
                seed=seed,
                progress=progress,
                desc=f"{tag} all layers",
            ).delta
            for variant, delta in _variants(model, tokenizer, data, full, early, late, tag, common):
                with delta.applied(model):
                    for split_name, ds in (("fact", data.facts), ("implication", data.implications)):
                        r = ranks(model, tokenizer, ds).tolist()  # per item: the verdicts' bootstrap
                        records.append(
                            dict(
                                experiment=EXPERIMENT,
                                model=model_name,
                                hop=hop,
                                seed=seed,
                                variant=variant,
                                split=split_name,
                                mean_rank=sum(r) / len(r),
                                ranks=r,
                                early_layers=[early.start, early.stop - 1],
                                late_layers=[late.start, late.stop - 1],
                                **settings.kwargs(),
                            )
                        )
                del delta  # freed before the next variant's is built
                release()
    return records


def freezing_table(records: list[dict]) -> list[dict]:
    """The paper's table: one row per variant, mean and sd over seeds per (hop, split); built-in hops first."""
    hops = list(dict.fromkeys([*HOPS, *(r["hop"] for r in records)]))
    rows = []
    for variant in VARIANTS:
        row = dict(variant=variant)
        for hop in hops:
            for split in ("fact", "implication"):
                values = [
                    r["mean_rank"] for r in records if (r["variant"], r["hop"], r["split"]) == (variant, hop, split)
                ]
                if values:
                    row[f"{hop}.{split}"], row[f"{hop}.{split}.sd"] = mean_sd(values)
        rows.append(row)
    return rows


def freezing(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds: Sequence[int] | None = None,
    hops: Sequence[str] | None = None,
    data: str | Path | Sequence[str | Path] | None = None,
    split: float = 0.75,
    results="results",
    force=False,
    progress=True,
) -> RunDir | SeedRuns:
    """Run (or reuse) layer freezing for one model: the built-in `hops` (default: both, or none when `data` is
    given) and the user's hop files `data`, checked before the model loads."""
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings)
    hops, files = resolve_hops(hops, data)
    runs = []
    for group in seed_groups(seeds):  # seeds beyond the first three: a run each (adding seeds re-runs nothing)
        config = dict(**settings.kwargs(), seeds=list(group), hops=list(hops), split=split, **data_config(files))
        runs.append(
            run_cached(
                EXPERIMENT,
                model_name,
                config,
                lambda m, t, group=group: run_freezing(
                    m,
                    t,
                    model_name=model_name,
                    settings=settings,
                    seeds=group,
                    hops=hops,
                    files=files,
                    split=split,
                    progress=progress,
                ),
                module=__name__,
                results=results,
                force=force,
                progress=progress,
            )
        )
    return runs[0] if len(runs) == 1 else SeedRuns(tuple(runs))
