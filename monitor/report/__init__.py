"""The patient report: one self-contained HTML file from the spool.

- :mod:`~monitor.report.model`: what the report shows, as typed data (:class:`ReportData`).
- :mod:`~monitor.report.source`: reading a spool or an InfluxDB (:func:`build_report`).
- :mod:`~monitor.report.gather`: computing it from the records read (:func:`gather`).
- :mod:`~monitor.report.cycles`: the Botox cycles and what changed after the latest injection.
- :mod:`~monitor.report.svg`: inline SVG charts (a wide and a narrow drawing of each).
- :mod:`~monitor.report.html`: the HTML document (:func:`render_html`): the patient's part
  (:mod:`~monitor.report.html_patient`) first, then the clinician's
  (:mod:`~monitor.report.html_clinician`, :mod:`~monitor.report.html_activity`), styled for
  screen, phone and A4 print by :mod:`~monitor.report.css`.

Examples
--------
>>> from pathlib import Path
>>> import tempfile
>>> from monitor.store import Spool
>>> folder = Path(tempfile.mkdtemp())
>>> Spool(folder / "spool.sqlite").close()
>>> data = build_report(folder / "spool.sqlite", timezone="Europe/London")
>>> data.spasms, data.coverage.observed_hours
(0, 0)
>>> write_report(data, folder / "report.html").name
'report.html'
"""

from __future__ import annotations

from pathlib import Path

from monitor.report.gather import gather
from monitor.report.html import render_html
from monitor.report.model import ReportData, ReportError
from monitor.report.source import build_report

__all__ = ["ReportData", "ReportError", "build_report", "gather", "render_html", "write_report"]


def write_report(data: ReportData, out_path: str | Path) -> Path:
    """Render ``data`` and write it to ``out_path`` (UTF-8), creating its folder; the path written.

    Raises
    ------
    ReportError
        The file cannot be written.
    """
    path = Path(out_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(data), encoding="utf-8")
    except OSError as error:
        raise ReportError(
            f"cannot write the report to {str(path)!r}: {error.strerror}", "choose another --out"
        ) from None
    return path
