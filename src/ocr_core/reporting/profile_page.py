"""The rerun page's account of a cold build, from its committed profile (`book/data/book_profile.json`).

`profile_page(profile)` is an HTML fragment: a chart of the seconds each chapter spent per model (training,
evaluation, extractive scores, model loads; a resumed build's runs summed), a table of the work behind them, and
the build's wall time and peak disk and memory. `python -m ocr_core.tools.bench book` writes it to
`book/_static/book_profile.html` beside the profile, and the rerun page includes that file, so the page's numbers
are the profile's (a test checks the two agree).
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd

from ocr_core.reporting.charts import Figure, enable_offline
from ocr_core.reporting.tables import Table
from ocr_core.reporting.words import words

PAGE = "book/_static/book_profile.html"  # included by book/rerun.md
PARTS = {"finetune_s": "training", "eval_s": "evaluation", "score_s": "extractive scores", "load_s": "model loads"}


def work_frame(profile: dict) -> pd.DataFrame:
    """One row per (chapter, model) that did work: the counters and the seconds of each part."""
    rows = [r for r in profile.get("work", []) if r.get("model") and any(r.get(p, 0) for p in PARTS)]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["seconds"] = frame[list(PARTS)].sum(axis=1)
    return frame


def _how(profile: dict) -> str:
    """How the build's minutes were spent: by one-thread workers, or in one process (a profile written before
    the build recorded it came from workers)."""
    meta = profile.get("meta", {})
    return "one worker thread per model" if meta.get("workers", True) else "one process, both cores"


def profile_page(profile: dict) -> str:
    """The HTML fragment of the rerun page's "How long a cold build takes" section."""
    enable_offline()
    frame = work_frame(profile)
    if frame.empty:
        return "<p>No profile of a cold build has been committed yet.</p>\n"
    frame["chapter"] = frame.chapter.map(words)
    chapters = list(dict.fromkeys(frame.chapter))
    long = frame.melt(id_vars=["chapter", "model"], value_vars=list(PARTS), var_name="part", value_name="part_s")
    long["part"] = long.part.map(PARTS)
    long["minutes"] = long.part_s / 60
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("chapter:N", sort=chapters, title=None),
            x=alt.X("sum(minutes):Q", title=f"minutes ({_how(profile)})"),
            color=alt.Color("part:N", sort=list(PARTS.values()), legend=alt.Legend(orient="bottom")),
            yOffset="model:N",
            tooltip=["chapter", "model", "part", alt.Tooltip("sum(minutes):Q", format=".1f", title="minutes")],
        )
        .properties(width=300, height=alt.Step(9))
    )
    models = sorted(frame.model.unique())
    pairs = f"; in each group, top to bottom: {', '.join(models)}" if len(models) > 1 else ""
    figure = Figure(chart, f"Figure 1. Where a cold build's compute time goes, per chapter and model{pairs}")
    # one row per chapter (a phone shows a card per row): the work of both models summed, the minutes per model
    counts = ["finetunes", "steps", "deltas_reused", "evals", "score_passes"]
    table = frame.groupby("chapter", sort=False)[counts].sum().reset_index()
    for model in models:
        mine = frame[frame.model == model].set_index("chapter").seconds / 60
        table[f"minutes, {model}"] = table.chapter.map(mine).round(1)
    meta, peak = profile.get("meta", {}), profile.get("peak", {})
    wall = sum(r.get("seconds", 0) for r in meta.get("runs", [])) / 60
    facts = (
        f"<p>The cold build profiled here: commit <code>{html.escape(str(meta.get('commit', '?'))[:12])}</code> on "
        f"{html.escape(str(meta.get('cpu', '?')))} (2 cores), {len(meta.get('runs', []))} run(s) (a stopped build "
        f"resumes), wall time {wall:.0f} min in all. Peak disk (cache and results) {peak.get('disk_gb', 0):.1f} GB; "
        f"peak memory of all the build's processes together {peak.get('rss_gb', 0):.1f} GB (largest single process "
        f"{peak.get('largest_process_rss_gb', 0):.1f} GB).{_per_run(meta.get('runs', []))}{_mode(meta)}</p>\n"
    )
    caption = (
        "Table 1. The work behind Figure 1: finetunes trained and reused, steps, evaluation and score passes (both "
        "models together), and the minutes of each model"
    )
    return facts + figure.html() + "\n" + Table(table, caption, digits=1).html() + "\n"


def _mode(meta: dict) -> str:
    """How the build computed: one worker per model or one process, under which memory budget (builds that did
    not record it: nothing)."""
    if "workers" not in meta:
        return ""
    how = "one worker process per model" if meta["workers"] else "one process, one finetune at a time"
    budget = meta.get("memory_budget_gb")
    return (
        f" It computed in {how}, under a memory budget of {budget:g} GB (<code>--memory-budget</code>)."
        if budget
        else f" It computed in {how}, with no memory budget."
    )


def _per_run(runs: list[dict]) -> str:
    """One sentence on each run's own peak memory and how much of it no file backed: the weights and deltas
    mapped from the cache are resident too, but the system can drop them. Runs of builds that only kept a
    running maximum say so."""
    if len(runs) < 2 and not any(r.get("anon_gb") for r in runs):
        return ""

    def one(r: dict) -> str:
        if r.get("peak") == "running maximum":
            return f"{r.get('rss_gb', 0):.1f} GB (the running maximum of the runs so far)"
        anon = f" ({r['anon_gb']:.1f} GB not file-backed)" if r.get("anon_gb") else ""
        return f"{r.get('rss_gb', 0):.1f} GB{anon}"

    return " Peak memory of each run, in order: " + ", ".join(one(r) for r in runs) + "."
