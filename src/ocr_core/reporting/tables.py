"""Tables for the page: rendered HTML that fits the content column, verdicts as coloured badges.

`claims_html` lays the claims table (`reporting.claims`) out as a referee reads it: one row per claim, the
paper's value, then per model our numbers with their interval and the verdict badge. Styles: book/_static/book.css.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from ocr_core.reporting.words import words, words_html

VERDICT_COLUMNS = ("verdict",)
# Columns holding a shell command: shown as code (monospace, wrapping anywhere inside the column).
CODE_COLUMNS = ("command",)

# Verdict words (reporting.verdicts) -> badge colour: ok (the effect or claim holds), no (it clearly does not, or
# goes the other way), na (no clear effect, not testable).
BADGES = {
    "reproduces": "ok",
    "OCR": "ok",
    "installs": "ok",
    "positive": "ok",
    "holds": "ok",
    "lower": "ok",
    "does not reproduce": "no",
    "weakens": "no",
    "negative": "no",
    "rose": "no",
    "does not hold": "no",
    "higher": "no",
}


def badge(verdict: str) -> str:
    """A verdict as a badge: the word before any parenthesis or colon decides its colour; the text stays."""
    word = verdict.split(" (", 1)[0].split(":", 1)[0]
    kind = BADGES.get(word, "na")
    return f'<span class="verdict-badge verdict-{kind}">{html.escape(verdict)}</span>'


def _caption(caption: str) -> str:
    return f"<caption>{words_html(caption, header=False)}</caption>" if caption else ""


PAPER_LABEL = "Paper (OLMo-7B)"


def claims_html(claims: pd.DataFrame, labels: dict[str, str] | None = None, caption: str = "") -> str:
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
                label = html.escape(labels.get(m, m))
                if r is None:
                    cells.append(f'<td data-label="{label}">not run</td>')
                    continue
                ours, basis = words_html(r.ours, header=False), words_html(r.basis, header=False)
                cells.append(
                    f'<td data-label="{label}">{badge(r.verdict)}<div class="claims-ours">{ours}</div>'
                    f'<div class="claims-basis">{basis}</div></td>'
                )
            paper = html.escape(per_model.paper.iloc[0])
            claim = words_html(claim, header=False)
            rows.append(
                f'<tr><td class="claims-claim">{claim}</td><td data-label="{PAPER_LABEL}">{paper}</td>'
                f"{''.join(cells)}</tr>"
            )
    return (
        f'<table class="claims-table">{_caption(caption)}<thead><tr><th>Claim</th><th>{PAPER_LABEL}</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def counts_html(counts: pd.DataFrame, labels: dict[str, str] | None = None, caption: str = "") -> str:
    """Verdict counts per model (rows) as a small HTML table with badge headers."""
    labels = labels or {}
    words = list(counts.columns)
    head = "".join(f"<th>{badge(w)}</th>" for w in words)
    rows = []
    for m in counts.index:
        cells = "".join(f'<td data-label="{html.escape(w)}">{int(counts.loc[m, w])}</td>' for w in words)
        rows.append(f'<tr><td class="claims-model">{html.escape(labels.get(m, m))}</td>{cells}</tr>')
    body = "".join(rows)
    return (
        f'<table class="claims-counts">{_caption(caption)}<thead><tr><th>Model</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


class Table:
    """A result table for a chapter: rendered HTML on the page (fits the column, verdicts as badges, a caption),
    and the plain text of `DataFrame.to_string` for nbval and the tolerance check. Numbers are rounded to
    `digits` in both (the third decimal can differ between host CPUs). `group`: columns shown on the page as a
    header row over each group of rows instead of as columns (the plain text keeps them as columns)."""

    def __init__(
        self,
        frame: pd.DataFrame,
        caption: str = "",
        digits: int = 2,
        index: bool = False,
        group: Sequence[str] = (),
    ):
        self.frame = frame.round(digits)
        self.caption, self.digits, self.index, self.group = caption, digits, index, list(group)

    def __repr__(self) -> str:
        return self.frame.to_string(index=self.index)

    def _cell(self, column: str, value) -> str:
        if column in VERDICT_COLUMNS and isinstance(value, str):
            return badge(value)
        if column in CODE_COLUMNS and isinstance(value, str):
            # it wraps between its words only: a line break inside "--seeds" or "3e-6" misreads as two words
            tokens = " ".join(f'<span class="book-word">{html.escape(t)}</span>' for t in value.split(" "))
            return f'<code class="book-command">{tokens}</code>'
        # each cell's content in one element: a phone lays a cell out as a row of its label and its content
        if isinstance(value, float):
            return "–" if value != value else f"{value:.{self.digits}f}"  # NaN: no value for this row
        if isinstance(value, str):  # a path or a hub id keeps its underscores
            shown = words_html(value, header=False) if "/" not in value else html.escape(value)
            # one word (a model's name, "early_post") breaks inside only if it is wider than the column
            return f'<span class="book-word">{shown}</span>' if " " not in value else f"<span>{shown}</span>"
        return f"<span>{html.escape(str(value))}</span>"

    def _rows(self, frame: pd.DataFrame) -> str:
        return "".join(
            "<tr>"
            + "".join(
                f'<td data-label="{html.escape(words(str(c)))}">{self._cell(c, v)}</td>'
                for c, v in zip(frame.columns, row, strict=True)
            )
            + "</tr>"
            for row in frame.itertuples(index=False)
        )

    def _repr_html_(self) -> str:
        frame = self.frame.reset_index() if self.index else self.frame
        shown = frame.drop(columns=self.group)
        head = "".join(f"<th>{words_html(str(c))}</th>" for c in shown.columns)
        if not self.group:
            body = self._rows(shown)
        else:  # one header row per group (" · " between the group columns' values), then its rows
            parts = []
            for key, sub in frame.groupby(self.group, sort=False):
                name = " · ".join(words_html(str(k), header=False) for k in (key if isinstance(key, tuple) else (key,)))
                parts.append(f'<tr class="book-group"><th colspan="{len(shown.columns)}">{name}</th></tr>')
                parts.append(self._rows(sub.drop(columns=self.group)))
            body = "".join(parts)
        table = f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        return f'<table class="book-table">{_caption(self.caption)}{table}</table>'

    def html(self) -> str:
        """The table as HTML, for a page assembled outside a notebook."""
        return self._repr_html_()


def label(column: str, *, spaces: bool = True) -> str:
    """A tidy column name as a reader reads it: "test_implications.after" -> "test implications: after".
    `spaces=False` keeps the underscores (a hop named by its file, as the user wrote it)."""
    return (column.replace("_", " ") if spaces else column).replace(".", ": ")


class VerdictBox:
    """The verdict box a chapter opens with: one line per verdict, generated from the results (an admonition on
    the page; plain lines for nbval)."""

    def __init__(self, lines: list[tuple[str, str]], title: str = "Verdict"):
        self.lines, self.title = lines, title  # (what, verdict text)

    def __repr__(self) -> str:
        return "\n".join(f"{what}: {verdict}" for what, verdict in self.lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{words_html(what, header=False)}: {badge(verdict)}</li>" for what, verdict in self.lines)
        title = words_html(self.title, header=False)
        return (
            f'<div class="admonition important verdict-box"><p class="admonition-title">{title}'
            f"</p><ul>{items}</ul></div>"
        )
