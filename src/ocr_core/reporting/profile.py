"""The book build's profile: per chapter and model, the work done (finetunes trained and reused, training steps,
evaluation and score passes, model loads, results computed and reused) and its seconds, from the work events
of `ocr_core.store.events`; plus the build's wall time per chapter and its peak disk and memory.

`make book` writes `_build/book_profile.json`; `python -m ocr_core.tools.bench book` runs the book and commits
its profile to `book/data/book_profile.json`, which the progress lines use for their ETA.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

COUNTERS = (
    "finetunes",
    "steps",
    "finetune_s",
    "deltas_reused",
    "reused_s",
    "evals",
    "eval_s",
    "score_passes",
    "score_s",
    "loads",
    "load_s",
    "results",
    "results_reused",
)

WORK = ("finetune", "delta_reused", "eval", "scores", "load", "result")  # the event kinds that are counted


def _model(event: dict) -> str:
    return str(event.get("model", "")).split("@", 1)[0]


def summarize(events: Iterable[dict]) -> list[dict]:
    """One row per (chapter, model): the COUNTERS. Evaluation and score passes have no model label; they are
    attributed to the model whose finetune or result the same process last started."""
    rows: dict[tuple[str, str], dict] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    current: dict[int, str] = {}
    for e in events:
        kind = e["kind"]
        if "model" in e:
            current[e["pid"]] = _model(e)
        if kind not in WORK:  # build, page, peak, epoch, chapter: no row of work
            continue
        row = rows[(e.get("chapter", ""), _model(e) if "model" in e else current.get(e["pid"], ""))]
        if kind == "finetune":
            row["finetunes"] += 1
            row["steps"] += e.get("steps", 0)
            row["finetune_s"] += e["seconds"]
        elif kind == "delta_reused":
            row["deltas_reused"] += 1
            row["reused_s"] += e.get("saved_seconds", 0.0)
        elif kind == "eval":
            row["evals"] += 1
            row["eval_s"] += e["seconds"]
        elif kind == "scores":
            row["score_passes"] += 1
            row["score_s"] += e["seconds"]
        elif kind == "load":
            row["loads"] += 1
            row["load_s"] += e["seconds"]
        elif kind == "result":
            row["results_reused" if e.get("reused") else "results"] += 1
    return [
        dict(chapter=chapter, model=model, **{k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()})
        for (chapter, model), row in rows.items()
        if chapter
    ]


def page_seconds(events: Iterable[dict]) -> dict[str, float]:
    """Seconds each page took to execute in one process, summed over the runs of a (possibly resumed) build, from
    its `page` events; a page whose run was stopped while it executed counts until that run's last event."""
    out: dict[str, float] = defaultdict(float)
    running: dict[str, float] = {}  # page -> when it started, in the current run
    last = 0.0

    def stopped() -> None:
        for name, since in running.items():
            out[name] += last - since
        running.clear()

    for e in events:
        if e["kind"] == "build" and e.get("started"):
            stopped()
        elif e["kind"] == "page" and e.get("started"):
            running[e["chapter"]] = e["t"]
        elif e["kind"] == "page":
            running.pop(e["chapter"], None)
            out[e["chapter"]] += e["seconds"]
        last = e["t"]
    stopped()
    return {name: round(seconds, 1) for name, seconds in out.items()}


def interrupted(path: Path) -> list[dict]:
    """The runs of a build whose events file `path` holds no end (it was stopped, killed or failed): what a
    new build resumes and keeps in its profile. [] when there is none or the last build ended."""
    from ocr_core.store import events

    found = events.read(path)
    starts = [e for e in found if e["kind"] == "build" and e.get("started")]
    if not starts or any(e["kind"] == "build" and e.get("done") for e in found):
        return []
    return runs(found)


def runs(events: Iterable[dict]) -> list[dict]:
    """Each run of a (possibly resumed) build: when it started, how long it went on (to its last event) and its
    own peak disk and memory in GB (the largest `peak` event of the run; `anon_gb`: the memory no file backs).
    Builds before per-run peaks carried the running maximum over earlier runs into each run's events; such a
    run says `peak="running maximum"` instead of `peak="this run"`."""
    out: list[dict] = []
    for e in events:
        if e["kind"] == "build" and e.get("started"):
            out.append(dict(started=e["t"], seconds=0.0, disk_gb=0.0, rss_gb=0.0, anon_gb=0.0, peak="this run"))
        elif out:
            run = out[-1]
            run["seconds"] = round(e["t"] - run["started"], 1)
            if e["kind"] == "peak":
                if "anon" not in e:
                    run["peak"] = "running maximum"
                run["disk_gb"] = max(run["disk_gb"], round(e.get("disk", 0) / 1e9, 2))
                run["rss_gb"] = max(run["rss_gb"], round(e.get("rss", 0) / 1e9, 2))
                run["anon_gb"] = max(run["anon_gb"], round(e.get("anon", 0) / 1e9, 2))
    return out


def write(
    path: Path,
    *,
    rows: list[dict],
    chapters: dict[str, float],
    peak: dict[str, float],
    meta: dict,
    compute: dict | None = None,
) -> None:
    """The profile file: chapter wall seconds (executing the notebooks for every model), the compute phase's
    seconds (`compute`: {"chapters": {model: {chapter: seconds}}, "total": {model: seconds}}; empty when the
    build ran in one process), work rows, peak disk and memory, and what the build was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    compute = compute or {}
    body = dict(
        meta=meta,
        chapters=chapters,
        compute=compute.get("chapters", {}),
        compute_total=compute.get("total", {}),
        peak=peak,
        work=rows,
    )
    path.write_text(json.dumps(body, indent=1) + "\n")


def load(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
