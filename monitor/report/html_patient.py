"""The patient's part of the report, first on the page: what changed, in plain words and one picture.

No clinical or internal word here (no scale names, no statistics terms, nothing about how
the data is stored): a test holds it to that. The numbers are the clinician's, from the
Botox cycle tables below (:func:`monitor.report.cycles.latest_change`), written the same
way, so the patient and the clinician read one computation.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from zoneinfo import ZoneInfo

from monitor.clinical.enough import MIN_RATE_H, rate_stated
from monitor.clinical.events import to_local
from monitor.report.css import AFTER_COLOUR, BEFORE_COLOUR
from monitor.report.cycles import Change, latest_change
from monitor.report.model import ReportData


def render_patient(data: ReportData, zone: ZoneInfo) -> str:
    """The ``<section id="patient">``: a few sentences for the patient and one picture.

    Examples
    --------
    >>> from monitor.report.gather import gather
    >>> data = gather([], patient="p01", zone=ZoneInfo("Europe/London"))
    >>> "No Botox injection is logged" in render_patient(data, ZoneInfo("Europe/London"))
    True
    """
    change = latest_change(data.cycles)
    parts = ['<section id="patient"><h2>In short</h2>']
    parts.append(f'<p class="headline" id="patient-headline">{escape(_headline(change))}</p>')
    detail = _detail(change)
    if detail:
        parts.append(f'<p id="patient-detail">{detail}</p>')
    parts.append(_picture(change))
    parts.append(f"<ul>{''.join(f'<li>{escape(line)}</li>' for line in _facts(data, zone, change))}</ul>")
    parts.append(
        "<p>The pages after this one are for your clinician: the same numbers in detail, with the "
        "clinical scores.</p></section>"
    )
    return "".join(parts)


def _headline(change: Change | None) -> str:
    if change is None:
        return "No Botox injection is logged in this period, so there is no before-and-after to show."
    since = f"Since the injection on {_date(change.injection)}"
    w = change.window
    if change.verdict == "unknown" or w is None:
        return f"{since}, there is not enough worn time to tell whether your spasms changed."
    per_hour = "spasms for each hour the sensors were worn."
    if change.verdict == "fewer":  # a no-break space: "42 %" never splits over two lines
        return f"{since}, you had {100 * (1 - w.ratio):.0f}\u00a0% fewer {per_hour}"
    if change.verdict == "more":
        return f"{since}, you had {100 * (w.ratio - 1):.0f}\u00a0% more {per_hour}"
    return f"{since}, your spasms were about as frequent as before: no clear change."


def _detail(change: Change | None) -> str:
    """The sentence behind the headline (HTML: the ratio is marked for the tests and the eye)."""
    if change is None:
        return ""
    w, b = change.window, change.baseline
    if w is None:
        return "The effect of an injection is measured from the 7th day after it."
    if change.verdict == "unknown":
        worn = (
            f"The sensors were worn {_hours(b.observed_h)} in the 2 weeks before and {_hours(w.observed_h)}"
        )
        worn += f" on days {change.first_day}–{change.last_day} after"
        if not (rate_stated(3600.0 * b.observed_h) and rate_stated(3600.0 * w.observed_h)):
            return escape(f"{worn}; at least {MIN_RATE_H:g} hour each is needed to count spasms an hour.")
        if math.isnan(w.ratio):
            return escape(f"{worn}, on too few days for a fair comparison.")
        return escape(f"{worn}, but the number of spasms varied too much from day to day for a clear answer.")
    return (
        f"On days {change.first_day}–{change.last_day} after it there were {w.per_h:.1f} spasms an hour "
        f"worn, against {b.per_h:.1f} in the 2 weeks before: "
        f'<strong id="patient-ratio">{w.ratio:.2f}</strong> times as many.'
    )


def _picture(change: Change | None) -> str:
    """Two bars: spasms an hour worn before the injection and after it (only when the answer is clear)."""
    if change is None or change.window is None or change.verdict == "unknown":
        return ""
    rows = [
        ("In the 2 weeks before the injection", change.baseline.per_h, BEFORE_COLOUR),
        (f"Days {change.first_day}–{change.last_day} after it", change.window.per_h, AFTER_COLOUR),
    ]
    top = max(rate for _, rate, _ in rows) or 1.0
    bars = "".join(
        f'<div class="pbar"><span class="pbar-label">{escape(label)}</span><span class="pbar-row">'
        f'<svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="{100 * rate / top:.1f}" height="10" fill="{colour}"/></svg>'
        f'<span class="pbar-value">{rate:.1f} an hour</span></span></div>'
        for label, rate, colour in rows
    )
    return (
        '<figure class="pbars" id="patient-picture" role="img" aria-label="Spasms for each hour the '
        f'sensors were worn, before and after the injection"><figcaption>Spasms for each hour the sensors '
        f"were worn</figcaption>{bars}</figure>"
    )


def _facts(data: ReportData, zone: ZoneInfo, change: Change | None) -> list[str]:
    lines = []
    if data.end_ns > data.start_ns:
        first = to_local(data.start_ns, zone).date()
        last = to_local(data.end_ns - 1, zone).date()
        lines.append(f"This report covers {_date(first)} to {_date(last)}.")
    c = data.coverage
    if data.spasms_per_h is None:
        lines.append("No spasms could be counted: the sensors recorded no worn time in this period.")
    else:
        lines.append(
            f"The sensors were worn for {_hours(c.monitored_h)} on {_count(c.days_with_data, 'day')} and "
            f"recorded {_count(data.spasms, 'spasm')}, about {data.spasms_per_h:.1f} for each hour worn."
        )
    if change is not None and change.wearing_off_day is not None:
        lines.append(
            f"The injection's effect began to wear off about {change.wearing_off_day:.0f} days after it."
        )
    if data.alerts:
        missed = sum(not a.delivered for a in data.alerts)
        sent = f" ({missed} could not be sent)" if missed else ""
        lines.append(f"{_count(len(data.alerts), 'alert')} raised{sent}.")
    lines.append("Time without the sensors is left out: it is unknown, not free of spasms.")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _date(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _hours(hours: float) -> str:
    return f"{hours:.1f} hours" if hours < 10 else f"{hours:.0f} hours"
