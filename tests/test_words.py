"""What the page shows instead of the records' raw names: words in headers, cells, legends and panel titles; the
paper's weight notation as subscripts; the plain text that nbval checks unchanged."""

import pandas as pd

from ocr_core.reporting.charts import grouped_bars, measure_bars, rank_trajectories
from ocr_core.reporting.tables import Table, claims_html
from ocr_core.reporting.words import deltas_html, words, words_html


def test_raw_names_read_as_words():
    assert words("first_hop") == "first hop"
    assert words("test_implications.after") == "test implications: after"
    assert words("0.05", header=False) == "0.05"  # a number keeps its dot
    assert words("city->language") == "city → language"
    assert words("n_seeds") == "seeds"
    assert words("base+W_F+W_FI") == "base + W(F) + W(F,I)"
    assert words("lr 1e+05") == "lr 1e+05"


def test_weight_deltas_are_subscripts_in_html():
    assert words_html("base+W_F'") == "base + W<sub>F&#x27;</sub>"
    assert words_html("epochs of W_FI") == "epochs of W<sub>F,I</sub>"
    assert words_html("the delta W_{F,I} and $W_I$", header=False) == "the delta W<sub>F,I</sub> and W<sub>I</sub>"
    assert deltas_html("Grafting W_{F,I} onto F' <b>") == "Grafting W<sub>F,I</sub> onto F' <b>"


def test_a_table_shows_words_on_the_page_and_raw_names_in_its_plain_text():
    frame = pd.DataFrame(dict(model=["m", "m"], hop=["first_hop", "second_hop"], mean_rank=[1.0, 2.0]))
    table = Table(frame, "Table 1. facts_F after W_FI")
    page = table._repr_html_()
    assert "<th>mean rank</th>" in page and '<td data-label="hop"><span class="book-word">first hop</span></td>' in page
    assert "facts F after W<sub>F,I</sub>" in page
    assert "mean_rank" not in page and "first_hop" not in page
    assert "mean_rank" in repr(table) and "first_hop" in repr(table)  # what nbval compares is unchanged


def test_a_grouped_table_puts_each_group_in_a_header_row():
    frame = pd.DataFrame(dict(model=["a", "a", "b"], hop=["first_hop", "second_hop", "first_hop"], x=[1.0, 2.0, 3.0]))
    page = Table(frame, group=["model"])._repr_html_()
    assert page.count('class="book-group"') == 2 and '<th colspan="2">a</th>' in page
    assert "<th>model</th>" not in page  # the grouped column is not a column any more
    assert "model" in repr(Table(frame, group=["model"]))


def test_claims_render_the_paper_notation():
    claims = pd.DataFrame(
        [
            dict(
                experiment="Weight grafting",
                claim="Grafting W_{F,I} helps",
                model="m",
                paper="1.13",
                ours="graft 9.06",
                basis="3 seeds",
                verdict="does not reproduce",
            )
        ]
    )
    assert "Grafting W<sub>F,I</sub> helps" in claims_html(claims)


def test_whiskers_stop_at_the_best_rank_and_legends_use_words():
    frame = pd.DataFrame(
        dict(eval_set=["facts_F'"] * 2, weights=["base+W_F'", "graft"], mean=[1.0, 5.0], sd=[3.0, 1.0])
    )
    spec = grouped_bars(frame, x="eval_set", color="weights").to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert min(v["lo"] for v in values) == 0.0 and {v["weights"] for v in values} == {"base + W(F')", "graft"}
    assert {v["panel"] for v in values} == {"facts F'"}


def test_measure_bars_keep_the_table_order_and_trajectory_legends_show_line_colours():
    frame = pd.DataFrame(dict(measure=["z first", "a second"], model=["m", "m"], rank=[11.4, 2.0]))
    spec = measure_bars(frame, measure="measure", value="rank", color="model", chance=9.5).to_dict()
    assert spec["facet"]["row"]["sort"] == ["z first", "a second"]
    layer = spec["spec"]["layer"][0]["encoding"]["x"]
    assert "domain" not in layer.get("scale", {})  # the axis reaches the longest bar
    traj = pd.DataFrame(dict(hop="first_hop", split=["fact", "implication"], epoch=[1, 1], mean_rank=[1.0, 2.0]))
    legend = rank_trajectories(traj).to_dict()["spec"]["layer"][0]["encoding"]["color"]["legend"]
    assert legend["symbolOpacity"] == 1


def test_phase_marks_are_dropped_before_the_bands_average_the_ranks():
    traj = pd.DataFrame(dict(order="joint", split="fact", epoch=[1, 2], seed=[0, 1], mean_rank=[1.0, 2.0]))
    marks = pd.DataFrame(dict(order=["joint"], epoch=[1]))
    spec = rank_trajectories(traj, column="order", marks=marks).to_dict()
    for layer in spec["spec"]["layer"]:
        transforms = layer.get("transform", [])
        if any("aggregate" in t for t in transforms):  # a band or mean line: the filter comes first
            assert transforms[0] == {"filter": "isValid(datum.mean_rank)"}
    assert any(
        layer.get("mark", {}).get("type") == "rule" and layer["encoding"]["x"]["field"] == "mark_x"
        for layer in spec["spec"]["layer"]
    )
