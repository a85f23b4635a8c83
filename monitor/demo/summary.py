"""What a simulated history holds, per day and overall, and a printable summary of it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from monitor.clinical import DEFAULT_MIN_WEAR_H, PrePost, snow_scorable, too_little_text


@dataclass(frozen=True, slots=True)
class DaySummary:
    """What was simulated and what the pipeline found on one local day.

    Attributes
    ----------
    date : date
        Local date.
    observed_s : float
        Observed time: the union of the pipeline's ``observation`` intervals that day, s.
    true_spasms, detected_spasms : int
        Spasms placed by the generator and found by the detector (spasms overlapping on
        several channels count once, as in :func:`monitor.clinical.spasm_rows`).
    toxin_effect : float
        Fraction of the injection's full effect that day (0–1).
    pt_session : bool
        Whether a PT session took place.
    true_reps, detected_reps : int
        Exercise repetitions simulated and counted (0 on days without exercise).
    true_range_deg, detected_range_deg : float
        Largest exercise-set range of motion of the knee, degrees (NaN without exercise).
    """

    date: dt.date
    observed_s: float
    true_spasms: int
    detected_spasms: int
    toxin_effect: float
    pt_session: bool
    true_reps: int
    detected_reps: int
    true_range_deg: float
    detected_range_deg: float


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """The simulated history: its span, treatments, per-day truth and results, and cost.

    Attributes
    ----------
    patient : str
    start_ns, end_ns : int
        UTC span of the history (local midnights), ns.
    injection_date : date
    pt_dates : tuple of date
    days : tuple of DaySummary
    true_pre_post, detected_pre_post : PrePost
        Spasms per observed hour in the 14 days before the injection and in days 7–41 after
        it, from the true spasms and from the detected ones
        (:func:`monitor.clinical.pre_post_by_injection` on the spool, as the report).
    records : dict of str to int
        Records written to the spool, per measurement.
    wall_s : float
        Wall time of the build, s.
    """

    patient: str
    start_ns: int
    end_ns: int
    injection_date: dt.date
    pt_dates: tuple[dt.date, ...]
    days: tuple[DaySummary, ...]
    true_pre_post: PrePost
    detected_pre_post: PrePost
    records: dict[str, int]
    wall_s: float


def summary_lines(
    summary: HistorySummary, measured: PrePost | None = None, min_wear_h: float = DEFAULT_MIN_WEAR_H
) -> list[str]:
    """A few lines for the demo's console: what was simulated, what the pipeline found.

    Parameters
    ----------
    summary : HistorySummary
    measured : PrePost, optional
        The detected before/after comparison to print: the report's, so that the terminal and
        the report show one number (by default the history's own, from the same function).
    min_wear_h : float
        Observed hours a day needs for Snow's score, to say why the other days have none.

    Examples
    --------
    >>> print(summary_lines(history)[0])  # doctest: +SKIP
    SIMULATED history of patient demo: 42 days from 2026-10-14, 21.0 monitored hours, ...
    """
    days = summary.days
    observed_h = sum(d.observed_s for d in days) / 3600.0
    true_n = sum(d.true_spasms for d in days)
    found_n = sum(d.detected_spasms for d in days)
    t, f = summary.true_pre_post, measured or summary.detected_pre_post
    scored = [d for d in days if snow_scorable(d.observed_s, min_wear_h)]
    unscored = sorted(
        {f"{d.observed_s / 3600:.1f}".removesuffix(".0") for d in days}
        - {f"{d.observed_s / 3600:.1f}".removesuffix(".0") for d in scored}
    )
    n_records = sum(summary.records.values())
    lines = [
        f"SIMULATED history of patient {summary.patient}: {len(days)} days from {days[0].date},"
        f" {observed_h:.1f} monitored hours, Botox {summary.injection_date},"
        f" {len(summary.pt_dates)} PT sessions",
        f"  spasms detected {found_n} (simulated truth {true_n})",
        f"  spasms per observed hour, 14 d before vs days 7-41 after the injection:"
        f" {_change(f)}; truth {_change(t)}",
        f"  Snow's 24-hour score (EMG-derived) on {len(scored)} of {len(days)} days"
        f" (worn >= {min_wear_h:g} h);"
        + (
            f" the others were sampled, not worn all day: not scored ({' or '.join(unscored)} h worn)"
            if unscored
            else ""
        ),
    ]
    weekly = _weekly_best_range(days)
    if weekly:
        lines.append("  best knee ROM per week, deg: " + " ".join(f"{r:.0f}" for r in weekly))
    lines.append(f"  {n_records} records stored (tag source=simulated) in {summary.wall_s:.1f} s")
    return lines


def _change(p: PrePost) -> str:
    """``14.6 -> 10.2 (-30 %)``, or why there is no change: a window under the rule
    (:mod:`monitor.clinical.enough`) has no rate, and no change is stated from it."""
    if math.isnan(p.change_per_h):
        pre = f"{p.pre_per_h:.1f}" if math.isfinite(p.pre_per_h) else too_little_text(3600 * p.pre_observed_h)
        post = (
            f"{p.post_per_h:.1f}"
            if math.isfinite(p.post_per_h)
            else too_little_text(3600 * p.post_observed_h)
        )
        return f"{pre} -> {post} (not enough worn time to tell)"
    pct = "n/a" if math.isnan(p.change_pct) else f"{p.change_pct:+.0f} %"
    return f"{p.pre_per_h:.1f} -> {p.post_per_h:.1f} ({pct})"


def _weekly_best_range(days: tuple[DaySummary, ...]) -> list[float]:
    weeks: dict[int, float] = {}
    for i, day in enumerate(days):
        if not math.isnan(day.detected_range_deg):
            weeks[i // 7] = max(weeks.get(i // 7, 0.0), day.detected_range_deg)
    return [weeks[w] for w in sorted(weeks)]
