"""What a simulated history holds, per day and overall, and a printable summary of it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from monitor.clinical import PrePost


@dataclass(frozen=True, slots=True)
class DaySummary:
    """What was simulated and what the pipeline found on one local day.

    Attributes
    ----------
    date : date
        Local date.
    observed_s : float
        EMG monitoring time, s.
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
        Spasms per day in the 14 days before the injection and in weeks 2–6 after it,
        from the true spasms and from the detected ones.
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


def summary_lines(summary: HistorySummary) -> list[str]:
    """A few lines for the demo's console: what was simulated, what the pipeline found.

    Examples
    --------
    >>> print(summary_lines(history)[0])  # doctest: +SKIP
    SIMULATED history of patient demo: 42 days from 2026-10-14, 21.0 monitored hours, ...
    """
    days = summary.days
    observed_h = sum(d.observed_s for d in days) / 3600.0
    true_n = sum(d.true_spasms for d in days)
    found_n = sum(d.detected_spasms for d in days)
    t, f = summary.true_pre_post, summary.detected_pre_post
    n_records = sum(summary.records.values())
    lines = [
        f"SIMULATED history of patient {summary.patient}: {len(days)} days from {days[0].date},"
        f" {observed_h:.1f} monitored hours, Botox {summary.injection_date},"
        f" {len(summary.pt_dates)} PT sessions",
        f"  spasms detected {found_n} (simulated truth {true_n})",
        f"  spasms/day, 14 d before vs weeks 2-6 after the injection:"
        f" {_num(f.pre_per_day)} -> {_num(f.post_per_day)} ({_pct(f.change_pct)};"
        f" truth {_num(t.pre_per_day)} -> {_num(t.post_per_day)}, {_pct(t.change_pct)})",
    ]
    weekly = _weekly_best_range(days)
    if weekly:
        lines.append("  best knee ROM per week, deg: " + " ".join(f"{r:.0f}" for r in weekly))
    lines.append(f"  {n_records} records stored (tag source=simulated) in {summary.wall_s:.1f} s")
    return lines


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.0f} %"


def _weekly_best_range(days: tuple[DaySummary, ...]) -> list[float]:
    weeks: dict[int, float] = {}
    for i, day in enumerate(days):
        if not math.isnan(day.detected_range_deg):
            weeks[i // 7] = max(weeks.get(i // 7, 0.0), day.detected_range_deg)
    return [weeks[w] for w in sorted(weeks)]
