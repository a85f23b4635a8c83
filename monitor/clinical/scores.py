"""``clinical_score`` records: hourly and daily scores for dashboards and the report.

One record per patient and observed local hour (``period=hour``) and per patient and local
date (``period=day``), stamped at the local start of the hour or day (as UTC ns).

An hour is *observed* when the patient has any record in it (envelope, status, spasm,
signal quality...): an hour without data is unknown, not spasm-free, and is not scored.
On a local day with ``observation`` records of the patient (explicit monitoring intervals,
for example the sampled windows of the simulated history), they alone say what was
observed, to the second: an hour is observed when an interval overlaps it, and Penn
frequencies are scored from the rate per observed time (2 spasms in 10 observed minutes
is 12/h, not 2/h). Other days keep the rule above.

Fields
------
hour: ``spasms`` (int), ``penn_frequency`` (int, 0/3/4, or 0/2/3/4 from a partly observed hour).
day: ``spasms``, ``observed_hours`` (int), ``penn_frequency`` (int, from the mean hourly
rate), ``snow_frequency`` (int, 1–5), ``day_spasms``, ``night_spasms`` (int),
``penn_severity`` (int 1–3, only on days with spasms).
Both, only on days with ``observation`` records: ``observed_s`` (float, monitored seconds). The rules are in
:mod:`monitor.clinical.penn`, :mod:`monitor.clinical.snow` and :mod:`monitor.clinical.daynight`.
Pre/post comparisons around injections are ``period=injection`` records from
:func:`monitor.clinical.prepost.pre_post_records`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from monitor.clinical.daynight import NightWindow
from monitor.clinical.events import local_hour_start_ns, local_midnight_ns, spasm_rows, to_local
from monitor.clinical.penn import (
    penn_daily_frequency,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_hourly_frequency,
    penn_severity,
)
from monitor.clinical.prepost import POST_END_DAY, PRE_DAYS, pre_post_records
from monitor.clinical.snow import snow_frequency
from monitor.store import Spool
from monitor.types import NS_PER_S, FieldValue, Record

CLINICAL_SCORE = "clinical_score"
OBSERVATION = "observation"
NS_PER_DAY = 86_400 * NS_PER_S
NS_PER_HOUR = 3600 * NS_PER_S


def clinical_scores(
    records: Iterable[Record],
    tz: ZoneInfo | str = "UTC",
    night: NightWindow | None = None,
) -> list[Record]:
    """Hourly and daily clinical scores of every patient in ``records``.

    Parameters
    ----------
    records : iterable of Record
        A time range of spool records (any measurements; ``spasm_event`` ones are counted,
        all of them mark their hour as observed). ``clinical_score`` and ``treatment``
        records are ignored for coverage.
    tz : ZoneInfo or str
        The patients' timezone (IANA name), for local hours, dates and night.
    night : NightWindow, optional
        Local night window, 22:00–07:00 by default.

    Returns
    -------
    list of Record
        ``clinical_score`` records, tagged ``patient`` and ``period`` (``hour`` | ``day``), in time order.

    Examples
    --------
    >>> from monitor.types import NS_PER_S
    >>> t = 1_764_000_000 * NS_PER_S
    >>> rs = [Record("spasm_event", t + i * 300 * NS_PER_S, {"duration_s": 2.0}, {"patient": "p1"})
    ...       for i in range(12)]  # 12 spasms in one hour
    >>> [(r.tags["period"], r.fields["penn_frequency"]) for r in clinical_scores(rs)]
    [('day', 4), ('hour', 4)]
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    window = night or NightWindow()
    records = list(records)
    observed: defaultdict[str, set[int]] = defaultdict(set)  # patient -> local hour starts, ns
    for r in records:
        if r.measurement not in (CLINICAL_SCORE, "treatment", "alert"):
            observed[r.tags.get("patient", "")].add(local_hour_start_ns(r.time_ns, zone))
    observed_s = _observed_seconds(records, zone)
    for patient, covered in observed_s.items():
        # On a day with explicit intervals they alone say what was observed; other days (live
        # data in the same spool, say) keep the "any record in the hour" rule.
        explicit_days = {to_local(hour, zone).date() for hour in covered}
        kept = {hour for hour in observed[patient] if to_local(hour, zone).date() not in explicit_days}
        observed[patient] = kept | set(covered)
    spasms: defaultdict[tuple[str, int], list[tuple[int, float, float | None]]] = defaultdict(list)
    for row in spasm_rows(records):
        hour = local_hour_start_ns(row.onset_ns, zone)
        spasms[(row.patient, hour)].append((row.onset_ns, row.duration_s, row.peak_x_baseline))

    out: list[Record] = []
    for patient, hours in observed.items():
        tags = {"patient": patient} if patient else {}
        by_date: defaultdict[dt.date, list[int]] = defaultdict(list)
        seconds = observed_s.get(patient, {})
        for hour in sorted(hours):
            n = len(spasms[(patient, hour)])
            hour_fields: dict[str, FieldValue] = {"spasms": n, "penn_frequency": penn_hourly_frequency(n)}
            if hour in seconds:
                hour_fields["observed_s"] = seconds[hour]
                hour_fields["penn_frequency"] = penn_frequency_for_rate(n * 3600.0 / seconds[hour])
            out.append(_score(hour, tags, "hour", hour_fields))
            by_date[to_local(hour, zone).date()].append(hour)
        for date, day_hours in sorted(by_date.items()):
            events = [e for h in day_hours for e in spasms[(patient, h)]]
            night_n = sum(window.contains(to_local(onset, zone).time()) for onset, _, _ in events)
            fields: dict[str, FieldValue] = {
                "spasms": len(events),
                "observed_hours": len(day_hours),
                "snow_frequency": snow_frequency(len(events)),
                "day_spasms": len(events) - night_n,
                "night_spasms": night_n,
            }
            observed_h: float = len(day_hours)
            if day_hours[0] in seconds:  # a day with intervals has no other observed hour
                fields["observed_s"] = sum(seconds[h] for h in day_hours)
                observed_h = float(fields["observed_s"]) / 3600.0
            penn = penn_daily_frequency(len(events), observed_h)
            if penn is not None:
                fields["penn_frequency"] = penn
            severity = penn_daily_severity([penn_severity(d, p) for _, d, p in events])
            if severity is not None:
                fields["penn_severity"] = severity
            out.append(_score(local_midnight_ns(date, zone), tags, "day", fields))
    return sorted(out, key=lambda r: (r.time_ns, r.tags.get("patient", ""), r.tags["period"]))


def _observed_seconds(records: list[Record], zone: ZoneInfo) -> dict[str, dict[int, float]]:
    """Seconds covered by ``observation`` intervals, per patient and local hour start."""
    out: defaultdict[str, defaultdict[int, float]] = defaultdict(lambda: defaultdict(float))
    for r in records:
        if r.measurement != OBSERVATION:
            continue
        t, end = r.time_ns, r.time_ns + round(float(r.fields.get("duration_s", 0.0)) * NS_PER_S)
        while t < end:  # an interval may straddle local hours
            hour = local_hour_start_ns(t, zone)
            stop = min(end, hour + NS_PER_HOUR)
            out[r.tags.get("patient", "")][hour] += (stop - t) / NS_PER_S
            t = stop
    return {patient: dict(hours) for patient, hours in out.items()}


def _score(time_ns: int, tags: dict[str, str], period: str, fields: dict[str, FieldValue]) -> Record:
    return Record(CLINICAL_SCORE, time_ns, fields, {**tags, "period": period})


def score_spool(spool: Spool, start_ns: int, end_ns: int, tz: ZoneInfo | str = "UTC") -> list[Record]:
    """All clinical scores of a time range of the spool: hourly, daily and per injection.

    The range is widened to whole local days, so that no hour or day is scored on part of
    its data. The records are returned, not written: the caller appends them (InfluxDB
    overwrites a re-scored point, as it has the same tags and time).

    Parameters
    ----------
    spool : Spool
    start_ns, end_ns : int
        UTC range to score, ns.
    tz : ZoneInfo or str
        The patients' timezone (IANA name).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    first_ns = local_midnight_ns(to_local(start_ns, zone).date(), zone)
    last_day = to_local(end_ns - 1, zone).date() + dt.timedelta(days=1)
    # The high-rate series are left out: every minute with them has a kept ``coverage`` point.
    records = spool.query(first_ns, local_midnight_ns(last_day, zone), kept_only=True)
    scores = clinical_scores(records, zone)
    if not any(r.measurement == "treatment" and r.tags.get("kind") == "botox" for r in records):
        return scores  # no injection to compare around (the live run's hourly case: one day read)
    # Injections in the range need their 14 days before and 6 weeks after.
    context = spool.query(
        first_ns - PRE_DAYS * NS_PER_DAY,
        local_midnight_ns(last_day, zone) + POST_END_DAY * NS_PER_DAY,
        kept_only=True,
    )
    injections = [
        s
        for s in pre_post_records(context, zone)
        if first_ns <= s.time_ns < local_midnight_ns(last_day, zone)
    ]
    return sorted(scores + injections, key=lambda r: (r.time_ns, r.tags.get("patient", ""), r.tags["period"]))
