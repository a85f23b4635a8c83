"""The report's Botox-cycle section: gathered from :mod:`monitor.clinical`, rendered as HTML.

The numbers are those of the ``treatment_response`` records (the same function,
:func:`monitor.clinical.response.treatment_responses`, that :func:`~monitor.clinical.score_spool`
stores), beside each window's rate ratio and the weekly curve of the cycle.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from monitor.clinical.affected import KnownAffected
from monitor.clinical.cycle import (
    CYCLE_LAST_DAY,
    WINDOWS,
    RateRatio,
    hourly_counts,
    weekly_curve,
    window_ratios,
)
from monitor.clinical.enough import rate_stated, too_little_text
from monitor.clinical.events import to_local
from monitor.clinical.response import injection_date, treatment_responses, wearing_off_text
from monitor.report.cells import NO_DATA, num, table
from monitor.report.model import Cycle, ReportData
from monitor.store.schema import TREATMENT
from monitor.types import FieldValue, Record

WINDOW_NAMES = {
    "baseline": "Baseline (days −14..−1)",
    "onset": "Onset (days 7–20)",
    "peak": "Peak (days 21–42)",
    "late": "Late (days 43–69)",
    "wearing_off": "Wearing-off (day 70 to the cycle's end)",
}

# When the patient is told "not enough worn time to tell" rather than a change: a side below
# monitor.clinical.enough's MIN_RATE_H, no ratio, or an interval this wide (our choice):
WIDE_CI_FACTOR = 4.0  # 95 % CI upper over lower bound above which the interval says little


@dataclass(frozen=True, slots=True)
class Change:
    """What changed after the latest injection, as the patient is told it.

    The numbers are those of the clinician's cycle tables (:class:`Cycle`'s ``windows``), not
    a second computation: the peak window (days 21–42) when it has a rate ratio, else the
    latest window after the injection that has one, else the latest window.

    Attributes
    ----------
    injection : date
        The latest injection's local date.
    baseline : RateRatio
        The 14 days before it.
    window : RateRatio or None
        The window after it compared; None before day 7 (no window yet).
    first_day, last_day : int
        The window's days after the injection.
    verdict : str
        ``fewer`` or ``more`` (the 95 % CI excludes 1), ``no clear change`` (it includes 1),
        or ``unknown``: no ratio, less than :data:`~monitor.clinical.enough.MIN_RATE_H`
        observed on a side, or an interval wider than :data:`WIDE_CI_FACTOR`.
    wearing_off_day : float or None
        The cycle's wearing-off day, when found.
    """

    injection: dt.date
    baseline: RateRatio
    window: RateRatio | None
    first_day: int
    last_day: int
    verdict: str
    wearing_off_day: float | None


def latest_change(cycles: Sequence[Cycle]) -> Change | None:
    """The :class:`Change` of the last of ``cycles``; None without a cycle."""
    if not cycles:
        return None
    cycle = cycles[-1]
    by_name = {w.window: w for w in cycle.windows}
    baseline = by_name.get("baseline")
    if baseline is None:  # no observed time at all before the injection
        baseline = RateRatio("baseline", 0, 0, 0.0, math.nan, math.nan, math.nan, math.nan)
    after = [w for w in cycle.windows if w.window != "baseline"]
    rated = [w for w in after if not math.isnan(w.ratio)]
    peak = by_name.get("peak")
    candidates: list[RateRatio | None] = [None, *after, *rated]  # the latest rated, else the latest
    window = peak if peak is not None and peak in rated else candidates[-1]
    last_day = int(_f(cycle.response, "last_day") or CYCLE_LAST_DAY)
    first, last = 0, 0
    if window is not None:
        _, first, last = next(w for w in WINDOWS if w[0] == window.window)
        last = last_day if window.window == "wearing_off" else min(last, last_day)
    return Change(
        cycle.date,
        baseline,
        window,
        first,
        last,
        _verdict(baseline, window),
        _f(cycle.response, "wearing_off_day"),
    )


def _verdict(baseline: RateRatio, window: RateRatio | None) -> str:
    if window is None or math.isnan(window.ratio):
        return "unknown"
    if not (rate_stated(3600.0 * baseline.observed_h) and rate_stated(3600.0 * window.observed_h)):
        return "unknown"  # the one rule (monitor.clinical.enough); the CI below decides the rest
    if window.ratio == 0.0:  # no spasm at all since, on enough worn time
        return "fewer"
    if not (window.ci_low > 0 and window.ci_high / window.ci_low <= WIDE_CI_FACTOR):
        return "unknown"
    if window.ci_high < 1.0:
        return "fewer"
    return "more" if window.ci_low > 1.0 else "no clear change"


def gather_cycles(
    records: Sequence[Record],
    start_ns: int,
    end_ns: int,
    zone: ZoneInfo,
    known_affected: KnownAffected | None = None,
) -> tuple[Cycle, ...]:
    """The cycles of the injections in ``[start_ns, end_ns)``, on all of ``records`` around them
    (``known_affected``: the patient's affected sides, :mod:`monitor.clinical.affected`)."""
    out = []
    for response in treatment_responses(records, zone, known_affected=known_affected):
        date = injection_date(response)
        shot = next(
            (
                r
                for r in records
                if r.measurement == TREATMENT
                and r.tags.get("kind") == "botox"
                and to_local(r.time_ns, zone).date() == date
            ),
            None,
        )
        if shot is None or not start_ns <= shot.time_ns < end_ns:
            continue
        f = shot.fields
        label = f"{float(f.get('dose_u', math.nan)):g} U {f.get('product', '')} {shot.tags.get('side', '')}"
        label += f": {f.get('muscles', '')}"
        counts = hourly_counts(records, date, zone, response.tags.get("patient", ""), known_affected)
        last_day = int(response.fields.get("last_day", CYCLE_LAST_DAY))
        out.append(
            Cycle(
                date,
                label,
                dict(response.fields),
                tuple(window_ratios(counts, last_day)),
                tuple(weekly_curve(counts, last_day)),
            )
        )
    return tuple(out)


def render_cycles(data: ReportData) -> str:
    """The ``<section id="cycle">`` of the report."""
    parts = ['<section id="cycle"><h2>The Botox cycle</h2>']
    rows = [
        (
            c.date.isoformat(),
            c.label,
            num(_f(c.response, "baseline_per_h"), 2),
            _ratio(c.response, "rate_ratio_peak", "rr_ci_low", "rr_ci_high") + _peak_days(c.response),
            _day(c.response, "onset_day"),
            _day(c.response, "peak_day"),
            wearing_off_text(c.response) or f"not detected (data to day {c.response.get('last_day', '?')})",
            _control(c.response),
        )
        for c in data.cycles
    ]
    header = (
        "Injection",
        "Treatment",
        "Baseline / observed h",
        "Rate ratio, peak window (95 % CI)",
        "Onset day",
        "Peak-effect day",
        "Wearing-off",
        "Injected vs non-injected muscles",
    )
    parts.append(table(header, rows, "No Botox injection logged in the period.", table_id="cycle-response"))
    for c in data.cycles:
        parts.append(f"<h3>Injection of {escape(c.date.isoformat())}: windows</h3>")
        window_rows = [
            (
                window_name(w.window, c.response),
                f"{hours_text(w.observed_h)} in {w.days} d",
                str(w.spasms),
                num(w.per_h, 2, missing=too_little_text(3600.0 * w.observed_h)),
                "—" if w.window == "baseline" else format_ratio(w.ratio, w.ci_low, w.ci_high),
            )
            for w in c.windows
        ]
        window_header = ("Window", "Observed", "Spasms", "Per observed h", "Rate ratio (95 % CI)")
        parts.append(table(window_header, window_rows, "No observed time around this injection."))
        weeks = " · ".join(
            f"week {w:+d}: {rate:.1f}/h ({hours_text(hours)})"
            if math.isfinite(rate)
            else f"week {w:+d}: {too_little_text(3600.0 * hours)}"
            for w, hours, rate in c.weeks
        )
        parts.append(f'<p class="note">Weekly spasms per observed hour: {escape(weeks or NO_DATA)}</p>')
    parts.append(
        '<p class="note">Rate ratios: spasms per observed hour in a window over the 14 days before the '
        "injection, from hourly counts with their observed hours as exposure (Poisson GLM, interval "
        "from the day-clustered sandwich, so over-dispersion widens it). Below 1 is fewer spasms. "
        "Onset, peak-effect and wearing-off days are counted from the injection; wearing-off is when "
        "the rate is halfway back to the pre-injection rate, found by a CUSUM with a 5 % false-alarm "
        "rate per cycle. A ratio can look better than the drug is: an injection often follows a bad "
        "spell, which then eases by itself (regression to the mean); the non-injected muscles' "
        "ratio is the control for that. See docs/clinical.md.</p></section>"
    )
    return "".join(parts)


def hours_text(hours: float) -> str:
    """Observed time as hours, or minutes below a tenth of an hour (a live day's minute is not "0.0 h")."""
    if hours >= 0.1:
        return f"{hours:.1f} h"
    return f"{hours * 3600:.0f} s" if hours * 60 < 1 else f"{hours * 60:.0f} min"


def window_name(name: str, response: dict[str, FieldValue]) -> str:
    """A window's name with its days, cut at the cycle's last day: "Peak (days 21–28 of 21–42)"."""
    bounds = {w[0]: w[1:] for w in WINDOWS}
    if name not in bounds or name == "baseline":
        return WINDOW_NAMES.get(name, name)
    first, last = bounds[name]
    end = int(_f(response, "last_day") or CYCLE_LAST_DAY)
    label = name.replace("_", "-").capitalize()
    if name == "wearing_off":
        return f"{label} (days {first}–{end}, to the cycle's end)"
    if end < last:
        return f"{label} (days {first}–{end} of {first}–{last}: data ends on day {end})"
    return f"{label} (days {first}–{last})"


def _peak_days(response: dict[str, FieldValue]) -> str:
    """The peak window's days as far as the data reaches, after its ratio."""
    first, last = next(w[1:] for w in WINDOWS if w[0] == "peak")
    end = min(last, int(_f(response, "last_day") or CYCLE_LAST_DAY))
    return f", days {first}–{end}" if end >= first else ""


def _f(fields: dict[str, FieldValue], name: str) -> float | None:
    value = fields.get(name)
    return float(value) if isinstance(value, int | float) else None


def _day(fields: dict[str, FieldValue], name: str) -> str:
    value = _f(fields, name)
    return "not detected" if value is None else f"day {value:.0f}"


def _ratio(fields: dict[str, FieldValue], ratio: str, low: str, high: str) -> str:
    value = _f(fields, ratio)
    if value is None:
        return NO_DATA
    return format_ratio(value, _f(fields, low) or math.nan, _f(fields, high) or math.nan)


def format_ratio(ratio: float, low: float, high: float) -> str:
    """A rate ratio as the report writes it everywhere: ``0.44 (0.35–0.55)``."""
    if math.isnan(ratio):
        return NO_DATA
    if math.isnan(low):
        return f"{ratio:.2f}"
    return f"{ratio:.2f} ({low:.2f}–{high:.2f})"


def _control(fields: dict[str, FieldValue]) -> str:
    if "rate_ratio_control" not in fields:
        return "not worn on both"
    injected = _ratio(fields, "rate_ratio_injected", "rr_injected_ci_low", "rr_injected_ci_high")
    control = _ratio(fields, "rate_ratio_control", "rr_control_ci_low", "rr_control_ci_high")
    return f"{injected} vs {control} ({fields.get('control_muscles', '')})"


__all__ = [
    "Change",
    "format_ratio",
    "gather_cycles",
    "hours_text",
    "latest_change",
    "render_cycles",
    "window_name",
]
