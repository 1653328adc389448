"""Altair charts for the book, and a renderer that works with no network.

Altair's default HTML output loads vega from a CDN. `enable_offline()` registers a renderer whose HTML
calls `vegaEmbed` from the page's own scripts (the book loads vega, vega-lite and vega-embed from its
`_static/vendor/` folder, copied there from npm by `scripts/vendor_vega.sh`), and keeps the Vega-Lite
mimetype alongside, so JupyterLab still renders the chart natively.
"""

from __future__ import annotations

import itertools
import json

import altair as alt
import pandas as pd

from ocr_core.reporting.words import words, words_html

RENDERER = "ocr_offline"
VEGALITE_MIME = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.lstrip('v').split('.')[0]}+json"
_counter = iter(range(1, 1_000_000))


# A wrapped facet or concat (`columns` at the top of the spec) gets as many columns as fit the chart's box at
# page load (one on a phone), never more than the spec asks for; any chart still wider scales down (book.css).
# A panel is as wide as its `usermeta.panelWidth` (its title and axis included) or else its `width`.
_FIT_COLUMNS = """  function fitColumns(spec, width) {
    (spec.vconcat || []).forEach(function (s) { fitColumns(s, width); });
    if (!spec.columns || !width) return;
    var panels = spec.spec ? [spec.spec] : (spec.concat || []);
    var widest = (spec.usermeta && spec.usermeta.panelWidth) ||
      Math.max.apply(null, panels.map(function (p) { return p.width || 0; }).concat([0]));
    if (!widest) return;
    var fit = Math.floor((width - 40) / (widest + 50));
    spec.columns = Math.max(1, Math.min(spec.columns, fit));
  }
"""


def _offline_html(spec: dict, **_) -> dict:
    div = f"ocr-chart-{next(_counter)}"
    html = (
        f'<div id="{div}" class="ocr-chart"></div>\n'
        "<script>(function () {\n"
        f"{_FIT_COLUMNS}"
        f"  var spec = {json.dumps(spec, sort_keys=True)};\n"
        f'  var el = document.getElementById("{div}");\n'
        "  if (typeof vegaEmbed === 'undefined') {\n"
        "    el.innerText = 'chart not rendered: vega-embed is not loaded on this page';\n"
        "    return;\n"
        "  }\n"
        "  fitColumns(spec, el.clientWidth);\n"
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


def _worded(values: pd.Series) -> pd.Series:
    """Data values as a reader reads them on a chart (`words`): "facts_first" -> "facts first"."""
    return values.astype(str).map(lambda v: words(v, header=False))


def _wrapped(chart: alt.Chart, data: pd.DataFrame, column: str | None, row: str | None) -> alt.Chart:
    """Facet `chart` (whose data is `data`) into panels that wrap: one panel per (row, column) value in the
    data's order, labelled "row · column", `columns` = the number of column values (the page lowers it to
    what fits the screen)."""
    keys = [k for k in (row, column) if k]
    if not keys:
        return chart.properties(data=data)
    shown = {k: _worded(data[k]) for k in keys}
    data = data.assign(panel=pd.DataFrame(shown).agg(" · ".join, axis=1))
    order = [list(dict.fromkeys(shown[k])) for k in keys]  # row-major: rows, then columns
    present = set(data["panel"])
    panels = [p for p in (" · ".join(combo) for combo in itertools.product(*order)) if p in present]
    columns = data[column].nunique() if column else 1
    # a panel's room: its plot, the y axis (~45 px) and its title (~6 px a character at the header's 11 px)
    width = max(int(chart.width) + 45, 6 * max(len(p) for p in panels)) if isinstance(chart.width, int) else None
    return alt.FacetChart(
        data=data,
        spec=chart,
        facet=alt.Facet("panel:N", title=None, sort=panels),
        columns=columns,
        **({"usermeta": {"panelWidth": width}} if width else {}),
    )


def rank_trajectories(
    frame: pd.DataFrame,
    *,
    x: str = "epoch",
    color: str = "split",
    column: str | None = "hop",
    row: str | None = None,
    chance: float | None = None,
    title: str = "",
    x_title: str | None = None,
    marks: pd.DataFrame | None = None,
) -> alt.Chart:
    """Mean rank per epoch (line: mean over seeds; band: min..max over seeds; thin lines: each seed, one of
    them highlighted from the menu under the chart). With several models, a second menu shows one model.
    frame: one row per (seed, x, color, facets) with `mean_rank`; x_title: the x axis title (default: x);
    marks: one row per (facets, `x`) where a thin dotted vertical line is drawn (where a phase starts)."""
    by = [c for c in (column, row) if c]
    keys = [*by, color, x]
    seeds = "seed" in frame and frame["seed"].nunique() > 1
    data = frame[[*keys, *(["seed"] if seeds else []), "mean_rank"]].copy()
    data[color] = _worded(data[color])
    if not seeds:
        data["seed"] = 0
    # Layers carry no data of their own: the facet splits the shared data between panels. The legend shows the
    # lines' colour at full strength (the bands' pale fill would otherwise be its symbol).
    marked = marks is not None and len(marks) > 0
    # with marks, they ride in the shared data as rows without a rank: every rank layer drops them first
    base = (alt.Chart().transform_filter("isValid(datum.mean_rank)") if marked else alt.Chart()).encode(
        x=alt.X(f"{x}:Q", title=x_title or words(x)),
        color=alt.Color(
            f"{color}:N",
            title=words(color),
            sort=list(dict.fromkeys(data[color])),
            legend=alt.Legend(orient="bottom", symbolOpacity=1, symbolType="stroke", symbolStrokeWidth=3),
        ),
    )
    band = base.transform_aggregate(mean="mean(mean_rank)", lo="min(mean_rank)", hi="max(mean_rank)", groupby=keys)
    tooltip = [
        *by,
        color,
        x,
        alt.Tooltip("mean:Q", format=".2f", title="mean over seeds"),
        alt.Tooltip("lo:Q", format=".2f", title="lowest seed"),
        alt.Tooltip("hi:Q", format=".2f", title="highest seed"),
    ]
    layers = [
        band.mark_area(opacity=0.2).encode(y=alt.Y("lo:Q", title="mean rank (0 = best)"), y2="hi:Q"),
        band.mark_line(point=True).encode(y="mean:Q", tooltip=tooltip),
    ]
    params = []
    if seeds:
        values = sorted(int(s) for s in frame["seed"].unique())
        pick = alt.param(
            name="seed_pick",
            value=-1,
            bind=alt.binding_select(
                options=[-1, *values],
                labels=["none", *(f"seed {s}" for s in values)],
                name="highlight ",
            ),
        )
        params.append(pick)
        layers.insert(
            1,
            base.mark_line(strokeWidth=1.5, strokeDash=[4, 2]).encode(
                y="mean_rank:Q",
                detail="seed:N",
                opacity=alt.condition("datum.seed == seed_pick", alt.value(0.9), alt.value(0)),
                tooltip=["seed", *by, color, x, alt.Tooltip("mean_rank:Q", format=".2f")],
            ),
        )
    if chance is not None:
        layers.append(alt.Chart().mark_rule(strokeDash=[4, 4], color="gray").encode(y=alt.datum(chance)))
    if marked:
        data = pd.concat([data, marks[[*by, x]].drop_duplicates().rename(columns={x: "mark_x"})], ignore_index=True)
        layers.append(
            alt.Chart()
            .transform_filter("isValid(datum.mark_x)")
            .mark_rule(strokeDash=[1, 2], color="#777", strokeWidth=1)
            .encode(x="mark_x:Q")
        )
    chart = _wrapped(alt.layer(*layers).properties(width=260, height=180), data, column, row)
    if "model" in by and data["model"].nunique() > 1:
        models = list(dict.fromkeys(data["model"]))
        show = alt.param(
            name="model_pick",
            value="all",
            bind=alt.binding_select(options=["all", *models], name="model "),
        )
        params.append(show)
        chart = chart.transform_filter("model_pick == 'all' || datum.model == model_pick")
    if params:
        chart = chart.add_params(*params)
    return chart.properties(title=title) if title else chart


def _height(table: pd.DataFrame) -> int:
    """A heatmap's height: room for every layer's label (9 px each), at least 200."""
    return max(200, 9 * table["layer"].nunique())


def _diverging(values: pd.Series, title: str | None, field: str = "value", reverse: bool = True, **legend) -> alt.Color:
    """The colour of `value`: red-blue from -m to m, m = the largest |value| (equal sizes, equal strength of
    colour on both sides of 0, which a scale centred on 0 but spanning min..max is not), its legend labelled at
    -m and m only (two significant digits; white is 0: more labels overlapped)."""
    m = float(values.abs().max()) or 1.0
    return alt.Color(
        f"{field}:Q",
        scale=alt.Scale(scheme="redblue", domain=[-m, m], reverse=reverse),
        title=title,
        legend=alt.Legend(values=[-m, m], format=".2~g", **legend),
    )


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
            # upright labels: at 16 px a position, slanted ones overlap their neighbours
            x=alt.X("position:N", sort=tokens, title=None, axis=alt.Axis(labelAngle=-90)),
            y=alt.Y("layer:O", sort="descending"),
            # the legend under the panel: beside it, it made three panels too wide for one row of the column
            color=_diverging(sub["value"], None, orient="bottom", direction="horizontal", gradientLength=100),
            tooltip=["layer", "position", alt.Tooltip("value:Q", format=".3f")],
        )
        # 13 px a position, fewer for a long template: three panels of any template fit one row of the desktop
        # column (the page's rows then all hold three)
        .properties(
            width=max(100, max(9, min(13, 180 // len(tokens))) * len(tokens)),
            height=_height(sub),
            title=title or f"{score} ({kind})",
        )
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
    """Bars of `y` with +-`sd` error bars (cut at 0), one bar per `color` value (named by the legend), grouped in
    columns by `x` (and in rows by `row`). frame: one row per (row, x, color)."""
    # whiskers cut at 0, the best rank: a rank below it is not a value the mean could take
    frame = frame.assign(lo=(frame[y] - frame[sd]).clip(lower=0), hi=frame[y] + frame[sd])
    frame[color] = _worded(frame[color])
    colors = list(dict.fromkeys(frame[color]))
    base = alt.Chart().encode(
        x=alt.X(f"{color}:N", title=None, sort=colors, axis=alt.Axis(labels=False, ticks=False)),
        # a legend of many entries in rows of three: in one row it was wider than a phone and shrank the chart
        color=alt.Color(
            f"{color}:N",
            title=words(color),
            sort=colors,
            legend=alt.Legend(orient="bottom", columns=min(3, len(colors))),
        ),
    )
    tooltip = [c for c in (row, x, color) if c] + [
        alt.Tooltip(f"{y}:Q", format=".2f"),
        alt.Tooltip(f"{sd}:Q", format=".2f"),
    ]
    layered = alt.layer(
        base.mark_bar().encode(y=alt.Y(f"{y}:Q", title="mean rank (0 = best)"), tooltip=tooltip),
        base.mark_rule().encode(y="lo:Q", y2="hi:Q"),
    ).properties(width=16 * len(colors), height=170)
    chart = _wrapped(layered, frame, x, row)
    return chart.properties(title=title) if title else chart


def heat_grid(
    frame: pd.DataFrame, *, x: str, y: str, value: str, column: str | None = None, row: str | None = None
) -> alt.Chart:
    """A grid of `value` per (x, y) cell, one panel per (row, column) that wraps on a narrow page: a diverging
    colour (blue above 0, red below, white 0, the same strength for the same size either side) and the value
    written in each cell. frame: one row per (row, column, x, y)."""

    def order(values: pd.Series) -> list:  # numbers (learning rates written as text too) in numeric order
        try:
            return sorted(values.unique(), key=float)
        except (TypeError, ValueError):
            return list(dict.fromkeys(values))

    base = alt.Chart().encode(
        x=alt.X(f"{x}:O", title=words(x), sort=order(frame[x]), axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", title=words(y), sort=order(frame[y])),
    )
    frame = frame.assign(shown=frame[value].round(2))  # rounded as the tables round it (0.625 -> 0.62)
    tooltip = [c for c in (row, column, x, y) if c] + [alt.Tooltip(f"{value}:Q", format=".3f")]
    color = _diverging(frame[value], words(value), field=value, reverse=False)
    cells = base.mark_rect().encode(color=color, tooltip=tooltip)
    text = base.mark_text(fontSize=12).encode(text=alt.Text("shown:Q", format=".2f"))
    return _wrapped(alt.layer(cells, text).properties(width=150, height=90), frame, column, row)


def measure_bars(
    frame: pd.DataFrame, *, measure: str, value: str, color: str, chance: float | None = None, title: str = ""
) -> alt.Chart:
    """One panel per `measure` (its name above it, in the data's order), one horizontal bar per `color` value:
    narrow enough for a phone however long the measures' names are. frame: one row per (measure, color)."""
    frame = frame.assign(**{measure: _worded(frame[measure])})
    colors = list(dict.fromkeys(frame[color]))
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=words(value), scale=alt.Scale(domainMin=0)),
            y=alt.Y(f"{color}:N", title=None, sort=colors, axis=alt.Axis(labels=False, ticks=False)),
            color=alt.Color(f"{color}:N", title=words(color), sort=colors, legend=alt.Legend(orient="bottom")),
            tooltip=[measure, color, alt.Tooltip(f"{value}:Q", format=".2f")],
        )
        .properties(width=280, height=12 * len(colors))
    )
    layers = [bars]
    if chance is not None:
        layers.append(alt.Chart().mark_rule(strokeDash=[4, 3], color="gray").encode(x=alt.datum(chance)))
    chart = alt.layer(*layers, data=frame).facet(
        row=alt.Row(
            f"{measure}:N",
            sort=list(dict.fromkeys(frame[measure])),
            title=None,
            header=alt.Header(
                labelAngle=0, labelOrient="top", labelAnchor="start", labelFontSize=11, labelLimit=300, labelPadding=2
            ),
        ),
        spacing=12,
    )
    return chart.properties(title=title) if title else chart


def scatter_r2(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    color: str,
    r2: dict[str, float],
    title: str = "",
    x_title: str | None = None,
    y_title: str | None = None,
) -> alt.Chart:
    """Per-component scatter of two scores, one panel per `color` value, r^2 in the panel titles; the axes are
    titled `x_title`, `y_title` (default: the column names)."""
    charts = []
    for value in dict.fromkeys(frame[color]):
        sub = frame[frame[color] == value]
        charts.append(
            alt.Chart(sub)
            .mark_circle(size=45, opacity=0.7)
            .encode(
                x=alt.X(f"{x}:Q", title=x_title or x),
                y=alt.Y(f"{y}:Q", title=y_title or y),
                tooltip=[c for c in ("component", "layer", "head", "token", "seed") if c in sub]
                + [alt.Tooltip(f"{x}:Q", format=".3f"), alt.Tooltip(f"{y}:Q", format=".3f")],
            )
            .properties(width=260, height=220, title=f"{value}: r² = {r2.get(value, float('nan')):.2f}")
        )
    chart = alt.concat(*charts, columns=len(charts))  # wraps on a narrow page
    return chart.properties(title=title) if title else chart


def paper_view(table: pd.DataFrame, *, title: str = "") -> alt.Chart:
    """The paper's Fig. 5 view of one model and hop: per score, layers (y) at the subject's last token and at
    the prompt's last token (x), MLPs and attention heads summed per layer and position; each score has its own
    colour scale, from -m to m with m its largest |value| (the scores differ in size by orders of magnitude: a
    shared scale would leave the smaller ones blank). table: scores.score_table output (score, kind, layer, slot,
    token, value)."""
    last_slot = table.slot.max()
    subject = [t for t in table.token.unique() if t.split(":", 1)[-1] == "subject[-1]"]
    keep = table[(table.slot == last_slot) | table.token.isin(subject)]
    sub = keep.groupby(["score", "layer", "slot", "token"], as_index=False)["value"].sum()
    sub["position"] = ["last" if slot == last_slot else "subject" for slot in sub.slot]  # short: narrow columns
    panels = []
    for score in [s for s in ("informative", "upstream", "downstream") if s in set(sub.score)]:
        one = sub[sub.score == score]
        panels.append(
            alt.Chart(one)
            .mark_rect()
            .encode(
                x=alt.X("position:N", sort=["subject", "last"], title=None, axis=alt.Axis(labelAngle=0)),
                y=alt.Y("layer:O", sort="descending"),
                color=_diverging(one["value"], None, orient="bottom", direction="horizontal", gradientLength=80),
                tooltip=["score", "layer", "token", alt.Tooltip("value:Q", format=".3f")],
            )
            .properties(width=90, height=_height(one), title=score)
        )
    return alt.hconcat(*panels).resolve_scale(color="independent").properties(title=title)


class Figure:
    """A chart with its numbered caption: on the page a <figure> whose <figcaption> sits under the chart; the
    plain text (nbval, a terminal) is the caption alone. `Figure(chart, "Figure 1. ...")` as a cell's value."""

    def __init__(self, chart: alt.TopLevelMixin, caption: str):
        self.chart, self.caption = chart, caption

    def __repr__(self) -> str:
        return self.caption

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = self.chart._repr_mimebundle_(include, exclude)
        if isinstance(bundle, tuple):  # (data, metadata) from some renderers
            bundle = bundle[0]
        bundle = dict(bundle)
        caption = f"<figcaption>{words_html(self.caption, header=False)}</figcaption>"
        bundle["text/html"] = f'<figure class="ocr-figure">{bundle.get("text/html", "")}{caption}</figure>'
        bundle["text/plain"] = self.caption
        return bundle

    def html(self) -> str:
        """The <figure> as HTML, for a page assembled outside a notebook (the rerun page's profile)."""
        return self._repr_mimebundle_()["text/html"]
