"""The clinician's part of the report: the summary table, rates, types and the recent events.

Clinical terms stay here, each with a plain label (the patient's part, :mod:`monitor.report.
html_patient`, uses none of them). Day/night and range of motion are in
:mod:`monitor.report.html_activity`, the Botox cycle in :mod:`monitor.report.cycles`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from zoneinfo import ZoneInfo

from monitor.clinical.enough import MIN_RATE_H, too_little_text
from monitor.clinical.events import spasm_kind, to_local
from monitor.report.cells import (
    NO_DATA,
    nodata,
    num,
    period_dates,
    period_text,
    scored,
    scroll_box,
    signed_pct,
    table,
    when,
)
from monitor.report.css import BOTOX_COLOUR, KIND_COLOURS, PT_COLOUR, SPASM_COLOUR
from monitor.report.cycles import hours_text
from monitor.report.model import DayScores, ReportData
from monitor.report.svg import Marker, Series, bar_chart, histogram_bins

NOT_ENOUGH = "not enough worn time"
DURATION_EDGES_S = (0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0)  # 3 s and 10 s are the severity bounds
PENN_FREQUENCY_WORDS = {
    0: "no spasms",
    2: "infrequent, less than one per hour",
    3: "1 to 10 per hour",
    4: "more than 10 per hour",
}
PENN_SEVERITY_WORDS = {1: "mild", 2: "moderate", 3: "severe"}
SNOW_WORDS = {1: "no spasms", 2: "one a day", 3: "2–4 a day", 4: "5–9 a day", 5: "10 or more a day"}


class DayAxis:
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


def render_summary(data: ReportData, zone: ZoneInfo) -> str:
    """The ``<section id="summary">``: the key numbers, the alerts and the daily scores (open)."""
    c = data.coverage
    monitored = f"{c.monitored_h:.1f} h" if c.monitored_h > 0 else NO_DATA
    too_little = too_little_text(3600.0 * c.monitored_h) if c.monitored_h > 0 else NO_DATA
    if data.snow_median is not None:
        snow = f"{scored(data.snow_median, SNOW_WORDS)}, {data.snow_days} day(s) scored"
    else:
        snow = f"not scored: no day worn {data.min_wear_h:g} h" if data.days else NO_DATA
    rows = [
        ("period", "Period", f"{period_text(data, zone)} ({c.period_h:.0f} h)"),
        ("completeness", "Data completeness", f"{c.completeness_pct:.1f} %"),
        ("observed-hours", "Clock hours with any data", f"{c.observed_hours} on {c.days_with_data} day(s)"),
        ("monitored", "Observed time", monitored),
        ("gaps", "Connectivity gaps", f"{c.gap_count} ({c.gap_s / 60:.1f} min lost)"),
        ("signal-loss", "Electrode off and poor signal", f"{c.signal_loss_s / 60:.1f} min"),
        ("spasms", "Spasms (episodes of the affected limbs)", str(data.spasms)),
        ("spasms-per-hour", "Spasms per observed hour", num(data.spasms_per_h, 2, missing=too_little)),
        (
            "penn-frequency",
            "Penn frequency, EMG-derived equivalent (0–4)",
            scored(data.penn_frequency, PENN_FREQUENCY_WORDS)
            if data.penn_frequency is not None
            else too_little,
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
    table_html = f'<table class="summary">{summary}</table>'
    return (
        f'<section id="summary"><h2>Summary</h2>{scroll_box(table_html)}'
        f'<p class="note">Data completeness: {escape(c.basis)}. Time without observation is '
        "unknown, not spasm-free: it is left out of every rate, and hours and days without it show "
        "no data, never 0.</p>"
        f"<h3>Alerts</h3>{alerts}{_daily_table(data.days)}</section>"
    )


def _daily_table(days: Sequence[DayScores]) -> str:
    rows = [
        (
            d.date.isoformat(),
            f"{d.observed_s / 3600:.1f}" if d.observed_s >= 360 else f"{d.observed_s / 60:.0f} min",
            str(d.spasms),
            num(d.spasms_per_h, 2, missing=d.rate_note),
            str(d.day_spasms),
            str(d.night_spasms),
            num(d.penn_frequency, 0, missing=d.rate_note),
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
    # Open: a folded table is a click a reader may not make, and content print could lose.
    return (
        "<details open><summary>Daily clinical scores</summary>" + table(header, rows, NO_DATA) + "</details>"
    )


def render_spasm_rate(data: ReportData, axis: DayAxis) -> str:
    """The ``<section id="spasms-per-day">``: the daily rate chart and each injection's before/after."""
    parts = ['<section id="spasms-per-day"><h2>Spasms per observed hour and treatment</h2>']
    if not data.days:
        parts.append(nodata("No spasm monitoring data in the period."))
    else:
        by_date = {d.date: d for d in data.days}
        # A day below the rule (monitor.clinical.enough) has no bar: a minute's 600/h would
        # flatten every real day. It is named under the chart instead.
        values = [by_date[d].spasms_per_h if d in by_date else None for d in axis.dates]
        short: dict[str, list[str]] = {}  # note -> dates, so a sampled month stays one line
        for d in data.days:
            if d.spasms_per_h is None:
                short.setdefault(d.rate_note, []).append(f"{d.date:%d %b}")
        parts.append(
            bar_chart(
                "Spasms per observed hour, per day",
                "Each local day's spasms (overlapping channels once) over its observed time, with "
                "Botox injections (red) and PT sessions (blue) as dashed lines; days without "
                f"observed time have no bar (no data, not 0), nor days observed under {MIN_RATE_H:g} h.",
                axis.labels,
                [Series("spasms per observed hour", values, SPASM_COLOUR)],
                "spasms / observed h",
                axis.markers,
            )
        )
        if short:
            named = "; ".join(f"{note} on {', '.join(dates)}" for note, dates in sorted(short.items()))
            parts.append(f'<p class="note" id="rate-too-little">No bar: {escape(named)}.</p>')
    parts.append("<h3>Before and after each injection</h3>")
    rows = [
        (
            inj.date.isoformat(),
            inj.label,
            f"{p.pre_spasms} in {hours_text(p.pre_observed_h)} ({p.pre_days} d)",
            f"{p.post_spasms} in {hours_text(p.post_observed_h)} ({p.post_days} d)",
            num(p.pre_per_h, 2, missing=too_little_text(3600 * p.pre_observed_h)),
            num(p.post_per_h, 2, missing=too_little_text(3600 * p.post_observed_h)),
            num(p.change_per_h, 2, missing=NOT_ENOUGH),
            signed_pct(p.change_pct) if math.isfinite(p.change_per_h) else NOT_ENOUGH,
            num(p.cohens_d, 2),
        )
        for inj in data.injections
        for p in (inj.pre_post,)
    ]
    header = (
        "Injection",
        "Treatment",
        "14 days before",
        "Days 7–41 after (weeks 2–6 pooled)",
        "Before / observed h",
        "After / observed h",
        "Change / observed h",
        "Change",
        "Effect size (Cohen's d, descriptive)",
    )
    parts.append(table(header, rows, "No Botox injection logged in the period.", table_id="pre-post"))
    parts.append(
        '<p class="note">Spasms per observed hour in the 14 days before the injection against days '
        "7–41 after it. Negative is better. The effect size (Cohen's d) uses the pooled standard "
        "deviation of the observed days' rates (weighted by their observed hours) and treats them "
        "as independent, which autocorrelated, over-dispersed counts are not: descriptive only, "
        "not the effect. The effect is the rate ratio with its confidence interval (The Botox "
        "cycle, below). This table pools days 7–41, so it mixes the build-up of the effect (onset, "
        "days 7–20) with its peak; the patient summary at the top and the Botox-cycle table state "
        "the peak window (days 21–42, as far as the data reaches), so their numbers differ from "
        f"these by design. A window observed under {MIN_RATE_H:g} h has no rate and no change "
        "(see How to read).</p></section>"
    )
    return "".join(parts)


def render_kinds(data: ReportData) -> str:
    """The ``<section id="types">``: spasms per type and the duration distribution."""
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


def render_events(data: ReportData, zone: ZoneInfo) -> str:
    """The ``<section id="events">``: the most recent detector events."""
    rows = [
        (
            when(e.onset_ns, zone, seconds=True),
            spasm_kind(e),  # old spools' names read as today's
            f"{e.duration_s:.1f}",
            num(e.peak_x_baseline, 1),
            num(e.clonus_hz, 1, missing="–"),
            str(e.channel),
            e.location,
        )
        for e in data.events
    ]
    header = (
        "Onset (local)",
        "Type",
        "Duration (s)",
        "Peak strength (× resting level)",
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


def render_notes() -> str:
    """The ``<section id="notes">``: how to read the clinician's part."""
    return (
        '<section id="notes"><h2>How to read this report</h2><ul class="note">'
        "<li>Spasms are episodes of a limb: events of one side's channels and wearables that overlap "
        "or follow within 1 s count once, as Snow et al. (1990) count a rapid series without a pause. "
        "The Penn and Snow figures are EMG-derived equivalents of those self-reported scales, counted "
        "on the affected limbs (injected in the treatment log, or worn with affected = true).</li>"
        "<li>Every rate is per observed hour: the time a wearable was streaming, recorded to the "
        "second. The Penn Spasm Frequency Scale (Penn et al. 1989) is scored from it. "
        f"A rate, a change or a Penn frequency score needs at least {MIN_RATE_H:g} h observed: Penn's "
        "categories are counts per hour, and with no spasm seen in T hours the rate's 95 % upper "
        'bound is still 3/T per hour (180/h after a minute). Less says "too little data". '
        "Score 1 (spasms induced only by stimulation) is never produced: EMG cannot tell provoked from "
        "spontaneous spasms.</li>"
        "<li>Penn severity is a project rule to be calibrated against clinician ratings: severe when a "
        "spasm lasts at least 10 s or peaks at 10 × the resting level, moderate from 3 s or 5 ×.</li>"
        "<li>Snow's score (Snow et al. 1990) counts the spasms of 24 hours, so a local day gets it only "
        "when enough of it was observed (config.toml [clinical] min_wear_h, 8 h by default, our "
        'choice); other days say "not scored: N h worn". The count is never extrapolated.</li>'
        "<li>Fewer spasms during a connectivity gap or with an electrode off is missing data, not "
        "improvement.</li></ul></section>"
    )
