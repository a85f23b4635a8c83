"""The treatment log in the spool: add entries (refusing silent overwrites) and list them."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from monitor.store import Spool
from monitor.treatment.entries import TREATMENT, Entry, local_when
from monitor.types import Record

_ALL_TIME = (0, 2**63 - 1)


def add_entries(spool: Spool, entries: Sequence[Entry], tz: ZoneInfo, patient: str) -> list[Record]:
    """Store entries as ``treatment`` records, all or none.

    Two entries of the same kind (and side) at the same time would be one point in
    InfluxDB, the second silently replacing the first, so that is refused: give a time.

    Raises
    ------
    ValueError
        An entry collides with a stored one or with another in ``entries``.
    """
    records = [e.to_record(tz, patient) for e in entries]
    existing = {_identity(r) for r in spool.query(*_ALL_TIME, measurement=TREATMENT, patient=patient or None)}
    for record in records:
        identity = _identity(record)
        if identity in existing:
            raise ValueError(
                f"a {record.tags['kind']} entry already exists at {local_when(record.time_ns, tz)}"
                " for this patient: give a different time of day (--time / the time column)"
            )
        existing.add(identity)
    spool.append(records)
    return records


def list_entries(spool: Spool, patient: str | None = None) -> list[Record]:
    """All ``treatment`` records (of one patient), in time order."""
    return spool.query(*_ALL_TIME, measurement=TREATMENT, patient=patient)


def _identity(record: Record) -> tuple[int, tuple[tuple[str, str], ...]]:
    # What InfluxDB keys a point by: time and tag set (the measurement is fixed).
    return record.time_ns, tuple(sorted(record.tags.items()))
