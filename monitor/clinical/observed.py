"""Observed time: the one definition of when a patient's spasms were monitored.

Every rate of :mod:`monitor.clinical` (and so of the report, the terminal summaries and the
dashboards, which read its records) divides by this time, and nothing is scored without it.

The rule, per patient and local calendar day:

- the ``observation`` records of that day (intervals: start, ``duration_s``) are the observed
  time, merged so overlapping intervals count once. The pipeline writes them while any
  wearable streams (the demo's simulated history too: its windows go through it);
- a day without ``observation`` records (a spool written before they existed) takes its
  observed time from ``coverage`` records: each stream's covered seconds of a UTC minute,
  the minute counting with the largest ``covered_s`` of the patient's streams in it.

Nothing else counts: a ``device_status`` saying "not connected", a collector's bookkeeping,
an alert or a treatment entry say nothing about whether a spasm would have been seen. So a
run in which no wearable ever connected has no observed time, and no score.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from monitor.clinical.events import local_hour_start_ns, to_local
from monitor.store.schema import COVERAGE, OBSERVATION
from monitor.types import NS_PER_S, Record

NS_PER_HOUR = 3600 * NS_PER_S
NS_PER_MINUTE = 60 * NS_PER_S


def observed_intervals(records: Iterable[Record], zone: ZoneInfo) -> dict[str, list[tuple[int, int]]]:
    """Observed intervals per patient, merged and sorted, UTC ns ``[start, end)``.

    Parameters
    ----------
    records : iterable of Record
        Any records; only ``observation`` and ``coverage`` ones are read.
    zone : ZoneInfo
        The patients' timezone (the fallback to ``coverage`` is per local day).

    Returns
    -------
    dict of str to list of (int, int)
        Patient ("" when untagged) → disjoint intervals in time order.

    Examples
    --------
    >>> s = NS_PER_S
    >>> obs = [Record("observation", 0, {"duration_s": 60.0}, {"patient": "p"}),
    ...        Record("observation", 30 * s, {"duration_s": 60.0}, {"patient": "p"}),
    ...        Record("device_status", 500 * s, {"connected": False}, {"patient": "p"})]
    >>> observed_intervals(obs, ZoneInfo("UTC"))
    {'p': [(0, 90000000000)]}
    """
    explicit: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    minutes: defaultdict[str, dict[int, float]] = defaultdict(dict)  # patient -> minute -> covered_s
    for r in records:
        patient = r.tags.get("patient", "")
        if r.measurement == OBSERVATION:
            duration_s = float(r.fields.get("duration_s", 0.0))
            if duration_s > 0:
                explicit[patient].append((r.time_ns, r.time_ns + round(duration_s * NS_PER_S)))
        elif r.measurement == COVERAGE:
            covered_s = min(float(r.fields.get("covered_s", 0.0)), 60.0)
            if covered_s > 0:
                minute = r.time_ns - r.time_ns % NS_PER_MINUTE
                minutes[patient][minute] = max(minutes[patient].get(minute, 0.0), covered_s)
    out: dict[str, list[tuple[int, int]]] = {}
    for patient in set(explicit) | set(minutes):
        intervals = explicit.get(patient, [])
        # Coverage only on local days that have no observation interval.
        days = {to_local(start, zone).date() for start, _ in intervals}
        intervals = intervals + [
            (minute, minute + round(covered_s * NS_PER_S))
            for minute, covered_s in minutes.get(patient, {}).items()
            if to_local(minute, zone).date() not in days
        ]
        merged = _merge(intervals)
        if merged:
            out[patient] = merged
    return out


def observed_seconds_by_hour(records: Iterable[Record], zone: ZoneInfo) -> dict[str, dict[int, float]]:
    """Observed seconds per patient and local clock hour (UTC ns of its start); hours with none are absent.

    Examples
    --------
    >>> s = NS_PER_S
    >>> obs = [Record("observation", 3000 * s, {"duration_s": 1200.0}, {"patient": "p"})]
    >>> observed_seconds_by_hour(obs, ZoneInfo("UTC"))
    {'p': {0: 600.0, 3600000000000: 600.0}}
    """
    out: dict[str, dict[int, float]] = {}
    for patient, intervals in observed_intervals(records, zone).items():
        hours: defaultdict[int, float] = defaultdict(float)
        for start, end in intervals:
            t = start
            while t < end:  # an interval may straddle local hours
                hour = local_hour_start_ns(t, zone)
                stop = min(end, hour + NS_PER_HOUR)
                hours[hour] += (stop - t) / NS_PER_S
                t = stop
        out[patient] = dict(sorted(hours.items()))
    return out


def observed_seconds_by_date(records: Iterable[Record], zone: ZoneInfo) -> dict[str, dict[dt.date, float]]:
    """Observed seconds per patient and local date (dates with none are absent)."""
    out: dict[str, dict[dt.date, float]] = {}
    for patient, hours in observed_seconds_by_hour(records, zone).items():
        dates: defaultdict[dt.date, float] = defaultdict(float)
        for hour, seconds in hours.items():
            dates[to_local(hour, zone).date()] += seconds
        out[patient] = dict(dates)
    return out


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


__all__ = [
    "observed_intervals",
    "observed_seconds_by_date",
    "observed_seconds_by_hour",
]
