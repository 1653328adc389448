"""The finetuned-delta cache on disk: what it holds, and pruning it to a size.

Each cached delta is a pair `<cache>/deltas/<model>/<key>.safetensors` + `<key>.json` (see
`ocr_core.training.finetune.cached_finetune`). A delta holds the trained parameters in float32: the blocks by
default (0.4 GB for Gemma-3-270M and for SmolLM2-135M), the whole model with the embeddings trained (1.1 GB and
0.5 GB), so a few experiments with several seeds fill a disk quickly.
Pruning removes whole pairs, those with the embeddings trained first (the ablations: the largest, and read
again only by the layer freezing ablation), then least recently used first (a cache hit touches its files); a
pruned delta is simply retrained when needed. (Least recently used alone removed the verification's blocks-only
deltas while its embeddings ablation was written, and the robustness, scores and freezing chapters that read
them next trained them again.) Only deltas that more than one experiment uses are cached at all
(`ocr_core.experiments.fictional.SHARED`, the hop finetunes of verification, scores and layer freezing).
Finished experiment results (`results/`) do not need their deltas, so pruning never changes a built book.

The cache is kept under a limit (`limit_bytes`: $OCR_CORE_CACHE_MAX_GB, default 17 GB: the verification
chapter's blocks-only deltas of both models, five seeds and two hops, 8.3 GB, must survive until the chapters
that read them have run, and its embeddings ablations, 9.7 GB, are the first to go; with the de-quantized models
and the results that stays within a book build's 20 GB disk budget; 0 turns the limit off): before every delta
is written (`make_room`, so never above it, also in the middle of a long command), and after each command,
chapter and grid point.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ocr_core.store.io import cache_root


@dataclass(frozen=True)
class CachedDelta:
    """One cached delta: its files, total size in bytes and modification time (seconds since the epoch)."""

    model: str
    key: str
    files: tuple[Path, ...]
    size: int
    mtime: float


def cached_deltas(root: Path | None = None) -> list[CachedDelta]:
    """Every cached delta under `root/deltas` (default: `cache_root()`), least recently used first."""
    folder = (root or cache_root()) / "deltas"
    entries = []
    for model_dir in sorted(p for p in folder.glob("*") if p.is_dir()):
        keys = sorted({p.name.split(".")[0] for p in model_dir.iterdir() if not p.name.startswith(".")})
        for key in keys:
            files = tuple(sorted(model_dir.glob(f"{key}.*")))
            stats = [f.stat() for f in files]
            entries.append(
                CachedDelta(model_dir.name, key, files, sum(s.st_size for s in stats), max(s.st_mtime for s in stats))
            )
    return sorted(entries, key=lambda e: (e.mtime, e.model, e.key))


def trains_embeddings(entry: CachedDelta) -> bool:
    """Whether the delta's finetune trained the embeddings too (its key's trainable set, in its .json)."""
    import json

    meta = next((f for f in entry.files if f.suffix == ".json"), None)
    try:
        return bool(json.loads(meta.read_text())["key"]["settings"]["trainable"]["embeddings"])
    except (AttributeError, OSError, ValueError, KeyError, TypeError):
        return False


def prune(max_bytes: int, root: Path | None = None, *, dry_run: bool = False) -> list[CachedDelta]:
    """Remove deltas until the rest take at most `max_bytes`: those with the embeddings trained first, then the
    least recently used; returns the removed ones."""
    entries = cached_deltas(root)
    total = sum(e.size for e in entries)
    if total <= max_bytes:  # the common case, before every delta written: no metadata to read
        return []
    entries.sort(key=lambda e: not trains_embeddings(e))  # stable: least recently used first within each
    removed = []
    for entry in entries:
        if total <= max_bytes:
            break
        if not dry_run:
            for f in entry.files:
                f.unlink(missing_ok=True)
        total -= entry.size
        removed.append(entry)
    return removed


DEFAULT_LIMIT_GB = 17.0


def limit_bytes() -> int | None:
    """The cache size limit: $OCR_CORE_CACHE_MAX_GB gigabytes (default 17); None when it is 0 (no limit)."""
    raw = os.environ.get("OCR_CORE_CACHE_MAX_GB", "").strip()
    try:
        gb = float(raw) if raw else DEFAULT_LIMIT_GB
    except ValueError:
        raise ValueError(f"OCR_CORE_CACHE_MAX_GB must be a number of gigabytes, got {raw!r}") from None
    if gb < 0:
        raise ValueError(f"OCR_CORE_CACHE_MAX_GB must be >= 0, got {raw!r}")
    return None if gb == 0 else int(gb * 1e9)


def enforce_limit(root: Path | None = None, *, quiet: bool = False) -> list[CachedDelta]:
    """Prune the cache down to `limit_bytes()` (oldest first); says what it removed unless `quiet`."""
    limit = limit_bytes()
    if limit is None or not (root or cache_root()).joinpath("deltas").exists():
        return []
    removed = prune(limit, root)
    if removed and not quiet:
        gb = sum(e.size for e in removed) / 1e9
        print(
            f"delta cache over {limit / 1e9:g} GB (OCR_CORE_CACHE_MAX_GB): "
            f"removed the {len(removed)} oldest deltas ({gb:.2f} GB)"
        )
    return removed


HEADROOM = 256 * 2**20  # bytes left free on the disk beyond what a write needs


def make_room(nbytes: int, folder: Path, root: Path | None = None) -> None:
    """Before writing a delta of `nbytes` into `folder`: prune the oldest deltas so the cache stays within
    its limit after the write (never above it, also during a long command), then raise DiskSpaceError,
    before anything is written, if the disk still cannot hold it."""
    import shutil

    from ocr_core.store.io import DiskSpaceError

    limit = limit_bytes()
    if limit is not None:
        if nbytes > limit:
            raise DiskSpaceError(
                f"a delta of {nbytes / 1e9:.2f} GB does not fit the delta cache limit of {limit / 1e9:g} GB: "
                "raise OCR_CORE_CACHE_MAX_GB (or set it to 0 for no limit)"
            )
        prune(limit - nbytes, root)
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < nbytes + HEADROOM:
        raise DiskSpaceError(
            f"the delta cache needs {nbytes / 1e9:.2f} GB (+{HEADROOM / 2**20:.0f} MiB headroom) at {folder}, "
            f"only {free / 1e9:.2f} GB are free: free some space, lower OCR_CORE_CACHE_MAX_GB, or point "
            "OCR_CORE_CACHE at a larger disk"
        )


def summary(entries: list[CachedDelta]) -> list[dict]:
    """Per model: number of deltas, gigabytes, oldest and newest write time (ISO, UTC)."""
    import datetime as dt

    def iso(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")

    rows = []
    for model in sorted({e.model for e in entries}):
        mine = [e for e in entries if e.model == model]
        rows.append(
            dict(
                model=model,
                deltas=len(mine),
                gb=round(sum(e.size for e in mine) / 1e9, 2),
                oldest=iso(min(e.mtime for e in mine)),
                newest=iso(max(e.mtime for e in mine)),
            )
        )
    return rows
