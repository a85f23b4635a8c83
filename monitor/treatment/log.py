"""The treatment log in the spool: add entries (refusing silent overwrites), list, edit, remove.

An entry's ID is its spool row id, as ``treatment list`` shows it (``#12``). Editing writes
the entry anew (a new ID, so the forwarder sends the new values) and removes the old row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from monitor.store import Spool
from monitor.store.line_parser import parse_fields, parse_series
from monitor.store.schema import TREATMENT
from monitor.treatment.entries import (
    BotoxInjection,
    Entry,
    PtSession,
    check_pseudonym,
    describe,
    local_date_time,
    local_when,
    split_list,
)
from monitor.types import Record

_ALL_TIME = (0, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A ``treatment`` record as the spool holds it.

    Attributes
    ----------
    id : int
        Its spool row id: the ID ``treatment list`` shows and ``edit``/``remove`` take.
    record : Record
    sent : bool
        Whether the forwarder already sent it to InfluxDB (its row is below the watermark).
    """

    id: int
    record: Record
    sent: bool = False


@dataclass(frozen=True, slots=True)
class Added:
    """What :func:`add_entries` did: the records stored, and the entries already stored
    as they are (label of the entry, the stored entry it repeats), which are left alone."""

    records: list[Record] = field(default_factory=list)
    already: list[tuple[str, StoredEntry]] = field(default_factory=list)


def add_entries(
    spool: Spool,
    entries: Sequence[Entry],
    tz: ZoneInfo,
    patient: str,
    labels: Sequence[str] | None = None,
) -> Added:
    """Store entries as ``treatment`` records, all or none.

    Two entries of the same kind (and side) at the same time would be one point in InfluxDB,
    the second silently replacing the first, so that is refused, naming both. An entry
    already stored exactly as given is left alone (importing a file again adds nothing).

    Parameters
    ----------
    labels : sequence of str, optional
        How to name each entry in a message (``log.csv row 3``); ``entry N`` by default.

    Raises
    ------
    ValueError
        The patient is not a pseudonym, or an entry collides with a stored one or another in
        ``entries``; the message names both.
    """
    check_pseudonym(patient)
    names = list(labels) if labels is not None else [f"entry {i + 1}" for i in range(len(entries))]
    records = [e.to_record(tz, patient) for e in entries]
    stored = {_identity(s.record): s for s in stored_entries(spool, patient)}
    new: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[str, Record]] = {}
    result = Added()
    for name, record in zip(names, records, strict=True):
        identity = _identity(record)
        if identity in new:
            first, _ = new[identity]
            raise ValueError(
                f"{name} duplicates {first}: the same {_what(record)} at {local_when(record.time_ns, tz)};"
                " remove one, or give one another time"
            )
        if identity in stored:
            old = stored[identity]
            if old.record.fields == record.fields:
                result.already.append((name, old))
                continue
            raise ValueError(
                f"{name} collides with stored entry #{old.id} ({describe(old.record, tz).strip()}):"
                f" the same {_what(record)} at the same time would replace it;"
                f" change it with `treatment edit {old.id}`, or give {name} another time"
            )
        new[identity] = (name, record)
    result.records.extend(record for _, record in new.values())
    spool.append(result.records)
    return result


def list_entries(spool: Spool, patient: str | None = None) -> list[Record]:
    """All ``treatment`` records (of one patient), in time order."""
    return spool.query(*_ALL_TIME, measurement=TREATMENT, patient=patient)


def stored_entries(spool: Spool, patient: str | None = None) -> list[StoredEntry]:
    """All ``treatment`` records (of one patient) with their IDs, in time order."""
    sql = "SELECT id, series, fields, time_ns FROM points WHERE measurement = ?"
    args: tuple[object, ...] = (TREATMENT,)
    if patient is not None:
        sql += " AND patient = ?"
        args += (patient,)
    watermark = spool.rows("SELECT value FROM progress WHERE key = 'sent_upto_id'")
    sent_upto = int(str(watermark[0][0])) if watermark else 0
    entries = []
    for row_id, series, fields, time_ns in spool.rows(sql + " ORDER BY time_ns, id", args):
        name, tags = parse_series(str(series))
        record = Record(name, int(str(time_ns)), parse_fields(str(fields)), dict(tags))
        entries.append(StoredEntry(int(str(row_id)), record, int(str(row_id)) <= sent_upto))
    return entries


def find_entry(spool: Spool, entry_id: int) -> StoredEntry:
    """The entry with this ID; ValueError naming where the IDs are shown if there is none."""
    found = next((s for s in stored_entries(spool) if s.id == entry_id), None)
    if found is None:
        raise ValueError(f"no treatment entry #{entry_id} in {spool.path} (`treatment list` shows the IDs)")
    return found


def remove_entry(spool: Spool, entry_id: int) -> StoredEntry:
    """Delete entry ``entry_id`` from the spool; the entry as it was."""
    entry = find_entry(spool, entry_id)
    spool.delete_points("id = ? AND measurement = ?", (entry_id, TREATMENT))
    return entry


def edit_entry(
    spool: Spool, entry_id: int, changes: Mapping[str, object], tz: ZoneInfo
) -> tuple[StoredEntry, Record]:
    """Change fields of entry ``entry_id`` (``date``, ``time``, ``dose_u``, ``note``...).

    The entry is validated again as a whole and checked against the other entries as
    :func:`add_entries` does. The new record is written before the old row is removed, so an
    interruption leaves both, never neither.

    Returns
    -------
    (StoredEntry, Record)
        The entry as it was, and as it is now.
    """
    old = find_entry(spool, entry_id)
    entry = entry_from_record(old.record, tz)
    allowed = {f.name for f in dataclasses.fields(entry)}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        kind = old.record.tags.get("kind", "?")
        raise ValueError(f"a {kind} entry has no {', '.join(unknown)} (it has {', '.join(sorted(allowed))})")
    edited = dataclasses.replace(entry, **changes)  # type: ignore[arg-type]  # validated again
    patient = old.record.tags.get("patient", "")
    record = edited.to_record(tz, patient)
    for other in stored_entries(spool, patient):
        if other.id != entry_id and _identity(other.record) == _identity(record):
            raise ValueError(
                f"the edited entry would collide with #{other.id} ({describe(other.record, tz).strip()});"
                " give another time"
            )
    spool.append([record])
    if _identity(record) != _identity(old.record):  # same key: the append replaced the row
        spool.delete_points("id = ? AND measurement = ?", (entry_id, TREATMENT))
    return old, record


def entry_from_record(record: Record, tz: ZoneInfo) -> Entry:
    """The entry a ``treatment`` record was made from (its local date and time in ``tz``)."""
    date, time = local_date_time(record.time_ns, tz)
    fields, kind = record.fields, record.tags.get("kind")
    note = str(fields.get("note", ""))
    if kind == "botox":
        return BotoxInjection(
            date,
            split_list(str(fields["muscles"])),
            record.tags.get("side", ""),
            float(fields["dose_u"]),
            str(fields["product"]),
            time,
            note,
        )
    if kind == "pt":
        return PtSession(
            date, str(fields["pt_kind"]), split_list(str(fields.get("exercises", ""))), time, note
        )
    raise ValueError(f"a treatment record of kind {kind!r} cannot be edited")


def _what(record: Record) -> str:
    side = record.tags.get("side")
    return f"{record.tags.get('kind', '?')} entry" + (f" ({side})" if side else "")


def _identity(record: Record) -> tuple[int, tuple[tuple[str, str], ...]]:
    # What InfluxDB keys a point by: time and tag set (the measurement is fixed).
    return record.time_ns, tuple(sorted(record.tags.items()))
