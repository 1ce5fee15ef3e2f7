"""The statistics charts: accessible, escaped, proportional SVG drawn from figures alone (no database)."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from kontor.stats.charts import SERIES_CSS, Series, bar_chart, hbar_chart, heatmap, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(\"x\")</script> & Co 'quoted'"
STATS_CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "stats.css"


def parse(markup: object) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - the charts' own output, not untrusted input


def elements(root: ET.Element, tag: str, css: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{SVG}{tag}")
    return [e for e in found if css is None or css in e.get("class", "").split()]


def series_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "series" in g.get("class", "").split()]


def texts(root: ET.Element, css: str) -> list[str]:
    return [e.text or "" for e in elements(root, "text", css)]


def day_labels(days: int) -> list[str]:
    return [f"day {n}" for n in range(1, days + 1)]


def a_bar_chart(**overrides: object):
    arguments: dict[str, object] = {
        "title": "Visits per day",
        "description": "Visits per day by channel",
        "labels": ["Mon", "Tue", "Wed"],
        "series": [
            Series("Walk-in", [3, 0, 5], "series-1"),
            Series("Web booking", [1, 2, 5], "series-2"),
            Series("Booked by an agent", [0, 4, 10], "series-3"),
        ],
        "unit": "visits",
        "id": "visits",
        "no_data": "No data",
    }
    arguments.update(overrides)
    return bar_chart(**arguments)  # type: ignore[arg-type]


def a_heatmap(**overrides: object):
    arguments: dict[str, object] = {
        "title": "When the rush comes",
        "description": "Visits per weekday and hour",
        "row_labels": ["Mon", "Tue"],
        "column_labels": ["09", "10", "11"],
        "values": [[0, 3, 40], [12, 25, 7]],
        "id": "rush",
        "no_data": "No data",
    }
    arguments.update(overrides)
    return heatmap(**arguments)  # type: ignore[arg-type]


def an_hbar_chart(**overrides: object):
    arguments: dict[str, object] = {
        "title": "Median wait per service",
        "description": "Median wait in minutes",
        "labels": ["Passports", "Building permits", "Parking"],
        "values": [7, 22, 12.5],
        "unit": "minutes",
        "id": "wait",
        "no_data": "No data",
        "marker": 15,
    }
    arguments.update(overrides)
    return hbar_chart(**arguments)  # type: ignore[arg-type]


CHARTS = [a_bar_chart, a_heatmap, an_hbar_chart]


# --- nice_ticks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_value", "count", "integer", "ticks"),
    [
        (10, 5, False, [0, 2, 4, 6, 8, 10]),
        (7, 5, False, [0, 2, 4, 6, 8]),
        (3, 5, False, [0, 1, 2, 3]),
        (100, 5, False, [0, 20, 40, 60, 80, 100]),
        (99, 10, False, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
        (45, 4, False, [0, 20, 40, 60]),
        (1234, 5, False, [0, 500, 1000, 1500]),
        (250_000, 5, False, [0, 50_000, 100_000, 150_000, 200_000, 250_000]),
        (1, 5, False, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.3, 3, False, [0, 0.1, 0.2, 0.3]),
        (0.07, 5, False, [0, 0.02, 0.04, 0.06, 0.08]),
        (12.5, 5, False, [0, 5, 10, 15]),
        (1, 1, False, [0, 1]),
        (0, 5, False, [0, 1]),
        (1, 5, True, [0, 1]),
        (3, 5, True, [0, 1, 2, 3]),
        (2, 4, True, [0, 1, 2]),
        (141, 4, True, [0, 50, 100, 150]),
    ],
)
def test_nice_ticks(max_value: float, count: int, integer: bool, ticks: list[float]) -> None:
    assert nice_ticks(max_value, count, integer=integer) == ticks


def test_whole_ticks_are_ints_so_they_print_without_a_decimal() -> None:
    assert [str(tick) for tick in nice_ticks(10, 5)] == ["0", "2", "4", "6", "8", "10"]
    assert str(nice_ticks(0.3, 3)[-1]) == "0.3"


@pytest.mark.parametrize(("max_value", "count"), [(-1, 5), (math.nan, 5), (math.inf, 5), (10, 0)])
def test_nice_ticks_refuses_nonsense(max_value: float, count: int) -> None:
    with pytest.raises(ValueError):
        nice_ticks(max_value, count)


@given(
    max_value=st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    count=st.integers(min_value=1, max_value=12),
)
def test_nice_ticks_cover_the_maximum_in_nice_even_steps(max_value: float, count: int) -> None:
    ticks = nice_ticks(max_value, count)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0
    assert 1 <= len(ticks) - 1 <= count
    assert ticks[-1] >= max_value * (1 - 1e-9)
    assert ticks[-2] < max_value  # no tick more than needed
    assert all(math.isclose(b - a, step, rel_tol=1e-6) for a, b in itertools.pairwise(ticks))
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert any(math.isclose(mantissa, nice, rel_tol=1e-6) for nice in (1, 2, 5))


@given(max_value=st.integers(min_value=1, max_value=10**7), count=st.integers(min_value=1, max_value=12))
def test_integer_ticks_step_by_whole_numbers(max_value: int, count: int) -> None:
    ticks = nice_ticks(max_value, count, integer=True)
    assert all(isinstance(tick, int) for tick in ticks)
    assert ticks[-1] >= max_value > ticks[-2]


# --- what every chart has ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", CHARTS)
@pytest.mark.parametrize("empty", [False, True])
def test_chart_is_an_accessible_image(make, empty: bool) -> None:
    no_data = {"labels": [], "series": []} if make is a_bar_chart else {}
    if empty and make is a_heatmap:
        no_data = {"row_labels": [], "values": []}
    if empty and make is an_hbar_chart:
        no_data = {"labels": [], "values": []}
    root = parse(make(table_id="figures-table", **(no_data if empty else {})))

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox", ""))
    assert root.get("width") is None and root.get("height") is None  # the page's CSS sizes it
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    title = ids[root.get("aria-labelledby")]
    assert title.tag == f"{SVG}title" and title.text
    described = root.get("aria-describedby", "").split()
    assert ids[described[0]].tag == f"{SVG}desc"
    assert described[1:] == ["figures-table"]


@pytest.mark.parametrize("make", CHARTS)
def test_without_a_table_the_description_alone_describes(make) -> None:
    root = parse(make())
    assert root.get("aria-describedby") == f"{root.get('id')}-desc"


@pytest.mark.parametrize("make", CHARTS)
def test_every_reference_resolves_and_ids_are_the_charts_own(make) -> None:
    root = parse(make())
    chart_id = root.get("id")
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    assert all(i == chart_id or i.startswith(f"{chart_id}-") for i in ids)
    for element in root.iter():
        for reference in re.findall(r"url\(#([^)]+)\)", element.get("fill", "")):
            assert reference in ids


def test_a_bar_chart_says_no_data_for_empty_and_all_zero_figures() -> None:
    for chart in (
        a_bar_chart(labels=[], series=[]),
        a_bar_chart(labels=["Mon"], series=[]),
        a_bar_chart(labels=["Mon", "Tue"], series=[Series("Walk-in", [0, 0], "series-1")]),
        a_bar_chart(no_data="Inga uppgifter", labels=[], series=[]),
    ):
        root = parse(chart)
        assert not elements(root, "rect", "bar")
        assert texts(root, "chart-nodata")[0] in {"No data", "Inga uppgifter"}


def test_a_heatmap_and_an_hbar_chart_say_no_data_when_nothing_happened() -> None:
    zeros = parse(a_heatmap(values=[[0, 0, 0], [0, 0, 0]], no_data="Ei tietoja"))
    assert texts(zeros, "chart-nodata") == ["Ei tietoja"]
    assert not elements(zeros, "rect", "cell")
    no_columns = parse(a_heatmap(row_labels=["Mon"], column_labels=[], values=[[]]))
    assert texts(no_columns, "chart-nodata") == ["No data"]
    empty = parse(an_hbar_chart(labels=[], values=[]))
    assert texts(empty, "chart-nodata") == ["No data"]
    assert not elements(empty, "line", "chart-marker")


@pytest.mark.parametrize("make", CHARTS)
def test_hostile_text_is_escaped(make) -> None:
    if make is a_bar_chart:
        extra = {
            "labels": [HOSTILE, "Tue", "Wed"],
            "series": [Series(HOSTILE, [1, 2, 3], 'series-1" onload="alert(1)')],
            "unit": HOSTILE,
        }
    elif make is a_heatmap:
        extra = {"row_labels": [HOSTILE, "Tue"], "column_labels": [HOSTILE, "10", "11"]}
    else:
        extra = {"labels": [HOSTILE, "b", "c"], "unit": HOSTILE, "marker_label": HOSTILE, "css": '"><script>'}
    markup = str(make(title=HOSTILE, description=HOSTILE, no_data=HOSTILE, **extra))

    assert "<script" not in markup
    root = parse(markup)  # well-formed: every & and < became an entity
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert all(not name.startswith("on") for e in root.iter() for name in e.attrib)
    assert root.find(f"{SVG}title").text == HOSTILE
    assert root.find(f"{SVG}desc").text == HOSTILE
    # Labels, names and units too, beyond the title and description (as text or inside a hover title).
    assert sum(HOSTILE in (e.text or "") for e in root.iter()) >= 4


@pytest.mark.parametrize("make", CHARTS)
def test_hostile_text_is_escaped_in_the_no_data_chart(make) -> None:
    empty = {
        a_bar_chart: {"labels": [], "series": []},
        a_heatmap: {"row_labels": [], "values": []},
        an_hbar_chart: {"labels": [], "values": []},
    }[make]
    root = parse(make(title=HOSTILE, no_data=HOSTILE, **empty))
    assert root.find(f"{SVG}title").text == HOSTILE
    assert texts(root, "chart-nodata") == [HOSTILE]


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "two words"},
        {"id": '"><script>'},
        {"id": "1starts-with-a-digit"},
        {"table_id": "x) url(#y"},
    ],
)
@pytest.mark.parametrize("make", CHARTS)
def test_unusable_ids_are_refused(make, bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="id"):
        make(**bad)


@pytest.mark.parametrize(
    ("make", "bad"),
    [
        (a_bar_chart, {"series": [Series("Walk-in", [1, 2], "series-1")]}),
        (a_bar_chart, {"series": [Series("Walk-in", [1, -2, 3], "series-1")]}),
        (a_bar_chart, {"series": [Series("Walk-in", [1, math.nan, 3], "series-1")]}),
        (a_heatmap, {"values": [[1, 2, 3]]}),
        (a_heatmap, {"values": [[1, 2, 3], [1, 2]]}),
        (an_hbar_chart, {"values": [1, 2]}),
        (an_hbar_chart, {"values": [1, 2, -3]}),
        (an_hbar_chart, {"marker": -1}),
        (a_bar_chart, {"label_step": 0}),
        (a_heatmap, {"label_step": -1}),
    ],
)
def test_figures_that_do_not_fit_the_labels_are_refused(make, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make(**bad)


# --- bar chart ---------------------------------------------------------------------------------------


def bar_heights(root: ET.Element) -> list[list[float]]:
    """Heights of the bars, one list per series, in label order."""
    return [
        [float(rect.get("height")) for rect in elements(group, "rect", "bar")]
        for group in series_groups(root)
    ]


def test_a_bar_chart_draws_one_bar_per_value_with_stacked_totals_proportional() -> None:
    series = [
        Series("Walk-in", [3, 0, 5, 1], "series-1"),
        Series("Web booking", [1, 2, 5, 0], "series-2"),
        Series("Booked by an agent", [0, 4, 10, 0], "series-3"),
    ]
    root = parse(a_bar_chart(labels=["a", "b", "c", "d"], series=series))
    heights = bar_heights(root)

    assert [len(row) for row in heights] == [4, 4, 4]
    totals = [4, 6, 20, 1]
    column_heights = [sum(row[j] for row in heights) for j in range(4)]
    per_visit = column_heights[2] / totals[2]
    assert column_heights == pytest.approx([total * per_visit for total in totals], abs=0.02)
    for row, one in zip(heights, series, strict=True):
        assert row == pytest.approx([value * per_visit for value in one.values], abs=0.02)


def test_stacked_segments_sit_on_each_other() -> None:
    series = [Series("x", [2], "series-1"), Series("y", [3], "series-2")]
    first, second = (
        elements(g, "rect", "bar")[0] for g in series_groups(parse(a_bar_chart(series=series, labels=["a"])))
    )
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(
        float(first.get("y")), abs=0.02
    )
    assert first.get("x") == second.get("x")


def test_grouped_bars_stand_side_by_side_from_the_same_baseline() -> None:
    series = [Series("x", [2, 4], "series-1"), Series("y", [3, 1], "series-2")]
    root = parse(a_bar_chart(labels=["a", "b"], series=series, stacked=False))
    bars = [elements(g, "rect", "bar") for g in series_groups(root)]
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 1) for row in bars for r in row}
    assert len(bottoms) == 1
    assert float(bars[0][0].get("x")) < float(bars[1][0].get("x")) < float(bars[0][1].get("x"))
    heights = bar_heights(root)
    assert heights[0][1] / 4 == pytest.approx(heights[1][0] / 3, abs=0.01)


def test_the_tallest_stack_fits_under_the_top_tick() -> None:
    root = parse(a_bar_chart(labels=["a", "b"], series=[Series("x", [7, 3], "series-1")]))
    assert texts(root, "chart-tick") == ["0", "2", "4", "6", "8"]
    grid = {float(line.get("y1")) for line in elements(root, "line", "chart-grid")}
    tallest = min(float(rect.get("y")) for rect in elements(root, "rect", "bar"))
    assert tallest >= min(grid)


def test_a_year_of_days_draws_thin_bars_and_thinned_labels() -> None:
    labels = [f"2026-{n:03d}" for n in range(1, 367)]
    series = [
        Series(name, [n % 17 for n in range(366)], css) for name, css in zip("ABC", SERIES_CSS, strict=False)
    ]
    root = parse(a_bar_chart(labels=labels, series=series))

    assert len(elements(root, "rect", "bar")) == 3 * 366
    shown = elements(root, "text", "chart-label")
    assert 2 <= len(shown) <= 20
    assert shown[0].text == labels[0]
    centres = [float(text.get("x")) for text in shown]
    assert min(b - a for a, b in itertools.pairwise(centres)) > len(labels[0]) * 12 * 0.55
    assert all(rect.get("fill") is None for rect in elements(root, "rect", "bar"))  # the group fills them
    assert not list(root.iter(f"{SVG}pattern"))  # too thin for patterns: solid, legend too


def test_label_step_can_be_chosen_by_the_page() -> None:
    labels = day_labels(28)
    root = parse(a_bar_chart(labels=labels, series=[Series("x", [1] * 28, "series-1")], label_step=7))
    assert texts(root, "chart-label") == ["day 1", "day 8", "day 15", "day 22"]


def test_wide_bars_carry_a_pattern_per_series_and_thin_ones_are_solid() -> None:
    wide = parse(a_bar_chart())
    fills = [g.get("fill") for g in series_groups(wide)]
    assert fills == ["currentColor", "url(#visits-p1) currentColor", "url(#visits-p2) currentColor"]
    assert len({p.get("id") for p in wide.iter(f"{SVG}pattern")}) == 4  # 2 for bars, 2 for the legend

    labels = day_labels(366)
    thin = parse(
        a_bar_chart(labels=labels, series=[Series("x", [1] * 366, "a"), Series("y", [1] * 366, "b")])
    )
    fills = [g.get("fill") for g in series_groups(thin)]
    assert fills == ["currentColor", "currentColor"]
    swatches = [
        g.find(f"{SVG}rect").get("fill")
        for g in thin.iter(f"{SVG}g")
        if "chart-legend-item" in g.get("class")
    ]
    assert swatches == ["currentColor", "currentColor"]


def test_the_legend_names_every_series_in_text() -> None:
    root = parse(a_bar_chart())
    assert texts(root, "chart-legend") == ["Walk-in", "Web booking", "Booked by an agent"]
    items = [g for g in root.iter(f"{SVG}g") if "chart-legend-item" in g.get("class", "")]
    assert [g.get("class").split()[1] for g in items] == ["series-1", "series-2", "series-3"]


def test_numbers_go_through_the_pages_formatter() -> None:
    def swedish(value: float) -> str:
        return format_decimal(value, locale="sv_SE")

    series = [Series("Walk-in", [1234, 20.5], "series-1")]
    root = parse(a_bar_chart(labels=["a", "b"], series=series, format_number=swedish))
    assert "1\xa0500" in texts(root, "chart-tick")
    tips = [rect.find(f"{SVG}title").text for rect in elements(root, "rect", "bar")]
    assert tips == ["a, Walk-in: 1\xa0234 visits", "b, Walk-in: 20,5 visits"]


# --- heatmap -----------------------------------------------------------------------------------------


def cell_grid(root: ET.Element, rows: int) -> list[list[ET.Element]]:
    cells = elements(root, "rect", "cell")
    columns = len(cells) // rows
    return [cells[i * columns : (i + 1) * columns] for i in range(rows)]


def shade_of(cell: ET.Element) -> int:
    return int(next(c for c in cell.get("class").split() if c.startswith("shade-")).removeprefix("shade-"))


@pytest.mark.parametrize(
    ("values", "shades"),
    [
        # nice_ticks(40, 4) → 0, 10, 20, 30, 40: four ranges, one shade each.
        ([[0, 3, 40], [12, 25, 7]], [[0, 1, 4], [2, 3, 1]]),
        # nice_ticks(2, 4) → 0, 1, 2: two ranges spread to shades 2 and 4.
        ([[0, 1, 2]], [[0, 2, 4]]),
        # A single count: everything that happened is the top shade.
        ([[0, 1, 0]], [[0, 4, 0]]),
        ([[141, 50, 51]], [[4, 2, 3]]),
    ],
)
def test_heatmap_shades_follow_the_ranges(values: list[list[int]], shades: list[list[int]]) -> None:
    rows = ["Mon", "Tue"][: len(values)]
    root = parse(a_heatmap(row_labels=rows, column_labels=["09", "10", "11"], values=values))
    grid = cell_grid(root, len(values))
    assert [[shade_of(cell) for cell in row] for row in grid] == shades


def test_heatmap_draws_one_cell_per_value_with_its_count() -> None:
    values = [[h * d for h in range(24)] for d in range(7)]
    rows = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    root = parse(a_heatmap(row_labels=rows, column_labels=[f"{h:02d}" for h in range(24)], values=values))

    grid = cell_grid(root, 7)
    assert [len(row) for row in grid] == [24] * 7
    assert grid[3][5].find(f"{SVG}title").text == "Thu, 05: 15"
    printed = texts(root, "cell-text")
    assert len(printed) == 7 * 24
    assert printed[3 * 24 + 5] == "15"
    assert texts(root, "chart-label")[:2] == ["00", "01"]
    assert "Sun" in texts(root, "chart-label")


def test_heatmap_leaves_out_numbers_that_do_not_fit_their_cell() -> None:
    def long(value: float) -> str:
        return "x" * 40 if value == 40 else str(value)

    root = parse(a_heatmap(format_number=long))
    assert len(elements(root, "rect", "cell")) == 6
    assert texts(root, "cell-text") == ["0", "3", "12", "25", "7"]


def test_heatmap_text_on_the_darkest_shade_is_white_and_zeros_are_muted() -> None:
    root = parse(a_heatmap())
    classes = {e.text: e.get("class") for e in elements(root, "text", "cell-text")}
    assert classes["40"] == "cell-text on-dark"
    assert classes["0"] == "cell-text zero"
    assert classes["12"] == "cell-text"


def test_heatmap_legend_gives_each_shade_its_range() -> None:
    root = parse(a_heatmap(format_number=lambda v: format_decimal(v, locale="fi_FI")))
    assert texts(root, "chart-legend") == ["0", "1–10", "11–20", "21–30", "31–40"]
    swatches = [r for r in elements(root, "rect") if r.get("class", "").startswith("shade-")]
    assert [r.get("class") for r in swatches] == ["shade-0", "shade-1", "shade-2", "shade-3", "shade-4"]
    unit_steps = parse(a_heatmap(row_labels=["Mon"], values=[[0, 1, 2]]))
    assert texts(unit_steps, "chart-legend") == ["0", "1", "2"]


# --- horizontal bars ---------------------------------------------------------------------------------


def test_hbar_chart_draws_one_bar_per_value_proportionally_with_its_figure() -> None:
    root = parse(an_hbar_chart())
    bars = elements(root, "rect", "bar")
    widths = [float(bar.get("width")) for bar in bars]
    per_minute = widths[1] / 22
    assert widths == pytest.approx([7 * per_minute, 22 * per_minute, 12.5 * per_minute], abs=0.02)
    assert texts(root, "chart-value") == ["7", "22", "12.5"]
    assert texts(root, "chart-label") == ["Passports", "Building permits", "Parking"]
    assert [bar.find(f"{SVG}title").text for bar in bars][2] == "Parking: 12.5 minutes"
    assert texts(root, "chart-unit") == ["minutes"]


def test_hbar_marker_line_stands_at_its_value() -> None:
    root = parse(an_hbar_chart(marker=15, marker_label="Target 15 min"))
    bar = elements(root, "rect", "bar")[1]
    per_minute = float(bar.get("width")) / 22
    (line,) = elements(root, "line", "chart-marker")
    assert float(line.get("x1")) == pytest.approx(float(bar.get("x")) + 15 * per_minute, abs=0.02)
    assert texts(root, "chart-marker-label") == ["Target 15 min"]

    beyond = parse(an_hbar_chart(values=[1, 2, 3], marker=15))
    assert texts(beyond, "chart-marker-label") == ["15"]
    assert texts(beyond, "chart-tick")[-1] == "15"  # the axis reaches the marker


def test_hbar_without_a_marker_draws_none() -> None:
    root = parse(an_hbar_chart(marker=None))
    assert not elements(root, "line", "chart-marker")


def test_hbar_cuts_long_labels_but_keeps_them_whole_in_the_title() -> None:
    long = "Help with e-identification and digital services for older residents of the district"
    root = parse(an_hbar_chart(labels=[long, "b", "c"]))
    shown = texts(root, "chart-label")[0]
    assert shown.endswith("…") and len(shown) < len(long)
    assert elements(root, "rect", "bar")[0].find(f"{SVG}title").text == f"{long}: 7 minutes"


# --- the stylesheet ----------------------------------------------------------------------------------


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def css_value(rule: str, prop: str) -> str:
    css = STATS_CSS.read_text()
    match = re.search(rf"^{re.escape(rule)} \{{[^}}]*?\b{prop}: (#[0-9a-f]{{6}})", css, re.MULTILINE)
    assert match, f"{rule} {prop} missing from stats.css"
    return match.group(1)


@pytest.mark.parametrize("css", SERIES_CSS)
def test_series_colours_stand_out_against_white(css: str) -> None:
    assert contrast(css_value(f".{css}", "color"), "#ffffff") >= 3


def test_series_colours_differ_in_lightness_for_greyscale_print() -> None:
    lightness = sorted(luminance(css_value(f".{css}", "color")) for css in SERIES_CSS[:4])
    assert min(b - a for a, b in itertools.pairwise(lightness)) > 0.02


@pytest.mark.parametrize(
    ("shade", "text_rule"),
    [(0, ".chart .cell-text"), (1, ".chart .cell-text"), (2, ".chart .cell-text"), (3, ".chart .cell-text"),
     (4, ".chart .cell-text.on-dark")],
)  # fmt: skip
def test_cell_numbers_are_readable_on_their_shade(shade: int, text_rule: str) -> None:
    assert contrast(css_value(f".shade-{shade}", "fill"), css_value(text_rule, "fill")) >= 4.5


def test_print_styles_keep_colours_and_make_text_black() -> None:
    css = STATS_CSS.read_text()
    assert "print-color-adjust: exact" in css
    print_block = css[css.index("@media print") :]
    assert "fill: #000000" in print_block
