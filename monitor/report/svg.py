"""Hand-sized inline SVG charts: stacked bars on a category axis, lines, treatment markers.

No plotting library: the report must be one file that opens offline, and these few shapes
are a small amount of code. Every chart is ``role="img"`` with a ``<title>`` and ``<desc>``
(read by screen readers), and every bar or point carries its value in a ``<title>`` tooltip.
All text is escaped.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH_PX = 900
HEIGHT_PX = 240
MARGIN_LEFT_PX = 52
MARGIN_RIGHT_PX = 16
MARGIN_TOP_PX = 28
MARGIN_BOTTOM_PX = 44
MAX_X_LABELS = 14  # more would overlap at 900 px


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
        Accessible name and description of the chart.
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
        One ``<svg>`` element.

    Examples
    --------
    >>> svg = bar_chart("Spasms per day", "Spasms per local day.", ["1 Mar", "2 Mar"],
    ...                 [Series("spasms", [3.0, None], "#5c7fa3")], "spasms / day")
    >>> svg.count("<rect"), "<title>1 Mar: 3 spasms</title>" in svg
    (2, True)
    """
    n = len(labels)
    totals = [sum(s.values[i] or 0.0 for s in series) for i in range(n)]
    frame = _Frame(n, max(totals, default=0.0))
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
    return _svg(title, description, parts, [(s.name, s.colour) for s in series], markers)


def line_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    markers: Sequence[Marker] = (),
) -> str:
    """Points joined by lines, one line per series; categories without a value are skipped."""
    n = len(labels)
    top = max((v for s in series for v in s.values if v is not None), default=0.0)
    frame = _Frame(n, top)
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
    return _svg(title, description, parts, [(s.name, s.colour) for s in series], markers)


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
    """Plot-area geometry: category ``i`` → x pixel, value → y pixel."""

    def __init__(self, n: int, top: float) -> None:
        self.n = max(n, 1)
        self.tick = _nice_step(top / 4)
        self.top = self.tick * max(1, math.ceil(top / self.tick - 1e-9))
        self.plot_w = WIDTH_PX - MARGIN_LEFT_PX - MARGIN_RIGHT_PX
        self.plot_h = HEIGHT_PX - MARGIN_TOP_PX - MARGIN_BOTTOM_PX
        self.step = self.plot_w / self.n

    def x(self, i: float) -> float:
        return MARGIN_LEFT_PX + (i + 0.5) * self.step

    def y(self, value: float) -> float:
        return MARGIN_TOP_PX + self.plot_h * (1.0 - value / self.top)

    def axes(self, labels: Sequence[str], y_label: str) -> str:
        bottom = MARGIN_TOP_PX + self.plot_h
        out = [
            f'<line x1="{MARGIN_LEFT_PX}" y1="{bottom}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y2="{bottom}"'
            ' class="axis"/>'
        ]
        for k in range(round(self.top / self.tick) + 1):
            value = self.tick * k
            y = self.y(value)
            out.append(
                f'<line x1="{MARGIN_LEFT_PX}" y1="{y:.1f}" x2="{WIDTH_PX - MARGIN_RIGHT_PX}" y2="{y:.1f}"'
                ' class="grid"/>'
                f'<text x="{MARGIN_LEFT_PX - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(value)}</text>'
            )
        every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
        for i in range(0, len(labels), every):
            out.append(
                f'<text x="{self.x(i):.1f}" y="{bottom + 16}" text-anchor="middle">{escape(labels[i])}</text>'
            )
        out.append(
            f'<text x="14" y="{MARGIN_TOP_PX + self.plot_h / 2:.1f}" text-anchor="middle"'
            f' transform="rotate(-90 14 {MARGIN_TOP_PX + self.plot_h / 2:.1f})">{escape(y_label)}</text>'
        )
        return "".join(out)

    def markers(self, markers: Sequence[Marker]) -> str:
        out = []
        for m in markers:
            x = self.x(m.index) - self.step / 2  # at the start of the marked day
            out.append(
                f'<line x1="{x:.1f}" y1="{MARGIN_TOP_PX - 6}" x2="{x:.1f}" y2="{MARGIN_TOP_PX + self.plot_h}"'
                f' stroke="{m.colour}" stroke-width="2" stroke-dasharray="4 3">'
                f"<title>{escape(m.tooltip)}</title></line>"
            )
        return "".join(out)


def _svg(
    title: str, description: str, parts: list[str], legend: list[tuple[str, str]], markers: Sequence[Marker]
) -> str:
    uid = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")  # unique per report: titles differ
    names = dict.fromkeys((m.name, m.colour) for m in markers)
    entries = legend + list(names)
    keys, x = [], MARGIN_LEFT_PX
    for name, colour in entries:
        keys.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="18">{escape(name)}</text>'
        )
        x += 28 + 7 * len(name)
    return (
        # No xmlns: inline SVG in HTML needs none, and the document then holds no URL at all.
        f'<svg viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" role="img"'
        f' aria-labelledby="chart{uid}-title chart{uid}-desc" class="chart">'
        f'<title id="chart{uid}-title">{escape(title)}</title>'
        f'<desc id="chart{uid}-desc">{escape(description)}</desc>' + "".join(keys) + "".join(parts) + "</svg>"
    )


def _nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value``, at least 1 (counts are whole)."""
    if value <= 1:
        return 1.0
    scale = 10.0 ** math.floor(math.log10(value))
    return next(float(m) * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
