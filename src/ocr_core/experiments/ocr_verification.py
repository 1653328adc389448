"""OCR verification: finetune on new facts, watch the rank of their never-seen implications.

For each hop (first-hop: "{name} lives in" -> city, tested on the language; second-hop: "The mayor of {city}
is" -> name, tested through the city's landmark) and seed, finetune on the facts alone and log fact and
implication mean ranks before training and after every epoch.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from ocr_core.data import HopDataset, first_hop, second_hop
from ocr_core.experiments.common import Settings, run_cached, train_on
from ocr_core.finetune import FinetuneResult
from ocr_core.runs import RunDir

HOPS = {"first_hop": first_hop, "second_hop": second_hop}
EXPERIMENT = "ocr_verification"


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
    embeddings: bool = True,
    seeds: Sequence[int] = (0,),
    hops: Sequence[str] = tuple(HOPS),
    progress: bool = True,
) -> list[dict]:
    """Tidy records: one row per (hop, seed, epoch, split) with the split's mean rank.

    split is "fact" or "implication"; chance is (n_options - 1) / 2; epoch 0 is before training.
    The model's weights are unchanged afterwards.
    """
    unknown = [h for h in hops if h not in HOPS]
    if unknown:
        raise ValueError(f"unknown hops {unknown}; choose from {sorted(HOPS)}")
    records = []
    for hop in hops:
        for seed in seeds:
            data: HopDataset = HOPS[hop](seed)
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
            chance = data.facts.chance_rank
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
                        chance=chance,
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


def format_summary(rows: list[dict]) -> str:
    lines = [f"{'model':<14} {'hop':<11} {'split':<12} {'before':>7} {'after':>7} {'sd':>5} seeds"]
    for r in rows:
        lines.append(
            f"{r['model']:<14} {r['hop']:<11} {r['split']:<12} {r['before']:7.2f} {r['after']:7.2f} "
            f"{r['after_sd']:5.2f} {r['n_seeds']}"
        )
    return "\n".join(lines)


def verify(
    model_name: str,
    *,
    lr: float | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    embeddings: bool | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    hops: Sequence[str] = tuple(HOPS),
    results: str | Path = "results",
    force: bool = False,
    progress: bool = True,
) -> RunDir:
    """Run (or reuse) the OCR verification for one model and write `records.json` under `results`."""
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings)
    config = dict(**settings.kwargs(), seeds=list(seeds), hops=list(hops))
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_ocr_verification(
            m, t, model_name=model_name, seeds=seeds, hops=hops, progress=progress, **settings.kwargs()
        ),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
