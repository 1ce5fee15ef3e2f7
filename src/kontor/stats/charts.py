"""Statistics charts as inline SVG, drawn on the server so they work without JavaScript and print sharply.

Every chart is a pure function of its figures (no database, request or clock) and returns ``Markup`` a
template can put straight into the page. What makes them accessible:

- The ``<svg>`` is ``role="img"``, named by its ``<title>`` (``aria-labelledby``) and described by its
  ``<desc>`` and, when the page passes ``table_id``, by the table that carries the same figures
  (``aria-describedby``). A chart never carries figures alone: the table is the text alternative.
- Every caller-given string (titles, labels, series names, units, css classes) is escaped here; ids are
  checked against a strict pattern because they end up inside ``url(#…)`` references.
- Colours come from static/css/stats.css: every series colour has at least 3:1 contrast against white
  (WCAG 1.4.11), the series differ in lightness too, wide bars carry a pattern per series, and a legend
  names each series in text. The heatmap's shades are one hue from light to dark, with the number
  printed in each cell when it fits.
- The SVG has only a viewBox, so it scales with the page's CSS; text is sized in viewBox units.

Numbers in labels go through ``format_number`` (default ``str``) so the page can pass Babel's locale
formatting; words ("No data", units) come from the caller, already translated. A chart whose figures
hold no positive value at all (no rows, or only zeros) is drawn as a frame saying ``no_data``: an empty
axis would look like a rendering failure.

Text width cannot be measured on the server, so layout estimates it from the character count; the
estimate errs wide, which only costs a little white space.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["SERIES_CSS", "Series", "bar_chart", "hbar_chart", "heatmap", "nice_ticks"]

Number = float | int
NumberFormat = Callable[[Number], str]

# The series classes stats.css colours, in the order a chart should use them.
SERIES_CSS = tuple(f"series-{n}" for n in range(1, 7))

_WIDTH = 720  # viewBox width of every chart; heights follow from the content
_FONT = 13
_SMALL = 12
_CHAR = 0.62  # average advance of a character, in ems, erring wide (digits in system-ui are ~0.55)
_GAP = 8
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}\Z")

# Steps a reader can add up in their head.
_NICE = (1, 2, 5, 10)
# Label steps for crowded axes: every label, then every 2nd, 5th, 10th, 20th … slot.
_LABEL_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

# White marks drawn over a series' colour, so series stay apart in greyscale print and for readers who
# cannot tell the colours apart. The first series is solid.
_PATTERNS = (
    "",
    '<path d="M-2 2L2-2M0 8L8 0M6 10L10 6" stroke="#fff" stroke-width="1.6" fill="none"/>',
    '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
    '<path d="M0 0L8 8M8 0L0 8" stroke="#fff" stroke-width="1.2" fill="none"/>',
    '<path d="M0 4H8" stroke="#fff" stroke-width="1.6" fill="none"/>',
    '<path d="M4 0V8" stroke="#fff" stroke-width="1.6" fill="none"/>',
)
# Patterns only read on bars at least this wide; thinner bars are solid and differ by lightness.
_PATTERN_MIN_WIDTH = 8

# The heatmap's shades: shade-0 is "none", shade-1 … shade-4 grow darker. Text on the darkest is white.
_SHADES = 4


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of figures in a bar chart, e.g. the visits of one channel per day.

    ``css`` is a class from stats.css that gives the series its colour (see ``SERIES_CSS``)."""

    name: str
    values: Sequence[Number]
    css: str


def nice_ticks(max_value: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Axis ticks from 0 up to the first tick at or above ``max_value``, at most ``count`` steps.

    The step is 1, 2 or 5 × 10ⁿ, the smallest such that ``count`` steps reach ``max_value``. ``integer``
    keeps the step at least 1, for counts (no axis at "0.5 visits"). Ticks are ints when the step is
    whole, so ``str`` prints "10" rather than "10.0". A maximum of 0 still gets an axis: [0, 1].
    """
    if count < 1:
        raise ValueError("at least one step")
    if not math.isfinite(max_value) or max_value < 0:
        raise ValueError("a finite maximum of zero or more")
    if max_value == 0:
        return [0, 1]
    exponent = math.floor(math.log10(max_value / count))
    fraction = max_value / count / 10.0**exponent
    # The tolerance absorbs float noise such as 2.0000000000000004 (which must stay a step of 2).
    mantissa = next((n for n in _NICE if n >= fraction - 1e-9), 10)
    if exponent >= 0 or integer:
        whole = mantissa * 10**exponent if exponent >= 0 else 1
        return [k * whole for k in range(_steps(max_value, whole) + 1)]
    # Rounding to the step's decimals keeps 0.1 × 3 at 0.3, not 0.30000000000000004.
    decimals = -exponent
    step = round(mantissa * 10.0**exponent, decimals)
    return [round(k * step, decimals) for k in range(_steps(max_value, step) + 1)]


def _steps(max_value: float, step: float) -> int:
    return math.ceil(max_value / step - 1e-9)


def bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    id: str,
    no_data: str,
    stacked: bool = True,
    format_number: NumberFormat = str,
    table_id: str | None = None,
    label_step: int | None = None,
) -> Markup:
    """Vertical bars, one slot per label, each series a bar in it: stacked (one column per label whose
    height is the total) or grouped side by side.

    Built for visits per day by channel: up to 366 slots draw as thin bars, and the x labels are thinned
    to every 2nd, 5th, 10th … slot so they do not overlap (``label_step`` overrides that, e.g. 7 to
    label each week's first day). Each bar has a ``<title>`` with its label, series, figure and ``unit``
    for mouse users; the unit also names the y axis.
    """
    _check_ids(id, table_id)
    _check_step(label_step)
    for one in series:
        _check_values(one.values, len(labels))
    if not labels or not any(value > 0 for one in series for value in one.values):
        return _no_data_chart(id=id, title=title, description=description, table_id=table_id, text=no_data)

    columns = [[one.values[j] for one in series] for j in range(len(labels))]
    peak = max(sum(column) if stacked else max(column) for column in columns)
    ticks = nice_ticks(peak, 5, integer=_all_int(value for column in columns for value in column))
    tick_texts = [format_number(tick) for tick in ticks]

    slot_label_width = _text_width(max(labels, key=len), _SMALL)
    left = max(_text_width(max(tick_texts, key=len), _SMALL) + _GAP + 4, slot_label_width / 2 + 4)
    right = max(16.0, slot_label_width / 2)
    slot = (_WIDTH - left - right) / len(labels)
    step = label_step or _label_step(slot, slot_label_width)
    bar_width = slot * 0.8 if stacked else slot * 0.8 / len(series)
    patterned = bar_width >= _PATTERN_MIN_WIDTH

    legend, legend_height = _legend(series, chart_id=id, top=4, patterned=patterned)
    plot_top = legend_height + _FONT + 14  # room for the unit above the axis
    plot_height = 240
    baseline = plot_top + plot_height
    scale = plot_height / ticks[-1]
    body = [*legend, _text("chart-unit", 4, plot_top - 10, unit)]
    body += _y_axis(ticks, tick_texts, left=left, right=_WIDTH - right, baseline=baseline, scale=scale)
    for index, one in enumerate(series):
        css = escape(one.css)
        fill = _series_fill(f"{id}-p{index}", index, patterned)
        rects = []
        for j, value in enumerate(one.values):
            below = sum(columns[j][:index]) if stacked else 0
            x = left + j * slot + slot * 0.1 + (0 if stacked else index * bar_width)
            height = value * scale
            y = baseline - below * scale - height
            tip = f"{labels[j]}, {one.name}: {format_number(value)} {unit}"
            rects.append(
                f'<rect class="bar" x="{_n(x)}" y="{_n(y)}" width="{_n(bar_width)}" height="{_n(height)}"'
                f"><title>{escape(tip)}</title></rect>"
            )
        defs = _pattern_def(f"{id}-p{index}", index) if fill != "currentColor" else ""
        # The fill sits on the group once, not on each of up to 366 bars.
        body.append(f'<g class="series {css}" fill="{fill}">{defs}{"".join(rects)}</g>')
    body.append(_line("chart-axis", left, _WIDTH - right, baseline, baseline))
    for j in range(0, len(labels), step):
        centre = left + (j + 0.5) * slot
        body.append(_line("chart-axis", centre, centre, baseline, baseline + 4))
        body.append(
            _text("chart-label", centre, baseline + 6 + _SMALL, labels[j], size=_SMALL, anchor="middle")
        )
    height = baseline + 6 + _SMALL + 8
    return _svg(
        id=id,
        title=title,
        description=description,
        table_id=table_id,
        kind="bar-chart",
        height=height,
        body=body,
    )


def heatmap(
    *,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[int]],
    id: str,
    no_data: str,
    format_number: NumberFormat = str,
    table_id: str | None = None,
    label_step: int | None = None,
) -> Markup:
    """A grid of counts, e.g. visits per weekday (rows) and hour (columns): each cell shaded by which of
    up to four "nice" ranges its count falls in, white for zero, with the count printed in the cell
    when it fits. A legend below gives each shade's range in text.
    """
    _check_ids(id, table_id)
    _check_step(label_step)
    if len(values) != len(row_labels):
        raise ValueError("one row of values per row label")
    for row in values:
        _check_values(row, len(column_labels))
    if not row_labels or not column_labels or not any(value > 0 for row in values for value in row):
        return _no_data_chart(id=id, title=title, description=description, table_id=table_id, text=no_data)

    bounds = nice_ticks(max(max(row) for row in values), _SHADES, integer=True)
    left = _text_width(max(row_labels, key=len), _SMALL) + _GAP + 4
    column_label_width = _text_width(max(column_labels, key=len), _SMALL)
    right = max(8.0, column_label_width / 2)
    top = _SMALL + 12
    cell_width = (_WIDTH - left - right) / len(column_labels)
    cell_height = 30
    step = label_step or _label_step(cell_width, column_label_width)

    body = []
    for j in range(0, len(column_labels), step):
        centre = left + (j + 0.5) * cell_width
        body.append(_text("chart-label", centre, top - 8, column_labels[j], size=_SMALL, anchor="middle"))
    for i, row in enumerate(values):
        y = top + i * cell_height
        middle = y + cell_height / 2 + _SMALL * 0.35
        body.append(_text("chart-label", left - _GAP, middle, row_labels[i], size=_SMALL, anchor="end"))
        for j, value in enumerate(row):
            box = (left + j * cell_width, y, cell_width, cell_height)
            body.append(_cell(f"{row_labels[i]}, {column_labels[j]}", value, bounds, format_number, box))
    legend_top = top + len(values) * cell_height + 16
    legend, legend_height = _shade_legend(bounds, format_number, left=left, top=legend_top)
    body += legend
    height = legend_top + legend_height + 4
    return _svg(
        id=id,
        title=title,
        description=description,
        table_id=table_id,
        kind="heatmap",
        height=height,
        body=body,
    )


def hbar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[Number],
    unit: str,
    id: str,
    no_data: str,
    marker: float | None = None,
    marker_label: str | None = None,
    format_number: NumberFormat = str,
    table_id: str | None = None,
    css: str = SERIES_CSS[0],
) -> Markup:
    """Horizontal bars, one per label, each with its figure printed at its end: e.g. the median wait per
    service. ``marker`` draws a dashed line across all bars at that value (e.g. the 15-minute target),
    labelled ``marker_label`` (default: the formatted value). Long labels are cut with "…" at 40% of the
    width; the bar's ``<title>`` and the page's table keep the whole text.
    """
    _check_ids(id, table_id)
    _check_values(values, len(labels))
    if marker is not None and (not math.isfinite(marker) or marker < 0):
        raise ValueError("a finite marker of zero or more")
    if not labels or not any(value > 0 for value in values):
        return _no_data_chart(id=id, title=title, description=description, table_id=table_id, text=no_data)

    peak = max(max(values), marker or 0)
    ticks = nice_ticks(peak, 5, integer=_all_int(values) and (marker is None or float(marker).is_integer()))
    value_texts = [format_number(value) for value in values]
    max_label = _WIDTH * 0.4
    shown = [_cut(label, max_label, _FONT) for label in labels]
    left = max(_text_width(max(shown, key=len), _FONT), 24) + _GAP
    right = _text_width(max(value_texts, key=len), _FONT) + _GAP + 8
    tick_texts = [format_number(tick) for tick in ticks]
    right = max(right, _text_width(tick_texts[-1], _SMALL) / 2 + 4)
    top = _SMALL + 14 if marker is not None else 8
    row_height = 30
    bar_height = 18
    plot_width = _WIDTH - left - right
    bottom = top + len(labels) * row_height
    scale = plot_width / ticks[-1]

    body = []
    for tick, text in zip(ticks, tick_texts, strict=True):
        x = left + tick * scale
        body.append(_line("chart-grid", x, x, top, bottom))
        body.append(_text("chart-tick", x, bottom + 6 + _SMALL, text, size=_SMALL, anchor="middle"))
    bars = []
    for i, value in enumerate(values):
        y = top + i * row_height
        width = value * scale
        bar_y = y + (row_height - bar_height) / 2
        text_y = y + row_height / 2 + _FONT * 0.35
        tip = f"{labels[i]}: {value_texts[i]} {unit}"
        bars.append(_text("chart-label", left - _GAP, text_y, shown[i], anchor="end"))
        bars.append(
            f'<rect class="bar" x="{_n(left)}" y="{_n(bar_y)}" width="{_n(width)}" height="{bar_height}"'
            f' fill="currentColor"><title>{escape(tip)}</title></rect>'
        )
        bars.append(_text("chart-value", left + width + 6, text_y, value_texts[i]))
    body.append(f'<g class="series {escape(css)}">{"".join(bars)}</g>')
    body.append(_line("chart-axis", left, left, top, bottom))
    if marker is not None:
        x = left + marker * scale
        text = marker_label if marker_label is not None else format_number(marker)
        anchor = "end" if x > _WIDTH - _text_width(text, _SMALL) / 2 - 4 else "middle"
        body.append(_line("chart-marker", x, x, top - 4, bottom))
        body.append(_text("chart-marker-label", x, top - 8, text, size=_SMALL, anchor=anchor))
    unit_y = bottom + 6 + _SMALL + 6 + _SMALL
    body.append(_text("chart-unit", _WIDTH - right, unit_y, unit, size=_SMALL, anchor="end"))
    return _svg(
        id=id,
        title=title,
        description=description,
        table_id=table_id,
        kind="hbar-chart",
        height=unit_y + 8,
        body=body,
    )


# --- the frame ---------------------------------------------------------------------------------------


def _svg(
    *, id: str, title: str, description: str, table_id: str | None, kind: str, height: float, body: list[str]
) -> Markup:
    described = f"{id}-desc {table_id}" if table_id else f"{id}-desc"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" id="{id}" role="img"'
        f' viewBox="0 0 {_WIDTH} {_n(math.ceil(height))}" font-size="{_FONT}" focusable="false"'
        f' aria-labelledby="{id}-title" aria-describedby="{described}">'
        f'<title id="{id}-title">{escape(title)}</title><desc id="{id}-desc">{escape(description)}</desc>'
    )
    # Every piece of caller text in ``body`` went through escape(); ids matched _ID.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _no_data_chart(*, id: str, title: str, description: str, table_id: str | None, text: str) -> Markup:
    body = [
        f'<rect class="chart-empty" x="0.5" y="0.5" width="{_WIDTH - 1}" height="119" rx="6"/>',
        _text("chart-nodata", _WIDTH / 2, 66, text, size=16, anchor="middle"),
    ]
    return _svg(
        id=id, title=title, description=description, table_id=table_id, kind="no-data", height=120, body=body
    )


def _check_ids(id: str, table_id: str | None) -> None:
    """Ids go into ``url(#…)`` and ``aria-*`` references, where escaping would not keep them working."""
    for value in (id, table_id):
        if value is not None and not _ID.match(value):
            raise ValueError(f"not a usable element id: {value!r}")


def _check_step(label_step: int | None) -> None:
    if label_step is not None and label_step < 1:
        raise ValueError("a label step of at least 1")


def _check_values(values: Sequence[Number], expected: int) -> None:
    if len(values) != expected:
        raise ValueError(f"{len(values)} values for {expected} labels")
    if any(not math.isfinite(value) or value < 0 for value in values):
        raise ValueError("charts draw finite figures of zero or more")


# --- axes and legends --------------------------------------------------------------------------------


def _y_axis(
    ticks: list[float], texts: list[str], *, left: float, right: float, baseline: float, scale: float
) -> list[str]:
    parts = []
    for tick, text in zip(ticks, texts, strict=True):
        y = baseline - tick * scale
        parts.append(_line("chart-grid", left, right, y, y))
        parts.append(_text("chart-tick", left - _GAP, y + _SMALL * 0.35, text, size=_SMALL, anchor="end"))
    return parts


def _legend(
    series: Sequence[Series], *, chart_id: str, top: float, patterned: bool
) -> tuple[list[str], float]:
    """A swatch and the name of each series, in rows that wrap at the chart's width, left to right in
    the order the stacks grow upwards. Swatches are patterned exactly when the bars are."""
    parts = []
    x, y, size = 4.0, top, 14
    for index, one in enumerate(series):
        width = size + 6 + _text_width(one.name, _FONT) + 20
        if x > 4 and x + width > _WIDTH:
            x, y = 4.0, y + size + 8
        fill = _series_fill(f"{chart_id}-lp{index}", index, patterned)
        defs = _pattern_def(f"{chart_id}-lp{index}", index) if fill != "currentColor" else ""
        parts.append(
            f'<g class="chart-legend-item {escape(one.css)}">{defs}'
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{size}" height="{size}" fill="{fill}"/>'
            f"{_text('chart-legend', x + size + 6, y + size - 2, one.name)}</g>"
        )
        x += width
    return parts, (y - top + size + 4 if series else 0)


def _shade_legend(
    bounds: list[float], format_number: NumberFormat, *, left: float, top: float
) -> tuple[list[str], float]:
    items = [(0, format_number(0))]
    for level in range(1, len(bounds)):
        low, high = int(bounds[level - 1]) + 1, int(bounds[level])
        text = format_number(high) if low == high else f"{format_number(low)}–{format_number(high)}"
        items.append((_shade(level, len(bounds) - 1), text))
    parts = []
    x, size = left, 16
    for shade, text in items:
        parts.append(
            f'<rect class="shade-{shade}" x="{_n(x)}" y="{_n(top)}" width="{size}" height="{size}"/>'
            f"{_text('chart-legend', x + size + 6, top + size - 3, text, size=_SMALL)}"
        )
        x += size + 6 + _text_width(text, _SMALL) + 18
    return parts, size


def _cell(
    name: str,
    value: int,
    bounds: list[float],
    format_number: NumberFormat,
    box: tuple[float, float, float, float],
) -> str:
    """One heatmap cell named ``name`` (its row and column, for the hover title): its shade, and its
    count when the text fits. The count is hidden from screen readers, which read the chart's table."""
    x, y, width, height = box
    levels = len(bounds) - 1
    level = 0 if value == 0 else next(k for k in range(1, len(bounds)) if value <= bounds[k])
    shade = _shade(level, levels)
    text = format_number(value)
    cell = (
        f'<rect class="cell shade-{shade}" x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}">'
        f"<title>{escape(f'{name}: {text}')}</title></rect>"
    )
    if _text_width(text, _SMALL) + 4 > width:
        return cell
    tone = " on-dark" if shade == _SHADES else (" zero" if value == 0 else "")
    middle = y + height / 2 + _SMALL * 0.35
    return cell + _text(f"cell-text{tone}", x + width / 2, middle, text, size=_SMALL, anchor="middle")


def _shade(level: int, levels: int) -> int:
    """Spread ``levels`` ranges over the four shades, the top range always darkest."""
    return 0 if level == 0 else math.ceil(level * _SHADES / levels)


# --- small helpers -----------------------------------------------------------------------------------


def _series_fill(pattern_id: str, index: int, patterned: bool) -> str:
    """The fill of a series' bars: its pattern (falling back to its plain colour), or the plain colour
    for the first series and for bars too thin to show a pattern."""
    if not patterned or index % len(_PATTERNS) == 0:
        return "currentColor"
    return f"url(#{pattern_id}) currentColor"


def _pattern_def(pattern_id: str, index: int) -> str:
    """The pattern's background is ``currentColor``: a pattern inherits from where it is defined, so it
    sits inside the series' group and takes the colour stats.css gives that group."""
    return (
        f'<defs><pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
        f'<rect width="8" height="8" fill="currentColor"/>{_PATTERNS[index % len(_PATTERNS)]}'
        "</pattern></defs>"
    )


def _line(css: str, x1: float, x2: float, y1: float, y2: float) -> str:
    return f'<line class="{css}" x1="{_n(x1)}" x2="{_n(x2)}" y1="{_n(y1)}" y2="{_n(y2)}"/>'


def _text(
    css: str, x: float, y: float, text: str, *, size: int | None = None, anchor: str | None = None
) -> str:
    """A ``<text>`` whose content is escaped here; ``css``, ``size`` and ``anchor`` come from this module."""
    extra = (f' font-size="{size}"' if size else "") + (f' text-anchor="{anchor}"' if anchor else "")
    return f'<text class="{css}" x="{_n(x)}" y="{_n(y)}"{extra}>{escape(text)}</text>'


def _label_step(slot: float, label_width: float) -> int:
    return next((step for step in _LABEL_STEPS if step * slot >= label_width + _GAP), _LABEL_STEPS[-1])


def _text_width(text: str, size: float) -> float:
    return len(text) * size * _CHAR


def _cut(text: str, width: float, size: float) -> str:
    fits = int(width / (size * _CHAR))
    return text if len(text) <= fits else text[: max(1, fits - 1)].rstrip() + "…"


def _all_int(values: Iterable[Number]) -> bool:
    return all(isinstance(value, int) for value in values)


def _n(value: float) -> str:
    """A coordinate with at most two decimals: the SVG stays small with 366 bars."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
