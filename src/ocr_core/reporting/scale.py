"""The model-scale table: OCR after finetuning on facts, per model, ordered by size.

Nothing here trains. Embedded CPU models' rows read their finished results at the models' recommended settings
(under `read_only()`: a missing one raises MissingResultError with the command that computes it). The paper's
GPU models are filled only from finished result files under `results/ocr_verification/<model>/`; a model
without one gets the exact command that produces it. Nothing is estimated or copied in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ocr_core.models.memory import GIB, Shapes, plan_finetune
from ocr_core.models.presets import EMBEDDED, PAPER_MODELS, ModelSpec
from ocr_core.store.io import safe_name


def verify_command(spec: ModelSpec, seeds: Sequence[int] | None = None, results: str | Path = "results") -> str:
    """The command that produces `spec`'s OCR-verification results at its recommended settings (on a GPU for the
    paper's models)."""
    from ocr_core.experiments.registry import get
    from ocr_core.experiments.settings import resolve_seeds

    return get("ocr_verification").command(
        spec.name, dict(seeds=list(resolve_seeds(seeds, "ocr_verification"))), results
    )


def finished_verification(model: str, results: str | Path = "results") -> list[dict]:
    """Records of the newest finished OCR-verification run of `model` under `results`, or []."""
    folder = Path(results) / "ocr_verification" / safe_name(model)
    done = sorted(folder.glob("*/DONE"), key=lambda p: p.stat().st_mtime)
    return json.loads((done[-1].parent / "records.json").read_text()) if done else []


def finetune_peak_gib(spec: ModelSpec) -> float | None:
    """Planned peak memory of full finetuning in the spec's dtype, from the parameter count alone (weights,
    snapshot, gradients, Adam moments, delta; activations of these short prompts are small at this scale)."""
    if spec.params_b is None:
        return None
    import torch

    n = int(spec.params_b * 1e9)
    shapes = Shapes(n, n, 0, 0, 0, 0, 0, getattr(torch, spec.dtype))
    return plan_finetune(shapes).peak / GIB


def scale_rows(
    models: Sequence[str] = (*EMBEDDED, *PAPER_MODELS), *, seeds: Sequence[int] | None = None, results="results"
) -> list[dict]:
    """One row per model: size, planned finetuning memory, and (where measured) fact and implication ranks
    after finetuning on facts, per hop; `command` says how to fill a row without results."""
    from ocr_core.experiments.base import read_only
    from ocr_core.experiments.ocr_verification import summarize_ocr, verify
    from ocr_core.models.presets import model_spec

    rows = []
    for name in models:
        spec = model_spec(name)
        if spec.kind != "hub":  # embedded (and tiny) models: their chapter's results, read only
            with read_only():
                records = verify(name, seeds=seeds, results=results, progress=False).records()
        else:
            records = finished_verification(name, results)
        row = dict(
            model=name,
            params_b=spec.params_b,
            paper=spec.paper or "-",
            finetune_gib=finetune_peak_gib(spec),
            measured=bool(records),
            command="" if records else verify_command(spec, seeds, results),
        )
        for r in summarize_ocr(records) if records else []:
            row[f"{r['hop']}.{r['split']}.before"] = r["before"]
            row[f"{r['hop']}.{r['split']}.after"] = r["after"]
            row[f"{r['hop']}.{r['split']}.seeds"] = r["n_seeds"]
        rows.append(row)
    return sorted(rows, key=lambda r: (r["params_b"] is None, r["params_b"] or 0))
