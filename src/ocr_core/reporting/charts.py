"""Altair charts for the book, and a renderer that works with no network.

Altair's default HTML output loads vega from a CDN. `enable_offline()` registers a renderer whose HTML
calls `vegaEmbed` from the page's own scripts (the book loads vega, vega-lite and vega-embed from its
`_static/vendor/` folder, copied there from npm by `scripts/vendor_vega.sh`), and keeps the Vega-Lite
mimetype alongside, so JupyterLab still renders the chart natively.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import altair as alt
import pandas as pd

RENDERER = "ocr_offline"
VEGALITE_MIME = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.lstrip('v').split('.')[0]}+json"
_counter = iter(range(1, 1_000_000))


def _offline_html(spec: dict, **_) -> dict:
    div = f"ocr-chart-{next(_counter)}"
    html = (
        f'<div id="{div}" class="ocr-chart"></div>\n'
        "<script>(function () {\n"
        f"  var spec = {json.dumps(spec, sort_keys=True)};\n"
        f'  var el = document.getElementById("{div}");\n'
        "  if (typeof vegaEmbed === 'undefined') {\n"
        "    el.innerText = 'chart not rendered: vega-embed is not loaded on this page';\n"
        "    return;\n"
        "  }\n"
        "  vegaEmbed(el, spec, {actions: false, renderer: 'svg'}).catch(function (e) {\n"
        "    el.innerText = 'chart failed: ' + e; console.error(e);\n"
        "  });\n"
        "})();</script>"
    )
    return {"text/html": html, VEGALITE_MIME: spec}


def enable_offline() -> None:
    """Render charts as HTML that uses the page's own vega scripts (no CDN), plus the Vega-Lite mimetype."""
    alt.renderers.register(RENDERER, _offline_html)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()


def _band(frame: pd.DataFrame, x: str, y: str, color: str, by: Sequence[str]) -> pd.DataFrame:
    """Mean, min and max of `y` over seeds per (by..., color, x)."""
    keys = [*by, color, x]
    return frame.groupby(keys, as_index=False)[y].agg(mean="mean", lo="min", hi="max")


def rank_trajectories(
    frame: pd.DataFrame,
    *,
    x: str = "epoch",
    color: str = "split",
    column: str | None = "hop",
    row: str | None = None,
    chance: float | None = None,
    title: str = "",
) -> alt.Chart:
    """Mean rank per epoch (line: mean over seeds; band: min..max over seeds). frame: one row per
    (seed, x, color, facets) with `mean_rank`."""
    by = [c for c in (column, row) if c]
    data = _band(frame, x, "mean_rank", color, by)
    # Layers carry no data of their own: the facet splits the shared data between panels.
    base = alt.Chart().encode(
        x=alt.X(f"{x}:Q", title=x),
        color=alt.Color(f"{color}:N", title=color),
    )
    tooltip = [
        *by,
        color,
        x,
        alt.Tooltip("mean:Q", format=".2f"),
        alt.Tooltip("lo:Q", format=".2f"),
        alt.Tooltip("hi:Q", format=".2f"),
    ]
    layers = [
        base.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title="mean rank (0 = best)"), y2="hi:Q"),
        base.mark_line(point=True).encode(y="mean:Q", tooltip=tooltip),
    ]
    if chance is not None:
        layers.append(alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.datum(chance)))
    chart = alt.layer(*layers, data=data).properties(width=260, height=180)
    facets = {}
    if column:
        facets["column"] = alt.Column(f"{column}:N", title=None)
    if row:
        facets["row"] = alt.Row(f"{row}:N", title=None)
    if facets:
        chart = chart.facet(**facets)
    return chart.properties(title=title) if title else chart


def score_heatmap(table: pd.DataFrame, *, score: str, kind: str = "mlp", title: str = "") -> alt.Chart:
    """Layer x token heatmap of one score for one component kind. table: scores.score_table output with
    columns score, kind, layer, token, value (heads summed per layer)."""
    sub = table[(table["score"] == score) & (table["kind"] == kind)]
    sub = sub.groupby(["layer", "slot", "token"], as_index=False)["value"].sum().sort_values("slot")
    # one column per template slot: the template's label "slot:token" is unique (a token can occur twice)
    sub["position"] = [token.strip() or repr(token) for token in sub.token]
    tokens = list(dict.fromkeys(sub["position"]))
    return (
        alt.Chart(sub)
        .mark_rect()
        .encode(
            x=alt.X("position:N", sort=tokens, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("layer:O", sort="descending"),
            color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", domainMid=0, reverse=True), title=score),
            tooltip=["layer", "position", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=max(120, 22 * len(tokens)), height=220, title=title or f"{score} ({kind})")
    )


def grouped_bars(
    frame: pd.DataFrame,
    *,
    x: str,
    color: str,
    row: str | None = None,
    y: str = "mean",
    sd: str = "sd",
    title: str = "",
) -> alt.Chart:
    """Bars of `y` with +-`sd` error bars, one bar per `color` value, grouped in columns by `x` (and in rows
    by `row`). frame: one row per (row, x, color)."""
    frame = frame.assign(lo=frame[y] - frame[sd], hi=frame[y] + frame[sd])
    colors = list(dict.fromkeys(frame[color]))
    base = alt.Chart().encode(
        x=alt.X(f"{color}:N", title=None, sort=colors, axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color(f"{color}:N", title=color, sort=colors),
    )
    tooltip = [c for c in (row, x, color) if c] + [
        alt.Tooltip(f"{y}:Q", format=".2f"),
        alt.Tooltip(f"{sd}:Q", format=".2f"),
    ]
    layered = alt.layer(
        base.mark_bar().encode(y=alt.Y(f"{y}:Q", title="mean rank (0 = best)"), tooltip=tooltip),
        base.mark_rule().encode(y="lo:Q", y2="hi:Q"),
        data=frame,
    ).properties(width=16 * len(colors), height=170)
    facets = {"column": alt.Column(f"{x}:N", title=None, sort=list(dict.fromkeys(frame[x])))}
    if row:
        facets["row"] = alt.Row(f"{row}:N", title=None)
    chart = layered.facet(**facets)
    return chart.properties(title=title) if title else chart


def scatter_r2(frame: pd.DataFrame, *, x: str, y: str, color: str, r2: dict[str, float], title: str = "") -> alt.Chart:
    """Per-component scatter of two scores, one panel per `color` value, r^2 in the panel titles."""
    charts = []
    for value in dict.fromkeys(frame[color]):
        sub = frame[frame[color] == value]
        charts.append(
            alt.Chart(sub)
            .mark_circle(size=45, opacity=0.7)
            .encode(
                x=alt.X(f"{x}:Q"),
                y=alt.Y(f"{y}:Q"),
                tooltip=[c for c in ("component", "layer", "head", "seed") if c in sub]
                + [alt.Tooltip(f"{x}:Q", format=".3f"), alt.Tooltip(f"{y}:Q", format=".3f")],
            )
            .properties(width=260, height=220, title=f"{value}: r² = {r2.get(value, float('nan')):.2f}")
        )
    chart = alt.hconcat(*charts)
    return chart.properties(title=title) if title else chart


def paper_view(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """The paper's Fig. 5 view of one model and hop: per score, layers (y) at the subject's last token and at
    the prompt's last token (x), MLPs and attention heads summed per layer and position; each score has its own
    colour scale, symmetric around 0 (the scores differ in size by orders of magnitude: a shared scale would
    leave the smaller ones blank). table: scores.score_table output (score, kind, layer, slot, token, value)."""
    last_slot = table.slot.max()
    subject = [t for t in table.token.unique() if t.split(":", 1)[-1] == "subject[-1]"]
    keep = table[(table.slot == last_slot) | table.token.isin(subject)]
    sub = keep.groupby(["score", "layer", "slot", "token"], as_index=False)["value"].sum()
    sub["position"] = ["last" if slot == last_slot else "subject" for slot in sub.slot]  # short: narrow columns
    return (
        alt.Chart(sub)
        .mark_rect()
        .encode(
            x=alt.X("position:N", sort=["subject", "last"], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("layer:O", sort="descending"),
            color=alt.Color(
                "value:Q", scale=alt.Scale(scheme="redblue", domainMid=0, reverse=True), title="score", legend=None
            ),
            tooltip=["score", "layer", "token", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=90, height=200)
        .facet(column=alt.Column("score:N", sort=["informative", "upstream", "downstream"], title=None))
        .resolve_scale(color="independent")
        .properties(title=title)
    )
