"""Spasm events as plain rows, read from ``spasm_event`` records, and local-time helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.types import NS_PER_S, Record

SPASM_EVENT = "spasm_event"


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


def spasm_rows(records: Iterable[Record]) -> list[SpasmRow]:
    """The ``spasm_event`` records among ``records`` as rows, in onset order."""
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
    return sorted(rows, key=lambda row: row.onset_ns)


def to_local(time_ns: int, tz: ZoneInfo) -> dt.datetime:
    """UTC ns → aware local datetime (µs resolution is plenty for hour and day bins)."""
    return dt.datetime.fromtimestamp(time_ns // 1000 / 1_000_000, tz=dt.UTC).astimezone(tz)


def to_ns(moment: dt.datetime) -> int:
    """Aware datetime → UTC ns. Naive datetimes are refused (ARCHITECTURE.md: Time)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone")
    delta = moment.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
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
