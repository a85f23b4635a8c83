"""Hand-sized inline SVG charts: stacked bars on a category axis, lines, treatment markers.

No plotting library: the report must be one file that opens offline, and these few shapes
are a small amount of code. Each chart is a ``<figure>``: its title is a visible
``<figcaption>``, its legend an HTML list (both wrap and keep their size on any screen),
and the plot is drawn twice, a wide SVG for desktops and print and a narrow one for phones,
of which the stylesheet shows one (:mod:`monitor.report.css`). An SVG scales its text with
its width: a 900-unit-wide chart on a 358-px phone column draws 11-unit text at 4 px, so
each variant's width is chosen for the width it is drawn at and its text stays at least
11 px. Every SVG is ``role="img"`` with the caption as its name and a ``<desc>``, and every
bar or point carries its value in a ``<title>`` tooltip (the tables beside the charts hold
the same values for print). All text is escaped.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True, slots=True)
class Layout:
    """One drawing of a chart: its viewBox size and margins (SVG user units) and text size."""

    name: str
    width: int
    height: int
    margin_left: int
    margin_right: int
    margin_top: int
    margin_bottom: int
    max_x_labels: int  # more would overlap at this width
    font_px: int  # SVG user units; the CSS draws the variant near 1 unit = 1 px


# Drawn at up to its width (760 px on a desktop, about 700 px on A4): 13 units stay >= 12 px.
WIDE = Layout("wide", 760, 250, 56, 12, 12, 30, 10, 13)
# Drawn at a phone's column (358 px at 390 px): 12 units are 12.6 px there.
NARROW = Layout("narrow", 340, 220, 46, 8, 12, 30, 4, 12)
LAYOUTS = (WIDE, NARROW)


@dataclass(frozen=True, slots=True)
class Series:
    """One named series: a value per category (None where there is no data) and a CSS colour."""

    name: str
    values: Sequence[float | None]
    colour: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical marker at category ``index`` (a treatment), with a legend name and a tooltip."""

    index: float
    name: str
    tooltip: str
    colour: str


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    markers: Sequence[Marker] = (),
) -> str:
    """Stacked bars, one stack per category label.

    Parameters
    ----------
    title, description : str
        Visible caption and accessible description of the chart.
    labels : sequence of str
        Category labels (x axis); thinned out when there are many.
    series : sequence of Series
        Stacked bottom to top; each has one value per label.
    y_label : str
        Axis title, with its unit.
    markers : sequence of Marker
        Vertical lines drawn over the bars.

    Returns
    -------
    str
        One ``<figure>`` holding a wide and a narrow ``<svg>``.

    Examples
    --------
    >>> fig = bar_chart("Spasms per day", "Spasms per local day.", ["1 Mar", "2 Mar"],
    ...                 [Series("spasms", [3.0, None], "#5c7fa3")], "spasms / day")
    >>> fig.count("<title>1 Mar: 3 spasms</title>"), "<figcaption" in fig
    (2, True)
    """

    def draw(layout: Layout) -> str:
        n = len(labels)
        totals = [sum(s.values[i] or 0.0 for s in series) for i in range(n)]
        frame = _Frame(layout, n, max(totals, default=0.0))
        parts = [frame.axes(labels, y_label)]
        bar_w = max(1.0, frame.step * 0.8)
        for i in range(n):
            base = 0.0
            for s in series:
                value = s.values[i] or 0.0
                if value > 0:
                    y_top = frame.y(base + value)
                    parts.append(
                        f'<rect x="{frame.x(i) - bar_w / 2:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}"'
                        f' height="{frame.y(base) - y_top:.1f}" fill="{s.colour}">'
                        f"<title>{escape(labels[i])}: {_fmt(value)} {escape(s.name)}</title></rect>"
                    )
                base += value
        parts.append(frame.markers(markers))
        return "".join(parts)

    return _figure(title, description, draw, [(s.name, s.colour) for s in series], markers)


def line_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    markers: Sequence[Marker] = (),
) -> str:
    """Points joined by lines, one line per series; categories without a value are skipped."""

    def draw(layout: Layout) -> str:
        top = max((v for s in series for v in s.values if v is not None), default=0.0)
        frame = _Frame(layout, len(labels), top)
        parts = [frame.axes(labels, y_label)]
        for s in series:
            points = [(frame.x(i), frame.y(v), i, v) for i, v in enumerate(s.values) if v is not None]
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"/>')
            for x, y, i, v in points:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.colour}">'
                    f"<title>{escape(labels[i])}: {escape(s.name)} {_fmt(v)}</title></circle>"
                )
        parts.append(frame.markers(markers))
        return "".join(parts)

    return _figure(title, description, draw, [(s.name, s.colour) for s in series], markers)


def histogram_bins(values: Sequence[float], edges: Sequence[float]) -> tuple[list[str], list[float]]:
    """Counts of ``values`` in ``[edges[k], edges[k+1])``, the last bin open-ended; labels and counts.

    Examples
    --------
    >>> histogram_bins([0.5, 2.0, 2.5, 40.0], [0.0, 1.0, 3.0])
    (['0–1', '1–3', '≥ 3'], [1.0, 2.0, 1.0])
    """
    counts = [0.0] * len(edges)
    for v in values:
        k = max(0, sum(v >= e for e in edges) - 1)
        counts[k] += 1
    labels = [f"{_fmt(lo)}–{_fmt(hi)}" for lo, hi in itertools.pairwise(edges)] + [f"≥ {_fmt(edges[-1])}"]
    return labels, counts


class _Frame:
    """Plot-area geometry of one layout: category ``i`` → x, value → y (SVG user units)."""

    def __init__(self, layout: Layout, n: int, top: float) -> None:
        self.lay = layout
        self.n = max(n, 1)
        self.tick = _nice_step(top / 4)
        self.top = self.tick * max(1, math.ceil(top / self.tick - 1e-9))
        self.plot_w = layout.width - layout.margin_left - layout.margin_right
        self.plot_h = layout.height - layout.margin_top - layout.margin_bottom
        self.step = self.plot_w / self.n

    def x(self, i: float) -> float:
        return self.lay.margin_left + (i + 0.5) * self.step

    def y(self, value: float) -> float:
        return self.lay.margin_top + self.plot_h * (1.0 - value / self.top)

    def axes(self, labels: Sequence[str], y_label: str) -> str:
        lay = self.lay
        left, right, bottom = lay.margin_left, lay.width - lay.margin_right, lay.margin_top + self.plot_h
        out = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>']
        for k in range(round(self.top / self.tick) + 1):
            value = self.tick * k
            y = self.y(value)
            out.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>'
                f'<text x="{left - 5}" y="{y + lay.font_px * 0.35:.1f}" text-anchor="end">'
                f"{_fmt(value)}</text>"
            )
        every = max(1, math.ceil(len(labels) / lay.max_x_labels))
        for i in range(0, len(labels), every):
            # A label that would stick out past the right edge (and be clipped) ends there instead.
            half_w = 0.3 * lay.font_px * len(labels[i])
            anchor = "end" if self.x(i) + half_w > lay.width else "middle"
            x = min(self.x(i), lay.width - 1.0)
            out.append(
                f'<text x="{x:.1f}" y="{bottom + lay.font_px + 5}" text-anchor="{anchor}">'
                f"{escape(labels[i])}</text>"
            )
        middle = lay.margin_top + self.plot_h / 2
        out.append(
            f'<text x="{lay.font_px}" y="{middle:.1f}" text-anchor="middle"'
            f' transform="rotate(-90 {lay.font_px} {middle:.1f})">{escape(y_label)}</text>'
        )
        return "".join(out)

    def markers(self, markers: Sequence[Marker]) -> str:
        out = []
        for m in markers:
            x = self.x(m.index) - self.step / 2  # at the start of the marked day
            out.append(
                f'<line x1="{x:.1f}" y1="{self.lay.margin_top - 6}" x2="{x:.1f}"'
                f' y2="{self.lay.margin_top + self.plot_h}"'
                f' stroke="{m.colour}" stroke-width="2" stroke-dasharray="4 3">'
                f"<title>{escape(m.tooltip)}</title></line>"
            )
        return "".join(out)


def _figure(
    title: str,
    description: str,
    draw: Callable[[Layout], str],
    legend: list[tuple[str, str]],
    markers: Sequence[Marker],
) -> str:
    uid = "chart-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")  # unique per report: titles differ
    svgs = "".join(
        # No xmlns: inline SVG in HTML needs none, and the document then holds no URL at all.
        f'<svg viewBox="0 0 {lay.width} {lay.height}" role="img" class="chart chart-{lay.name}"'
        f' aria-labelledby="{uid}-title {uid}-desc-{lay.name}">'
        f'<desc id="{uid}-desc-{lay.name}">{escape(description)}</desc>{draw(lay)}</svg>'
        for lay in LAYOUTS
    )
    keys = [_swatch(colour, dashed=False) + escape(name) for name, colour in legend]
    keys += [
        _swatch(colour, dashed=True) + escape(name)
        for name, colour in dict.fromkeys((m.name, m.colour) for m in markers)
    ]
    items = "".join(f"<li>{key}</li>" for key in keys)
    return (
        f'<figure class="chart" id="{uid}"><figcaption id="{uid}-title">{escape(title)}</figcaption>'
        f'{svgs}<ul class="legend">{items}</ul></figure>'
    )


def _swatch(colour: str, *, dashed: bool) -> str:
    """A legend key: a square for a series, a dashed line for a marker (SVG, so it prints)."""
    shape = (
        f'<line x1="6" y1="0" x2="6" y2="14" stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
        if dashed
        else f'<rect x="1" y="1" width="12" height="12" fill="{colour}"/>'
    )
    return f'<svg class="swatch" viewBox="0 0 14 14" width="14" height="14" aria-hidden="true">{shape}</svg>'


def _nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value``, at least 1 (counts are whole)."""
    if value <= 1:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    return next(float(m) * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
