"""The clinician's day/night split and range of motion (one titled chart pair per joint and side)."""

from __future__ import annotations

import datetime as dt

from monitor.report.cells import NO_DATA, nodata, table, when
from monitor.report.css import DAY_COLOUR, JOINT_COLOURS, NIGHT_COLOUR
from monitor.report.html_clinician import DayAxis
from monitor.report.model import DayScores, ReportData
from monitor.report.svg import Series, bar_chart, line_chart


def render_day_night(data: ReportData, axis: DayAxis) -> str:
    """The ``<section id="day-night">``: spasms by day and by night, per local day."""
    night = f"{data.night.start:%H:%M}–{data.night.end:%H:%M} local"
    parts = [
        '<section id="day-night"><h2>Day and night</h2>',
        f'<p>Day: <strong id="day-spasms">{data.day_spasms}</strong> spasms · night ({night}): '
        f'<strong id="night-spasms">{data.night_spasms}</strong> spasms.</p>',
    ]
    if data.days:
        by_date = {d.date: d for d in data.days}
        parts.append(
            bar_chart(
                "Day and night spasms",
                f"Spasms per local day, split into day and night ({night}).",
                axis.labels,
                [
                    Series("day", [_get(by_date, d, "day_spasms") for d in axis.dates], DAY_COLOUR),
                    Series("night", [_get(by_date, d, "night_spasms") for d in axis.dates], NIGHT_COLOUR),
                ],
                "spasms / day",
            )
        )
    else:
        parts.append(nodata("No spasm monitoring data in the period."))
    return "".join(parts) + "</section>"


def render_rom(data: ReportData, axis: DayAxis) -> str:
    """The ``<section id="rom">``: per joint and side, the day's best range and its repetitions."""
    parts = ['<section id="rom"><h2>Range of motion</h2>']
    if not data.rom:
        parts.append(nodata("No range-of-motion data in the period."))
        return "".join(parts) + "</section>"
    limbs = sorted({(r.joint, r.side) for r in data.rom})
    for k, (joint, side) in enumerate(limbs):
        best = {r.date: r for r in data.rom if (r.joint, r.side) == (joint, side)}
        colour = JOINT_COLOURS[k % len(JOINT_COLOURS)]
        name = limb_name(joint, side)
        ranges = [best[d].best_range_deg if d in best else None for d in axis.dates]
        reps = [float(best[d].reps) if d in best else None for d in axis.dates]
        parts.append(
            line_chart(
                f"{name}: best range of motion per day",
                f"{name}: the largest range per local day of the exercise sets and 60-s windows, degrees.",
                axis.labels,
                [Series("best range", ranges, colour)],
                "range (deg)",
                axis.markers,
            )
        )
        parts.append(
            bar_chart(
                f"{name}: exercise repetitions per day",
                f"{name}: exercise repetitions counted from the joint angle per local day.",
                axis.labels,
                [Series("repetitions", reps, colour)],
                "repetitions",
                axis.markers,
            )
        )
    rows = [
        (r.date.isoformat(), limb_name(r.joint, r.side), f"{r.best_range_deg:.1f}", str(r.reps))
        for r in data.rom
    ]
    weeks = [
        (
            str(w.week + 1),
            when(w.week_start_ns, axis.zone)[:10],
            w.joint,
            f"{w.max_range_deg:.1f}",
            str(w.windows),
        )
        for w in data.rom_weeks
    ]
    header = ("PT week", "From", "Joint", "Best range (deg)", "Sets and windows")
    parts.append("<h3>Weekly best range of motion (PT weeks)</h3>")
    parts.append(table(header, weeks, "No PT session logged in the period.", table_id="rom-weeks"))
    per_day = table(("Date", "Joint", "Best range (deg)", "Repetitions"), rows, NO_DATA, table_id="rom-table")
    parts.append(f"<details open><summary>Range of motion per day</summary>{per_day}</details>")
    return "".join(parts) + "</section>"


def limb_name(joint: str, side: str) -> str:
    """``Left knee``; ``Knee (side not recorded)`` without a side tag.

    Examples
    --------
    >>> limb_name("knee", "left"), limb_name("ankle", "")
    ('Left knee', 'Ankle (side not recorded)')
    """
    joint = joint or "joint"
    if side:
        return f"{side.capitalize()} {joint}"
    return f"{joint.capitalize()} (side not recorded)"


def _get(by_date: dict[dt.date, DayScores], date: dt.date, name: str) -> float | None:
    day = by_date.get(date)
    return None if day is None else float(getattr(day, name))


__all__ = ["limb_name", "render_day_night", "render_rom"]
