"""Text and table cells of the report: numbers, scores, local times, escaped HTML tables."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from html import escape
from zoneinfo import ZoneInfo

from monitor.clinical.events import to_local
from monitor.report.model import ReportData

NO_DATA = "no data"
LONG_CELL_CHARS = 28  # longer text cells wrap (treatment labels, alert messages)
_NUMERIC = re.compile(r"^[-+]?\d[\d.]*( %| in \d+ d)?$")  # right-aligned table cells


def table(header: Sequence[str], rows: Sequence[Sequence[str]], empty: str, table_id: str = "") -> str:
    """An escaped HTML table in its own scroll box, or ``empty`` as a no-data line without rows."""
    if not rows:
        return nodata(empty)
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td{_cls(v)}>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return scroll_box(f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def scroll_box(html: str) -> str:
    """``html`` (a table) in a box that scrolls sideways on its own: the page never does."""
    return f'<div class="table-scroll">{html}</div>'


def _cls(value: str) -> str:
    if _NUMERIC.match(value):
        return ' class="num"'
    # Cells do not wrap (a narrow screen scrolls the table's box instead), but long text does.
    return ' class="long"' if len(value) > LONG_CELL_CHARS else ""


def nodata(text: str) -> str:
    return f'<p class="nodata">{escape(text)}</p>'


def num(value: float | None, digits: int, missing: str = NO_DATA) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return f"{value:.{digits}f}"


def signed_pct(value: float) -> str:
    return NO_DATA if math.isnan(value) else f"{value:+.0f} %"


def scored(score: int | None, words: dict[int, str]) -> str:
    return NO_DATA if score is None else f"{score} ({words.get(score, '')})"


def when(time_ns: int, zone: ZoneInfo, seconds: bool = False) -> str:
    return to_local(time_ns, zone).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def period_text(data: ReportData, zone: ZoneInfo) -> str:
    if data.end_ns <= data.start_ns:
        return NO_DATA
    first = to_local(data.start_ns, zone).date()
    last = to_local(data.end_ns - 1, zone).date()
    return f"{first.isoformat()} to {last.isoformat()}"


def period_dates(data: ReportData, zone: ZoneInfo) -> list[dt.date]:
    if data.end_ns <= data.start_ns:
        return []
    first = to_local(data.start_ns, zone).date()
    last = to_local(data.end_ns - 1, zone).date()
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
