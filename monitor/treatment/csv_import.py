"""Import treatment entries from a CSV file with a header row.

Columns (any order; unknown ones are an error so that a typo is not silently ignored):

- ``kind`` (required): ``botox`` or ``pt``
- ``date`` (required): local date, YYYY-MM-DD; ``time`` (optional): local HH:MM, or
  HH:MM+02:00 with its UTC offset in the hour the clocks pass twice
- botox: ``muscles`` (``;`` or ``,`` separated, quote the cell for commas), ``side``, ``dose_u``,
  ``product`` (optional, default onabotulinumtoxinA)
- pt: ``pt_kind``, ``exercises`` (optional, ``;`` separated)
- ``note`` (optional)

Example::

    kind,date,time,muscles,side,dose_u,product,pt_kind,exercises,note
    botox,2026-03-02,10:30,gastrocnemius;soleus,left,200,Botox,,,
    pt,2026-03-05,,,,,,stretching,calf stretch;hamstring stretch,

The whole file is checked before anything is stored: one bad row stores nothing, and the
error names the file, the row (as a spreadsheet numbers it, header = 1) and the column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.treatment.entries import (
    BotoxInjection,
    Entry,
    PtSession,
    entry_time_ns,
    parse_date,
    parse_time,
    split_list,
)

COLUMNS = ("kind", "date", "time", "muscles", "side", "dose_u", "product", "pt_kind", "exercises", "note")
REQUIRED = {"botox": ("muscles", "side", "dose_u"), "pt": ("pt_kind",)}


class TreatmentFileError(ValueError):
    """A row of a treatment file that cannot be imported; the message names row and column."""


def read_treatment_csv(path: Path) -> list[Entry]:
    """Parse and validate every row of a treatment CSV file (see :func:`read_treatment_rows`)."""
    return [entry for _, entry in read_treatment_rows(path)]


def read_treatment_rows(path: Path, tz: ZoneInfo | None = None) -> list[tuple[int, Entry]]:
    """Parse and validate every row of a treatment CSV file: (row number, entry) pairs.

    Parameters
    ----------
    path : Path
    tz : ZoneInfo, optional
        The patient's timezone: each row's local time is checked in it (a time the clocks
        skip or pass twice is refused with that row's number).

    Raises
    ------
    ValueError
        ``FILE row N, column C: what is wrong``, on the first bad row; or a missing file.
    """
    try:
        # utf-8-sig: spreadsheets often write a BOM. newline="": the csv module's own rule,
        # so a quoted note keeps its line breaks (and a NEL or U+2028 stays inside its cell,
        # where str.splitlines() would cut the row there).
        with path.open(encoding="utf-8-sig", newline="") as file:
            text = file.read()
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        return _read_rows(path, csv.DictReader(io.StringIO(text, newline="")), tz)
    except csv.Error as error:  # a NUL byte, or a quote left open at the end of the file
        raise TreatmentFileError(f"{path}: not a readable CSV file ({error})") from None


def _read_rows(path: Path, reader: csv.DictReader[str], tz: ZoneInfo | None) -> list[tuple[int, Entry]]:
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise TreatmentFileError(
            f"{path} row 1, column {unknown[0]}: unknown column (known: {', '.join(COLUMNS)})"
        )
    for needed in ("kind", "date"):
        if needed not in header:
            raise TreatmentFileError(f"{path} row 1, column {needed}: missing from the header")
    entries = []
    for row_number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue  # blank line
        entries.append((row_number, _entry(path, row_number, row, tz)))
    return entries


def _entry(path: Path, row_number: int, row: dict[str, str], tz: ZoneInfo | None) -> Entry:
    column = "kind"

    def fail(message: str) -> TreatmentFileError:
        return TreatmentFileError(f"{path} row {row_number}, column {column}: {message}")

    kind = row.get("kind", "")
    if kind not in REQUIRED:
        raise fail(f"{kind!r} is not botox or pt")
    for column in REQUIRED[kind]:  # fail() reads ``column``
        if not row.get(column):
            raise fail(f"required for a {kind} entry")
    try:
        column = "date"
        date = parse_date(row["date"])
        column = "time"
        time = parse_time(row.get("time", ""))
        if tz is not None:
            entry_time_ns(date, time, tz)  # a skipped or doubled local time, named by its row
        if kind == "botox":
            column = "dose_u"
            try:
                dose_u = float(row["dose_u"])
            except ValueError:
                raise ValueError(f"{row['dose_u']!r} is not a number of units") from None
            column = "muscles"
            return BotoxInjection(
                date=date,
                muscles=split_list(row["muscles"]),
                side=row["side"],
                dose_u=dose_u,
                product=row.get("product") or "onabotulinumtoxinA",
                time=time,
                note=row.get("note", ""),
            )
        return PtSession(
            date=date,
            pt_kind=row["pt_kind"],
            exercises=split_list(row.get("exercises", "")),
            time=time,
            note=row.get("note", ""),
        )
    except ValueError as error:
        message = str(error)
        # Entry validation prefixes its messages with the field it rejects.
        field, _, rest = message.partition(": ")
        if field in COLUMNS and rest:
            column, message = field, rest
        raise fail(message) from None
