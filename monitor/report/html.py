"""One self-contained HTML file from a :class:`~monitor.report.model.ReportData`.

The file makes no network request at all: inline CSS, inline SVG charts, no script, no
font or image, and a Content-Security-Policy that forbids loading anything (so a stray
reference could not load either). It opens offline, from a USB stick or an e-mail.

The words are those of the dashboards (``dashboards/README.md``) and ``docs/clinical.md``.
Every date and clock time is local to the patient's timezone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from zoneinfo import ZoneInfo

from monitor.clinical.events import to_local
from monitor.report.cells import (
    NO_DATA,
    nodata,
    num,
    period_dates,
    period_text,
    scored,
    signed_pct,
    table,
    when,
)
from monitor.report.cycles import render_cycles
from monitor.report.model import DayScores, ReportData
from monitor.report.svg import Marker, Series, bar_chart, histogram_bins, line_chart

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
KIND_COLOURS = {"tonic": "#b23a48", "clonus": "#e08e0b", "myoclonic": "#3b7dd8", "mixed": "#7a5195"}
BOTOX_COLOUR, PT_COLOUR = "#d62728", "#1f77b4"  # red and blue, as the dashboards' annotations
DAY_COLOUR, NIGHT_COLOUR, SPASM_COLOUR = "#f2b134", "#2f3e75", "#5c7fa3"
JOINT_COLOURS = ("#2a9d8f", "#e76f51", "#264653", "#8ab17d")
DURATION_EDGES_S = (0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0)  # 3 s and 10 s are the severity bounds
PENN_FREQUENCY_WORDS = {
    0: "no spasms",
    2: "infrequent, less than one per hour",
    3: "1 to 10 per hour",
    4: "more than 10 per hour",
}
PENN_SEVERITY_WORDS = {1: "mild", 2: "moderate", 3: "severe"}
SNOW_WORDS = {1: "no spasms", 2: "one a day", 3: "2–4 a day", 4: "5–9 a day", 5: "10 or more a day"}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;
padding:16px 24px;color:#1d2330;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin-top:1.6em;border-bottom:2px solid #dde3ec}
.meta{color:#4a5568}.banner{background:#fff3cd;border:2px solid #b58105;color:#5c4100;padding:10px 14px;
font-weight:600;margin:12px 0}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}th,td{border:1px solid #d5dbe5;padding:3px 8px;
text-align:left}th{background:#f1f4f9}
td:first-child{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
.summary td:first-child{font-weight:600}.note{color:#4a5568;font-size:.88em}
.nodata{color:#8a94a6;font-style:italic}
svg.chart{width:100%;height:auto;display:block;margin:6px 0 12px}svg.chart text{font-size:11px;fill:#2d3748}
svg.chart .axis{stroke:#4a5568}svg.chart .grid{stroke:#e2e8f0}
"""


def render_html(data: ReportData) -> str:
    """The report as one HTML document (a string), with no external reference.

    Parameters
    ----------
    data : ReportData
        From :func:`monitor.report.build_report`.

    Returns
    -------
    str
        ``<!DOCTYPE html>...``, UTF-8 text.

    Examples
    --------
    >>> from monitor.report.gather import gather
    >>> from zoneinfo import ZoneInfo
    >>> html = render_html(gather([], patient="p01", zone=ZoneInfo("Europe/London")))
    >>> html.startswith("<!DOCTYPE html>"), "No spasm event in the period." in html
    (True, True)
    """
    zone = ZoneInfo(data.timezone)
    axis = _DayAxis(data, zone)
    title = f"Spasm report – patient {data.patient or '(untagged)'}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Period {escape(period_text(data, zone))} ({escape(data.timezone)}) · generated '
        f"{escape(when(data.generated_ns, zone))}</p>",
        _banner(data),
        _summary(data, zone),
        _spasm_rate(data, axis),
        render_cycles(data),
        _kinds(data),
        _day_night(data, axis),
        _rom(data, axis),
        _events(data, zone),
        _notes(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body></html>\n"
    )


def _banner(data: ReportData) -> str:
    if not data.simulated:
        return ""
    return (
        '<div class="banner" role="alert" id="simulated-banner">SIMULATED DATA – not a patient recording. '
        f"Every number below comes from synthetic signals ({escape(data.simulated_reason)}).</div>"
    )


def _summary(data: ReportData, zone: ZoneInfo) -> str:
    c = data.coverage
    monitored = f"{c.monitored_h:.1f} h" if c.monitored_h > 0 else NO_DATA
    if data.snow_median is not None:
        snow = f"{scored(data.snow_median, SNOW_WORDS)}, {data.snow_days} day(s) scored"
    else:
        snow = f"not scored: no day worn {data.min_wear_h:g} h" if data.days else NO_DATA
    rows = [
        ("period", "Period", f"{period_text(data, zone)} ({c.period_h:.0f} h)"),
        ("completeness", "Data completeness", f"{c.completeness_pct:.1f} %"),
        ("observed-hours", "Observed hours", f"{c.observed_hours} h on {c.days_with_data} day(s)"),
        ("monitored", "Observed time", monitored),
        ("gaps", "Connectivity gaps", f"{c.gap_count} ({c.gap_s / 60:.1f} min lost)"),
        ("signal-loss", "Electrode off and poor signal", f"{c.signal_loss_s / 60:.1f} min"),
        ("spasms", "Spasms (episodes of the affected limbs)", str(data.spasms)),
        ("spasms-per-hour", "Spasms per observed hour", num(data.spasms_per_h, 2)),
        (
            "penn-frequency",
            "Penn frequency, EMG-derived equivalent (0–4)",
            scored(data.penn_frequency, PENN_FREQUENCY_WORDS),
        ),
        (
            "penn-severity",
            "Penn severity, EMG-derived (1–3)",
            scored(data.penn_severity, PENN_SEVERITY_WORDS),
        ),
        (
            "snow",
            f"Snow's frequency, EMG-derived equivalent (1–5), median of days worn ≥ {data.min_wear_h:g} h",
            snow,
        ),
        ("alerts", "Alerts", str(len(data.alerts))),
    ]
    summary = "".join(
        f'<tr><td>{escape(name)}</td><td id="summary-{key}">{escape(value)}</td></tr>'
        for key, name, value in rows
    )
    alerts = table(
        ("Time", "Rule", "Message", "Notified"),
        [(when(a.time_ns, zone), a.rule, a.message, "yes" if a.delivered else "no") for a in data.alerts],
        "No alert fired in the period.",
    )
    return (
        f'<section id="summary"><h2>Summary</h2><table class="summary">{summary}</table>'
        f'<p class="note">Data completeness: {escape(c.basis)}. Time without observation is '
        "unknown, not spasm-free: it is left out of every rate, and hours and days without it show "
        "no data, never 0.</p>"
        f"<h3>Alerts</h3>{alerts}{_daily_table(data.days)}</section>"
    )


def _daily_table(days: Sequence[DayScores]) -> str:
    rows = [
        (
            d.date.isoformat(),
            f"{d.observed_s / 3600:.1f}",
            str(d.spasms),
            num(d.spasms_per_h, 2),
            str(d.day_spasms),
            str(d.night_spasms),
            str(d.penn_frequency),
            num(d.penn_severity, 0),
            str(d.snow_frequency) if d.snow_frequency is not None else d.snow_note,
        )
        for d in days
    ]
    header = (
        "Date",
        "Observed h",
        "Spasms",
        "Per observed hour",
        "Day",
        "Night",
        "Penn frequency",
        "Penn severity",
        "Snow",
    )
    return "<details><summary>Daily clinical scores</summary>" + table(header, rows, NO_DATA) + "</details>"


class _DayAxis:
    """The period's local dates as chart categories, and the treatments as markers on them."""

    def __init__(self, data: ReportData, zone: ZoneInfo) -> None:
        self.zone = zone
        self.dates = period_dates(data, zone)
        self.labels = [d.strftime("%d %b") for d in self.dates]
        index = {d: i for i, d in enumerate(self.dates)}
        self.markers = [
            Marker(
                index[to_local(t.time_ns, zone).date()],
                "Botox injection" if t.kind == "botox" else "PT session",
                f"{when(t.time_ns, zone)} {t.label}",
                BOTOX_COLOUR if t.kind == "botox" else PT_COLOUR,
            )
            for t in data.treatments
            if t.kind in ("botox", "pt") and to_local(t.time_ns, zone).date() in index
        ]


def _spasm_rate(data: ReportData, axis: _DayAxis) -> str:
    parts = ['<section id="spasms-per-day"><h2>Spasms per observed hour and treatment</h2>']
    if not data.days:
        parts.append(nodata("No spasm monitoring data in the period."))
    else:
        by_date = {d.date: d for d in data.days}
        values = [by_date[d].spasms_per_h if d in by_date else None for d in axis.dates]
        parts.append(
            bar_chart(
                "Spasms per observed hour, per day",
                "Each local day's spasms (overlapping channels once) over its observed time, with "
                "Botox injections (red) and PT sessions (blue) as dashed lines; days without "
                "observed time have no bar (no data, not 0).",
                axis.labels,
                [Series("spasms per observed hour", values, SPASM_COLOUR)],
                "spasms / observed h",
                axis.markers,
            )
        )
    parts.append("<h3>Before and after each injection</h3>")
    rows = [
        (
            inj.date.isoformat(),
            inj.label,
            f"{p.pre_spasms} in {p.pre_observed_h:.1f} h ({p.pre_days} d)",
            f"{p.post_spasms} in {p.post_observed_h:.1f} h ({p.post_days} d)",
            num(p.pre_per_h, 2),
            num(p.post_per_h, 2),
            num(p.change_per_h, 2),
            signed_pct(p.change_pct),
            num(p.cohens_d, 2),
        )
        for inj in data.injections
        for p in (inj.pre_post,)
    ]
    header = (
        "Injection",
        "Treatment",
        "14 days before",
        "Days 7–41 after",
        "Before / observed h",
        "After / observed h",
        "Change / observed h",
        "Change",
        "Cohen's d",
    )
    parts.append(table(header, rows, "No Botox injection logged in the period.", table_id="pre-post"))
    parts.append(
        '<p class="note">Spasms per observed hour in the 14 days before the injection against days '
        "7–41 after it. Negative is better. Cohen's d uses the pooled standard deviation of the "
        "observed days' rates (weighted by their observed hours) and treats them as independent, "
        "which autocorrelated, over-dispersed counts are not: descriptive only, not the effect. The "
        "effect is the rate ratio with its confidence interval (The Botox cycle, below).</p></section>"
    )
    return "".join(parts)


def _kinds(data: ReportData) -> str:
    parts = ['<section id="types"><h2>Spasm types and durations</h2>']
    rows = [(k.kind, str(k.count), f"{k.mean_duration_s:.1f}", f"{k.max_duration_s:.1f}") for k in data.kinds]
    header = ("Type", "Spasms", "Mean duration (s)", "Longest (s)")
    parts.append(table(header, rows, "No spasm in the period.", table_id="kinds"))
    if data.kinds:
        names = [k.kind for k in data.kinds]
        parts.append(
            bar_chart(
                "Spasms per type",
                "Number of spasms of each type (tonic, clonus, myoclonic, mixed) in the period.",
                names,
                [
                    Series(
                        k.kind,
                        [float(k.count) if n == k.kind else None for n in names],
                        KIND_COLOURS.get(k.kind, SPASM_COLOUR),
                    )
                    for k in data.kinds
                ],
                "spasms",
            )
        )
    if data.durations_s:
        labels, counts = histogram_bins(data.durations_s, DURATION_EDGES_S)
        parts.append(
            bar_chart(
                "Spasm duration distribution",
                "Number of spasms per duration band, seconds.",
                [f"{label} s" for label in labels],
                [Series("spasms", counts, SPASM_COLOUR)],
                "spasms",
            )
        )
    return "".join(parts) + "</section>"


def _day_night(data: ReportData, axis: _DayAxis) -> str:
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


def _rom(data: ReportData, axis: _DayAxis) -> str:
    parts = ['<section id="rom"><h2>Range of motion</h2>']
    if not data.rom:
        parts.append(nodata("No range-of-motion data in the period."))
        return "".join(parts) + "</section>"
    dates, labels = axis.dates, axis.labels
    joints = sorted({r.joint for r in data.rom})
    best = {(r.joint, r.date): r for r in data.rom}
    colour = {j: JOINT_COLOURS[i % len(JOINT_COLOURS)] for i, j in enumerate(joints)}
    ranges = [
        Series(j, [best[(j, d)].best_range_deg if (j, d) in best else None for d in dates], colour[j])
        for j in joints
    ]
    reps = [
        Series(j, [float(best[(j, d)].reps) if (j, d) in best else None for d in dates], colour[j])
        for j in joints
    ]
    parts.append(
        line_chart(
            "Best range of motion per joint",
            "Largest range per local day of the exercise sets and 60-s windows, degrees.",
            labels,
            ranges,
            "range (deg)",
            axis.markers,
        )
    )
    parts.append(
        bar_chart(
            "Repetitions per joint",
            "Exercise repetitions counted from the joint angle per local day.",
            labels,
            reps,
            "repetitions",
            axis.markers,
        )
    )
    rows = [(r.date.isoformat(), r.joint, f"{r.best_range_deg:.1f}", str(r.reps)) for r in data.rom]
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
    parts.append(f"<details><summary>Range of motion per day</summary>{per_day}</details>")
    return "".join(parts) + "</section>"


def _events(data: ReportData, zone: ZoneInfo) -> str:
    rows = [
        (
            when(e.onset_ns, zone, seconds=True),
            e.kind,
            f"{e.duration_s:.1f}",
            num(e.peak_x_baseline, 1),
            num(e.clonus_hz, 1, missing="–"),
            e.channel,
            e.location,
        )
        for e in data.events
    ]
    header = (
        "Onset (local)",
        "Type",
        "Duration (s)",
        "Peak × baseline",
        "Clonus (Hz)",
        "Channel",
        "Location",
    )
    shown = (
        f"The {len(data.events)} most recent of {data.events_total} detected events" if data.events else ""
    )
    return (
        '<section id="events"><h2>Recent spasm events</h2>'
        + (
            f'<p class="note">{shown}, as the detector reported them (one per EMG channel).</p>'
            if shown
            else ""
        )
        + table(header, rows, "No spasm event in the period.", table_id="events-table")
        + "</section>"
    )


def _notes() -> str:
    return (
        '<section id="notes"><h2>How to read this report</h2><ul class="note">'
        "<li>Spasms are episodes of a limb: events of one side's channels and wearables that overlap "
        "or follow within 1 s count once, as Snow et al. (1990) count a rapid series without a pause. "
        "The Penn and Snow figures are EMG-derived equivalents of those self-reported scales, counted "
        "on the affected limbs (injected in the treatment log, or worn with affected = true).</li>"
        "<li>Every rate is per observed hour: the time a wearable was streaming (observation "
        "intervals, to the second). The Penn Spasm Frequency Scale (Penn et al. 1989) is scored from it. "
        "Score 1 (spasms induced only by stimulation) is never produced: EMG cannot tell provoked from "
        "spontaneous spasms.</li>"
        "<li>Penn severity is a project rule to be calibrated against clinician ratings: severe when a "
        "spasm lasts at least 10 s or peaks at 10 × the resting baseline, moderate from 3 s or 5 ×.</li>"
        "<li>Snow's score (Snow et al. 1990) counts the spasms of 24 hours, so a local day gets it only "
        "when enough of it was observed (config.toml [clinical] min_wear_h, 8 h by default, our "
        'choice); other days say "not scored: N h worn". The count is never extrapolated.</li>'
        "<li>Fewer spasms during a connectivity gap or with an electrode off is missing data, not "
        "improvement.</li></ul></section>"
    )


def _get(by_date: dict[dt.date, DayScores], date: dt.date, name: str) -> float | None:
    day = by_date.get(date)
    return None if day is None else float(getattr(day, name))
