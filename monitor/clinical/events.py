"""Spasm events as plain rows, read from ``spasm_event`` records, and local-time helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.types import NS_PER_S, Record

SPASM_EVENT = "spasm_event"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class SpasmRow:
    """What the clinical scores need from one spasm.

    Attributes
    ----------
    onset_ns : int
        UTC onset, ns since the Unix epoch.
    duration_s : float
        Duration, s.
    peak_x_baseline : float or None
        Peak envelope as a multiple of the resting baseline (None for IMU-only events).
    kind : str
        ``tonic``, ``clonus``, ``myoclonic`` or ``mixed``.
    patient : str
        Patient pseudonym ("" when untagged).
    """

    onset_ns: int
    duration_s: float
    peak_x_baseline: float | None = None
    kind: str = "tonic"
    patient: str = ""


def spasm_rows(records: Iterable[Record], merge_overlapping: bool = True) -> list[SpasmRow]:
    """The ``spasm_event`` records among ``records`` as rows, in onset order.

    The detector reports a spasm once per EMG channel, so one spasm of a limb seen by the
    gastrocnemius and the soleus electrodes is two events. The clinical scales count
    spasms of the patient, and Snow et al. (1990) count a rapid series without a pause as
    one spasm; so by default events of one patient that overlap in time are merged into
    one spasm spanning them, with the larger peak.
    """
    rows = []
    for r in records:
        if r.measurement != SPASM_EVENT:
            continue
        peak = r.fields.get("peak_x_baseline")
        rows.append(
            SpasmRow(
                onset_ns=r.time_ns,
                duration_s=float(r.fields.get("duration_s", 0.0)),
                peak_x_baseline=None if peak is None else float(peak),
                kind=r.tags.get("kind", ""),
                patient=r.tags.get("patient", ""),
            )
        )
    rows.sort(key=lambda row: row.onset_ns)
    return _merge_overlapping(rows) if merge_overlapping else rows


def _merge_overlapping(rows: list[SpasmRow]) -> list[SpasmRow]:
    merged: list[SpasmRow] = []
    open_by_patient: dict[str, int] = {}  # patient -> index in merged of the latest spasm
    for row in rows:
        i = open_by_patient.get(row.patient)
        if i is not None and row.onset_ns <= _offset_ns(merged[i]):
            first = merged[i]
            offset_ns = max(_offset_ns(first), _offset_ns(row))
            peaks = [p for p in (first.peak_x_baseline, row.peak_x_baseline) if p is not None]
            merged[i] = SpasmRow(
                first.onset_ns,
                (offset_ns - first.onset_ns) / NS_PER_S,
                max(peaks) if peaks else None,
                first.kind if first.kind == row.kind else "mixed",
                first.patient,
            )
            continue
        open_by_patient[row.patient] = len(merged)
        merged.append(row)
    return merged


def _offset_ns(row: SpasmRow) -> int:
    return row.onset_ns + round(row.duration_s * NS_PER_S)


def to_local(time_ns: int, tz: ZoneInfo) -> dt.datetime:
    """UTC ns → aware local datetime (µs resolution is plenty for hour and day bins)."""
    return (_EPOCH + dt.timedelta(microseconds=time_ns // 1000)).astimezone(tz)


def to_ns(moment: dt.datetime) -> int:
    """Aware datetime → UTC ns. Naive datetimes are refused (ARCHITECTURE.md: Time)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    delta = moment.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def local_hour_start_ns(time_ns: int, tz: ZoneInfo) -> int:
    """UTC ns of the start of the local clock hour holding ``time_ns``.

    Local, not UTC, hours: in zones offset by a half or quarter hour (India, Nepal) a UTC
    hour would straddle two of the patient's hours.
    """
    local = to_local(time_ns, tz)
    return to_ns(local.replace(minute=0, second=0, microsecond=0))


def local_midnight_ns(day: dt.date, tz: ZoneInfo) -> int:
    """UTC ns of local midnight starting ``day`` in ``tz``."""
    return to_ns(dt.datetime(day.year, day.month, day.day, tzinfo=tz))
