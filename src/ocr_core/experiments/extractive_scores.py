"""Extractive scores after OCR finetuning: finetune a hop's facts (built-in, or a user's hop file), score its
implications.

Writes the tidy score table (score, component, kind, layer, head, slot, token, value) per hop and a summary
of where each score's mass sits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ocr_core.data.userdata import HopFile, check_counterfactuals
from ocr_core.experiments.base import Settings, run_cached
from ocr_core.experiments.ocr_verification import data_config, finetune_facts, hop_dataset, hops_to_run, resolve_hops
from ocr_core.scoring.scores import SCORES, extractive_scores, peak, score_table, template
from ocr_core.store.results import RunDir

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 1

EXPERIMENT = "extractive_scores"


def run_scores(
    model,
    tokenizer,
    *,
    model_name: str,
    hop: str,
    lr: float,
    epochs: int,
    batch_size: int = 8,
    embeddings: bool = False,
    seed: int = 0,
    n_counterfactuals: int = 10,
    files: Sequence[HopFile] = (),
    progress: bool = True,
) -> pd.DataFrame:
    """Score table for one hop (built-in, or the hop file of that name in `files`): delta from finetuning the
    hop's facts, scores on its implications."""
    data = hop_dataset(hop, seed, files)
    result = finetune_facts(
        model,
        tokenizer,
        data,
        model_name=model_name,
        settings=Settings(lr, epochs, batch_size, embeddings),
        seed=seed,
        progress=progress,
        desc=f"{model_name} {hop} facts",
    )
    raw = extractive_scores(
        model, tokenizer, data.implications, result.delta, n_counterfactuals=n_counterfactuals, seed=seed
    )
    table = score_table(raw, template(tokenizer, data.implications))
    table.insert(0, "hop", hop)
    table.insert(0, "model", model_name)
    table.insert(2, "seed", seed)
    return table


def summarize_scores(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (hop, score, kind): peak cell, layers holding the top half of the positive mass, and the
    token with the most positive mass."""
    rows = []
    for (model, hop), sub in table.groupby(["model", "hop"]):
        for score in SCORES:
            for kind in ("mlp", "head"):
                rows.append(dict(model=model, hop=hop, **peak(sub, score, kind)))
    return pd.DataFrame(rows)


def scores_table(records: list[dict]) -> list[dict]:
    """summarize_scores of the records, as rows."""
    return summarize_scores(pd.DataFrame(records)).to_dict(orient="records")


def scores(
    model_name: str,
    *,
    hops: Sequence[str] | None = None,
    data: str | Path | Sequence[str | Path] | None = None,
    lr: float | None = None,
    epochs: int | None = None,
    embeddings: bool | None = None,
    seed: int = 0,
    n_counterfactuals: int = 10,
    results: str | Path = "results",
    force: bool = False,
    progress: bool = True,
) -> RunDir:
    """Run (or reuse) the score tables of every hop for one model: the built-in `hops` (default: both, or none
    when `data` is given) and the user's hop files `data`, checked before the model loads."""
    settings = Settings.for_model(model_name, lr, epochs, embeddings=embeddings)
    hops, files = resolve_hops(hops, data)
    for f in files:
        check_counterfactuals(f, n_counterfactuals, seed)
    config = dict(
        **settings.kwargs(), seed=seed, hops=list(hops), n_counterfactuals=n_counterfactuals, **data_config(files)
    )

    def compute(model, tokenizer) -> list[dict]:
        tables = [
            run_scores(
                model,
                tokenizer,
                model_name=model_name,
                hop=hop,
                seed=seed,
                n_counterfactuals=n_counterfactuals,
                files=files,
                progress=progress,
                **settings.kwargs(),
            )
            for hop in hops_to_run(hops, files, tokenizer)
        ]
        return pd.concat(tables, ignore_index=True).to_dict(orient="records")

    return run_cached(
        EXPERIMENT, model_name, config, compute, module=__name__, results=results, force=force, progress=progress
    )
