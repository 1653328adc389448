"""Work events, for the book's profile and its progress lines: what ran (finetunes and their epochs, cached deltas
reused, evaluation and score passes, model loads, results computed or reused), for how long, in which chapter.

Off unless $OCR_CORE_EVENTS names a file. Then each event is appended to it as one JSON line; processes a run
starts (notebook kernels, sweep runs) inherit the variable and append to the same file, labelled with
$OCR_CORE_CHAPTER. `make book` turns it on: `ocr_core.reporting.book` prints progress lines from it and writes
the build's profile (`ocr_core.reporting.profile`). Nothing here changes what is computed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def events_file() -> str | None:
    return os.environ.get("OCR_CORE_EVENTS") or None


def emit(kind: str, seconds: float = 0.0, **fields: Any) -> None:
    """Append one event (no-op when events are off). One short line per write, so concurrent writers do not
    interleave."""
    path = events_file()
    if path:
        emit_to(path, kind, seconds, **fields)


def emit_to(file: str | os.PathLike, kind: str, seconds: float = 0.0, /, **fields: Any) -> None:
    """`emit` into the events file `file`."""
    event = dict(
        t=round(time.time(), 3),
        kind=kind,
        seconds=round(seconds, 4),
        chapter=os.environ.get("OCR_CORE_CHAPTER", ""),
        pid=os.getpid(),
        **fields,
    )
    try:
        with open(file, "a") as fh:
            fh.write(json.dumps(event, default=str) + "\n")
    except OSError:
        pass  # a profile must never break a run


@contextmanager
def timed(kind: str, **fields: Any) -> Iterator[dict]:
    """Emit `kind` with the seconds the block took; the block may add fields to the yielded dict."""
    extra: dict = {}
    started = time.perf_counter()
    try:
        yield extra
    finally:
        if events_file():
            emit(kind, time.perf_counter() - started, **fields, **extra)


def parse(line: str) -> dict | None:
    """One event line, or None for a half-written or damaged one."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "kind" in event else None


def read(path: str | os.PathLike) -> list[dict]:
    """Every whole event of `path`."""
    try:
        with open(path) as fh:
            return [e for line in fh if (e := parse(line)) is not None]
    except FileNotFoundError:
        return []
