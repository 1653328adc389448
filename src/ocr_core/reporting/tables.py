"""Tables for the page: rendered HTML that fits the content column, verdicts as coloured badges.

`claims_html` lays the claims table (`reporting.claims`) out as a referee reads it: one row per claim, the
paper's value, then per model our numbers with their interval and the verdict badge. Styles: book/_static/book.css.
"""

from __future__ import annotations

import html

import pandas as pd

BADGES = {"reproduces": "ok", "does not reproduce": "no", "not testable": "na"}


def badge(verdict: str) -> str:
    """A verdict as a badge: the word before any parenthesis decides its colour; the parenthesis stays."""
    word = verdict.split(" (", 1)[0]
    kind = BADGES.get(word, "na")
    return f'<span class="verdict-badge verdict-{kind}">{html.escape(verdict)}</span>'


def claims_html(claims: pd.DataFrame, labels: dict[str, str] | None = None) -> str:
    """The claims table as HTML: claim, the paper's value, and for each model its numbers and verdict."""
    labels = labels or {}
    models = list(dict.fromkeys(claims.model))
    head = "".join(f"<th>{html.escape(labels.get(m, m))}</th>" for m in models)
    rows = []
    for experiment, sub in claims.groupby("experiment", sort=False):
        rows.append(f'<tr class="claims-group"><th colspan="{2 + len(models)}">{html.escape(experiment)}</th></tr>')
        for claim, per_model in sub.groupby("claim", sort=False):
            by_model = {r.model: r for r in per_model.itertuples()}
            cells = []
            for m in models:
                r = by_model.get(m)
                if r is None:
                    cells.append("<td>not run</td>")
                    continue
                cells.append(
                    f"<td>{badge(r.verdict)}<div class='claims-ours'>{html.escape(r.ours)}</div>"
                    f"<div class='claims-basis'>{html.escape(r.basis)}</div></td>"
                )
            paper = html.escape(per_model.paper.iloc[0])
            rows.append(f"<tr><td>{html.escape(claim)}</td><td>{paper}</td>{''.join(cells)}</tr>")
    return (
        '<table class="claims-table"><thead><tr><th>Claim</th><th>Paper (OLMo-7b)</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def counts_html(counts: pd.DataFrame, labels: dict[str, str] | None = None) -> str:
    """Verdict counts per model (rows) as a small HTML table with badge headers."""
    labels = labels or {}
    words = list(counts.columns)
    head = "".join(f"<th>{badge(w)}</th>" for w in words)
    rows = []
    for m in counts.index:
        cells = "".join(f"<td>{int(counts.loc[m, w])}</td>" for w in words)
        rows.append(f"<tr><td>{html.escape(labels.get(m, m))}</td>{cells}</tr>")
    body = "".join(rows)
    return f'<table class="claims-counts"><thead><tr><th>Model</th>{head}</tr></thead><tbody>{body}</tbody></table>'
