"""The patient's data as tables: spasm events and episodes, scores, ROM and treatment.

Each table is a list of flat rows (``time_utc``, ``time_ns``, then the record's tags and
fields by name, as ``docs/schema.md`` lists them), written as CSV (one file per table) or as
one JSON document. Episodes are :func:`monitor.clinical.events.episodes`, the one way
spasms are counted; every other table is the stored records as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.clinical.affected import stored_affected
from monitor.clinical.events import episodes, spasm_kind
from monitor.store import Spool
from monitor.store.schema import CLINICAL_SCORE, ROM, SPASM_EVENT, TREATMENT
from monitor.types import NS_PER_S, Record, SpasmEvent

# Table name → the measurement it holds ("episodes" is derived from the events).
TABLES: dict[str, str] = {
    "events": SPASM_EVENT,
    "episodes": SPASM_EVENT,
    "scores": CLINICAL_SCORE,
    "rom": ROM,
    "treatment": TREATMENT,
}
_LEADING = ("time_utc", "time_ns", "patient")

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Period:
    """``[start_ns, end_ns)`` in UTC ns; the whole spool by default."""

    start_ns: int = 0
    end_ns: int = 2**63 - 1


def export_tables(
    spool: Spool, tables: Sequence[str], period: Period, patient: str | None
) -> dict[str, list[Row]]:
    """The rows of each table asked for, in time order.

    Parameters
    ----------
    spool : Spool
        An open spool (read-only is enough).
    tables : sequence of str
        Names from :data:`TABLES`.
    period : Period
        Records stamped in it; treatment entries are all exported (an injection before the
        period is what explains its spasm rates), and so are the ones episodes need.
    patient : str or None
        One patient's rows, or every patient's.
    """
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}; choose from {', '.join(TABLES)}")
    out: dict[str, list[Row]] = {}
    treatment = spool.query(0, 2**63 - 1, measurement=TREATMENT, patient=patient)
    for name in tables:
        if name == "treatment":
            out[name] = [record_row(r) for r in treatment]
        elif name == "episodes":
            events = spool.query(period.start_ns, period.end_ns, measurement=SPASM_EVENT, patient=patient)
            affected = stored_affected(spool)  # the patient's affected limbs, not the period's
            out[name] = [
                _episode_row(e) for e in episodes(events, affected_only=False, known_affected=affected)
            ]
        else:
            records = spool.query(period.start_ns, period.end_ns, measurement=TABLES[name], patient=patient)
            out[name] = [record_row(r) for r in records]
    return out


def record_row(record: Record) -> Row:
    """A record as one flat row: its time (ISO 8601 UTC and ns), tags, then fields."""
    return {"time_utc": iso_utc(record.time_ns), "time_ns": record.time_ns, **record.tags, **record.fields}


def write_csv(tables: dict[str, list[Row]], directory: Path) -> list[Path]:
    """One ``<table>.csv`` per table (header row, then rows); the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in tables.items():
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns(rows), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths


def to_json(tables: dict[str, list[Row]], meta: dict[str, Any]) -> str:
    """One JSON document: ``meta`` (patient, period) and each table as a list of objects."""
    return json.dumps({**meta, "tables": tables}, indent=1, allow_nan=False)


def columns(rows: Iterable[Row]) -> list[str]:
    """Every key of the rows: time and patient first, then by name."""
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
    return [k for k in _LEADING if k in keys] + sorted(keys - set(_LEADING)) or list(_LEADING)


def iso_utc(time_ns: int) -> str:
    """ISO 8601 UTC with microseconds (``2026-03-02T10:15:00.250000Z``); ``time_ns`` is exact."""
    moment = dt.datetime.fromtimestamp(time_ns // NS_PER_S, dt.UTC) + dt.timedelta(
        microseconds=(time_ns % NS_PER_S) // 1000
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _episode_row(e: SpasmEvent) -> Row:
    row: Row = {
        "time_utc": iso_utc(e.onset_ns),
        "time_ns": e.onset_ns,
        "patient": e.patient,
        "side": e.side,
        "kind": spasm_kind(e),
        "duration_s": e.duration_s,
        "events": e.events,
        "affected": e.affected,
    }
    if e.peak_x_baseline is not None:
        row["peak_x_baseline"] = e.peak_x_baseline
    return row
