"""One self-contained HTML file from a :class:`~monitor.report.model.ReportData`.

The file makes no network request at all: inline CSS, inline SVG charts, no script, no
font or image, and a Content-Security-Policy that forbids loading anything (so a stray
reference could not load either). It opens offline, from a USB stick or an e-mail.

It reads in two parts: first a plain-language summary for the patient
(:mod:`~monitor.report.html_patient`: what changed since the last injection, in words and
one picture), then the clinician's detail (:mod:`~monitor.report.html_clinician`,
:mod:`~monitor.report.html_activity`, :mod:`~monitor.report.cycles`), in the words of the
dashboards (``dashboards/README.md``) and ``docs/clinical.md``. The stylesheet
(:mod:`~monitor.report.css`) fits it to a phone and to A4 paper. Every date and clock time
is local to the patient's timezone.
"""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from monitor.report.cells import period_text, when
from monitor.report.css import SPASM_COLOUR, STYLE
from monitor.report.cycles import render_cycles
from monitor.report.html_activity import render_day_night, render_rom
from monitor.report.html_clinician import (
    DayAxis,
    render_events,
    render_kinds,
    render_notes,
    render_spasm_rate,
    render_summary,
)
from monitor.report.html_patient import render_patient
from monitor.report.html_tardieu import render_tardieu
from monitor.report.model import ReportData

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

__all__ = ["CSP", "SPASM_COLOUR", "render_html"]


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
    axis = DayAxis(data, zone)
    title = f"Spasm report – patient {data.patient or '(untagged)'}"
    clinician = [
        render_summary(data, zone),
        render_spasm_rate(data, axis),
        render_cycles(data),
        render_kinds(data),
        render_day_night(data, axis),
        render_rom(data, axis),
        render_tardieu(data, axis),
        render_events(data, zone),
        render_notes(),
    ]
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Period {escape(period_text(data, zone))} ({escape(data.timezone)}) · generated '
        f"{escape(when(data.generated_ns, zone))}</p>",
        _banner(data),
        render_patient(data, zone),
        '<div class="clinician" id="clinician"><h2 class="part">For the clinician: the detail</h2>',
        *clinician,
        "</div>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
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
