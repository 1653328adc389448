"""OCR verification: finetune on new facts, watch the rank of their never-seen implications.

For each hop (first-hop: "{name} lives in" -> city, tested on the language; second-hop: "The mayor of {city}
is" -> name, tested through the city's landmark), or a user's own hop file (`ocr_core.data.userdata`), and seed,
finetune on the facts alone and log fact and implication mean ranks before training and after every epoch.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from ocr_core.data import HopDataset, first_hop, second_hop
from ocr_core.data.userdata import HopFile, HopFileError, check_tokens, load_hop_files
from ocr_core.experiments.base import SeedRuns, Settings, run_cached, seed_groups, train_on
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.store.results import RunDir
from ocr_core.training.finetune import FinetuneResult

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 1

HOPS = {"first_hop": first_hop, "second_hop": second_hop}
EXPERIMENT = "ocr_verification"


def resolve_hops(
    hops: Sequence[str] | None, data: str | Path | Sequence[str | Path] | None
) -> tuple[tuple[str, ...], tuple[HopFile, ...]]:
    """The built-in hops and the user's hop files an experiment runs: `hops` (default: both built-in hops, or
    none when `data` names hop files) and the files of `data`, read and checked (HopFileError names the row)."""
    files = load_hop_files(data)
    builtin = tuple(HOPS) if hops is None and not files else tuple(hops or ())
    taken = [f for f in files if f.name in HOPS]
    if taken:
        raise HopFileError(
            f"{taken[0].path}: a hop file cannot be named like the built-in hop {taken[0].name!r} (results name a "
            "hop by its file name): rename it"
        )
    return builtin, files


def data_config(files: Sequence[HopFile]) -> dict:
    """The result-config entry of the user's hop files (their names and content digests); none without files, so
    built-in runs keep their configs."""
    return dict(data=[f.key() for f in files]) if files else {}


def hop_dataset(hop: str, seed: int, files: Sequence[HopFile] = ()) -> HopDataset:
    """Hop `hop`: the user's hop file of that name, else the built-in hop for `seed`."""
    mine = {f.name: f for f in files}
    return mine[hop].dataset(seed) if hop in mine else HOPS[hop](seed)


def hops_to_run(hops: Sequence[str], files: Sequence[HopFile], tokenizer) -> list[str]:
    """Every hop an experiment's loop runs (built-in first), after checking the files against the tokenizer
    (before any training; DatasetTokenError names the rows)."""
    unknown = [h for h in hops if h not in HOPS]
    if unknown:
        raise ValueError(f"unknown hops {unknown}; choose from {sorted(HOPS)}")
    for f in files:
        check_tokens(f, tokenizer)
    return [*hops, *(f.name for f in files)]


def hop_eval_sets(data: HopDataset) -> dict:
    """What every finetune on a hop's facts logs (shared so that experiments share cached deltas)."""
    return {"fact": data.facts, "implication": data.implications}


def finetune_facts(
    model,
    tokenizer,
    data: HopDataset,
    *,
    model_name: str,
    settings: Settings,
    seed: int,
    progress: bool = True,
    desc: str = "facts",
) -> FinetuneResult:
    """The finetune on a hop's facts that the verification, layer freezing, scores and the benchmark share
    (one cache key for all of them)."""
    return train_on(
        model,
        tokenizer,
        data.facts,
        model_name=model_name,
        settings=settings,
        seed=seed,
        eval_sets=hop_eval_sets(data),
        progress=progress,
        desc=desc,
    )


def run_ocr_verification(
    model,
    tokenizer,
    *,
    model_name: str,
    lr: float,
    epochs: int,
    batch_size: int = 8,
    embeddings: bool = False,
    seeds: Sequence[int] = (0,),
    hops: Sequence[str] = tuple(HOPS),
    files: Sequence[HopFile] = (),
    progress: bool = True,
) -> list[dict]:
    """Tidy records: one row per (hop, seed, epoch, split) with the split's mean rank; the built-in `hops`,
    then the user's hop `files` (hop: the file's name).

    split is "fact" or "implication"; chance is the split's (n_options - 1) / 2; epoch 0 is before training.
    The model's weights are unchanged afterwards.
    """
    records = []
    for hop in hops_to_run(hops, files, tokenizer):
        for seed in seeds:
            data = hop_dataset(hop, seed, files)
            result = finetune_facts(
                model,
                tokenizer,
                data,
                model_name=model_name,
                settings=Settings(lr, epochs, batch_size, embeddings),
                seed=seed,
                progress=progress,
                desc=f"{model_name} {hop} seed {seed}",
            )
            chance = {split: ds.chance_rank for split, ds in hop_eval_sets(data).items()}
            for row in result.history:
                records.append(
                    dict(
                        experiment=EXPERIMENT,
                        model=model_name,
                        hop=hop,
                        seed=seed,
                        lr=lr,
                        epochs=epochs,
                        batch_size=batch_size,
                        embeddings=embeddings,
                        epoch=row["epoch"],
                        split=row["eval_set"],
                        mean_rank=row["mean_rank"],
                        ranks=row["ranks"],
                        chance=chance[row["eval_set"]],
                    )
                )
    return records


def summarize_ocr(records: list[dict]) -> list[dict]:
    """Per (model, hop, split): mean rank before and after training, mean and spread over seeds."""
    groups: dict[tuple, dict[str, list[float]]] = {}
    last_epoch = max(r["epoch"] for r in records)
    for r in records:
        if r["epoch"] in (0, last_epoch):
            key = (r["model"], r["hop"], r["split"])
            groups.setdefault(key, {"before": [], "after": []})["before" if r["epoch"] == 0 else "after"].append(
                r["mean_rank"]
            )
    rows = []
    for (model, hop, split), v in sorted(groups.items()):
        rows.append(
            dict(
                model=model,
                hop=hop,
                split=split,
                n_seeds=len(v["after"]),
                before=statistics.fmean(v["before"]),
                after=statistics.fmean(v["after"]),
                after_sd=statistics.stdev(v["after"]) if len(v["after"]) > 1 else 0.0,
            )
        )
    return rows


def verify(
    model_name: str,
    *,
    lr: float | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    embeddings: bool | None = None,
    seeds: Sequence[int] | None = None,
    hops: Sequence[str] | None = None,
    data: str | Path | Sequence[str | Path] | None = None,
    results: str | Path = "results",
    force: bool = False,
    progress: bool = True,
) -> RunDir | SeedRuns:
    """Run (or reuse) the OCR verification for one model and write `records.json` under `results`.

    hops: built-in hops (default: both, or none when `data` is given); data: the user's hop files
    (`ocr_core.data.userdata`), checked before the model loads (and against its tokenizer before training)."""
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings)
    hops, files = resolve_hops(hops, data)
    runs = []
    for group in seed_groups(seeds):  # seeds beyond the first three: a run each (adding seeds re-runs nothing)
        config = dict(**settings.kwargs(), seeds=list(group), hops=list(hops), **data_config(files))
        runs.append(
            run_cached(
                EXPERIMENT,
                model_name,
                config,
                lambda m, t, group=group: run_ocr_verification(
                    m,
                    t,
                    model_name=model_name,
                    seeds=group,
                    hops=hops,
                    files=files,
                    progress=progress,
                    **settings.kwargs(),
                ),
                module=__name__,
                results=results,
                force=force,
                progress=progress,
            )
        )
    return runs[0] if len(runs) == 1 else SeedRuns(tuple(runs))
