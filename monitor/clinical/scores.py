"""``clinical_score`` records: hourly and daily scores for dashboards and the report.

One record per patient and observed local hour (``period=hour``) and per patient and
observed local date (``period=day``), stamped at the local start of the hour or day (as UTC ns).

Observed time has one definition, :mod:`monitor.clinical.observed` (``observation``
intervals, else ``coverage`` minutes), and it is the denominator of every rate. An hour or
a day without observed time gets no record at all: no data is never "no spasms". Every
record carries ``observed_s > 0``.

Fields
------
hour: ``spasms`` (int), ``observed_s`` (float, s), ``spasms_per_h`` (float, spasms per
observed hour) and ``penn_frequency`` (int, 0/2/3/4, of that rate); the last two only when
``observed_s`` is at least half an hour (:mod:`monitor.clinical.enough`: a rate over a minute
is not a number a clinician can use).
day: the same four (``penn_frequency`` of the day's rate per observed hour), plus
``day_spasms``, ``night_spasms`` (int), ``penn_severity`` (int 1–3, only on days with
spasms) and ``snow_frequency`` (int 1–5, only on days with at least ``min_wear_h`` observed
hours: a 24-hour count of a day seen for 30 minutes would read as a calm day).
The rules are in :mod:`monitor.clinical.penn`, :mod:`monitor.clinical.snow` and
:mod:`monitor.clinical.daynight`. Pre/post comparisons around injections are
``period=injection`` records from :func:`monitor.clinical.prepost.pre_post_records`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from monitor.clinical.affected import KnownAffected, stored_affected
from monitor.clinical.daynight import NightWindow
from monitor.clinical.enough import rate_stated
from monitor.clinical.events import (
    episode_records,
    local_hour_start_ns,
    local_midnight_ns,
    spasm_rows,
    to_local,
)
from monitor.clinical.observed import observed_seconds_by_hour
from monitor.clinical.penn import penn_daily_severity, penn_frequency_for_rate, penn_severity
from monitor.clinical.prepost import POST_END_DAY, PRE_DAYS, pre_post_records
from monitor.clinical.response import treatment_responses
from monitor.clinical.severity import MIN_REFERENCE_SPASMS, SeverityReference, severity_references
from monitor.clinical.snow import DEFAULT_MIN_WEAR_H, snow_frequency, snow_scorable
from monitor.store import Spool
from monitor.store.schema import CLINICAL_SCORE, COVERAGE, OBSERVATION, SPASM_EPISODE, TREATMENT
from monitor.types import NS_PER_S, FieldValue, Record

NS_PER_DAY = 86_400 * NS_PER_S
NS_PER_HOUR = 3600 * NS_PER_S
CYCLE_READ_DAYS = 120  # a cycle is read to its next injection or at least day 90; 120 bounds the read


def clinical_scores(
    records: Iterable[Record],
    tz: ZoneInfo | str = "UTC",
    night: NightWindow | None = None,
    min_wear_h: float = DEFAULT_MIN_WEAR_H,
    references: dict[str, SeverityReference] | None = None,
    known_affected: KnownAffected | None = None,
) -> list[Record]:
    """Hourly and daily clinical scores of every patient in ``records``, over observed time.

    Parameters
    ----------
    records : iterable of Record
        A time range of spool records: ``spasm_event`` ones are counted, ``observation``
        and ``coverage`` ones say what was observed (:mod:`monitor.clinical.observed`).
    tz : ZoneInfo or str
        The patients' timezone (IANA name), for local hours, dates and night.
    night : NightWindow, optional
        Local night window, 22:00–07:00 by default.
    min_wear_h : float
        Observed hours a day needs for Snow's 24-hour score (``[clinical] min_wear_h``).
    references : dict of str to SeverityReference, optional
        Each patient's severity reference (:mod:`monitor.clinical.severity`); by default
        found in ``records``. A patient without a usable one (fewer than 20 reference
        spasms) is graded by the fixed rule of :func:`~monitor.clinical.penn.penn_severity`.
    known_affected : mapping of str to iterable of str, optional
        Affected sides per patient from the whole history
        (:func:`~monitor.clinical.affected.stored_affected`), added to those ``records`` say.
        Give them when ``records`` are a window: the affected limbs are the patient's, so a
        day with only the other leg's spasms scores 0, not that leg's count.

    Returns
    -------
    list of Record
        ``clinical_score`` records, tagged ``patient`` and ``period`` (``hour`` | ``day``),
        in time order; none for an hour or day without observed time.

    Examples
    --------
    >>> from monitor.types import NS_PER_S
    >>> t = 1_764_000_000 * NS_PER_S - 1_764_000_000 * NS_PER_S % (3600 * NS_PER_S)
    >>> worn = Record("observation", t, {"duration_s": 3600.0}, {"patient": "p1"})
    >>> rs = [Record("spasm_event", t + i * 300 * NS_PER_S, {"duration_s": 2.0}, {"patient": "p1"})
    ...       for i in range(12)]  # 12 spasms in one observed hour
    >>> [(r.tags["period"], r.fields["penn_frequency"], "snow_frequency" in r.fields)
    ...  for r in clinical_scores(rs + [worn])]
    [('day', 4, False), ('hour', 4, False)]
    >>> clinical_scores(rs)  # spasms without observed time: nothing is scored
    []
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    window = night or NightWindow()
    records = list(records)
    observed = observed_seconds_by_hour(records, zone)
    if references is None:
        references = severity_references(records, zone, known_affected=known_affected)
    spasms: defaultdict[tuple[str, int], list[tuple[int, float, float | None]]] = defaultdict(list)
    for row in spasm_rows(records, known_affected=known_affected):
        hour = local_hour_start_ns(row.onset_ns, zone)
        spasms[(row.patient, hour)].append((row.onset_ns, row.duration_s, row.peak_x_baseline))

    out: list[Record] = []
    for patient, seconds in observed.items():
        tags = {"patient": patient} if patient else {}
        by_date: defaultdict[dt.date, list[int]] = defaultdict(list)
        for hour, observed_s in seconds.items():
            n = len(spasms[(patient, hour)])
            out.append(_score(hour, tags, "hour", _rate_fields(n, observed_s)))
            by_date[to_local(hour, zone).date()].append(hour)
        for date, day_hours in sorted(by_date.items()):
            events = [e for h in day_hours for e in spasms[(patient, h)]]
            observed_s = sum(seconds[h] for h in day_hours)
            night_n = sum(window.contains(to_local(onset, zone).time()) for onset, _, _ in events)
            fields = _rate_fields(len(events), observed_s)
            fields["day_spasms"] = len(events) - night_n
            fields["night_spasms"] = night_n
            if snow_scorable(observed_s, min_wear_h):
                fields["snow_frequency"] = snow_frequency(len(events))
            severity = penn_daily_severity(_grades(events, references.get(patient)))
            if severity is not None:
                fields["penn_severity"] = severity
            out.append(_score(local_midnight_ns(date, zone), tags, "day", fields))
    return sorted(out, key=lambda r: (r.time_ns, r.tags.get("patient", ""), r.tags["period"]))


def _grades(events: list[tuple[int, float, float | None]], reference: SeverityReference | None) -> list[int]:
    """Per-spasm severity: against the patient's reference when it has one, else the fixed rule."""
    if reference is None or reference.spasms < MIN_REFERENCE_SPASMS:
        return [penn_severity(d, p) for _, d, p in events]
    return [g for _, _, p in events if (g := reference.grade(p)) is not None]


def _rate_fields(spasms: int, observed_s: float) -> dict[str, FieldValue]:
    """Count and observed time; the rate per observed hour and its Penn score only when the
    observed time is enough to state them (:func:`~monitor.clinical.enough.rate_stated`)."""
    fields: dict[str, FieldValue] = {"spasms": spasms, "observed_s": observed_s}
    if rate_stated(observed_s):
        rate_per_h = spasms * 3600.0 / observed_s
        fields["spasms_per_h"] = rate_per_h
        fields["penn_frequency"] = penn_frequency_for_rate(rate_per_h)
    return fields


def _score(time_ns: int, tags: dict[str, str], period: str, fields: dict[str, FieldValue]) -> Record:
    return Record(CLINICAL_SCORE, time_ns, fields, {**tags, "period": period})


def score_spool(
    spool: Spool,
    start_ns: int,
    end_ns: int,
    tz: ZoneInfo | str = "UTC",
    min_wear_h: float = DEFAULT_MIN_WEAR_H,
    episodes_before_ns: int | None = None,
    configured_affected: KnownAffected | None = None,
) -> list[Record]:
    """All clinical scores of a time range of the spool: hourly, daily and per injection.

    The range is widened to whole local days, so that no hour or day is scored on part of
    its data. The records are returned, not written: the caller appends them (InfluxDB
    overwrites a re-scored point, as it has the same tags and time). Beside the scores, the
    range's ``spasm_episode`` records that the spool does not hold as they are (new, or
    changed: a treatment entry made a limb affected); a point stored unchanged is not
    written again.

    Parameters
    ----------
    spool : Spool
    start_ns, end_ns : int
        UTC range to score, ns.
    tz : ZoneInfo or str
        The patients' timezone (IANA name).
    min_wear_h : float
        Observed hours a day needs for Snow's 24-hour score.
    episodes_before_ns : int, optional
        Only episodes starting before this UTC time, ns: a live run writes its own as they
        close (:mod:`monitor.clinical.closing`), so its scoring leaves them alone. None: all.
    configured_affected : mapping of str to iterable of str, optional
        Affected sides the caller's config names (``affected = true`` wearables,
        :func:`~monitor.clinical.affected.configured_affected`). With the spool's whole
        treatment log and ``affected=true`` events, they say which limbs every score of
        the range counts (:mod:`monitor.clinical.affected`), learned once here.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    first_ns = local_midnight_ns(to_local(start_ns, zone).date(), zone)
    last_day = to_local(end_ns - 1, zone).date() + dt.timedelta(days=1)
    stop_ns = local_midnight_ns(last_day, zone)  # the range's end, widened to a local midnight
    # The high-rate series are left out: every minute with them has a kept ``coverage`` point.
    records = spool.query(first_ns, stop_ns, kept_only=True)
    # The affected limbs are the patient's, whenever the history says so: not the range's.
    affected = stored_affected(spool, configured_affected)
    # Severity grades against each patient's reference period, which lies before the range.
    references = _spool_references(spool, stop_ns, zone, affected)
    scores = clinical_scores(
        records, zone, min_wear_h=min_wear_h, references=references, known_affected=affected
    )
    scores += _new_episodes(records, episodes_before_ns, affected)  # what the dashboards count
    if not any(r.measurement == TREATMENT and r.tags.get("kind") == "botox" for r in records):
        return _ordered(scores)  # no injection to compare around (the live run's hourly case)

    def around(days_after: int) -> list[Record]:
        """The range widened by the days before an injection and ``days_after`` after it."""
        return spool.query(
            first_ns - PRE_DAYS * NS_PER_DAY, stop_ns + days_after * NS_PER_DAY, kept_only=True
        )

    # Injections in the range need their 14 days before and 6 weeks after; each cycle, its
    # baseline and up to its day 90 or the next injection (treatment_response).
    injections = [
        s for s in pre_post_records(around(POST_END_DAY), zone, affected) if first_ns <= s.time_ns < stop_ns
    ]
    responses = [
        r
        for r in treatment_responses(around(CYCLE_READ_DAYS), zone, known_affected=affected)
        if first_ns <= r.time_ns < stop_ns
    ]
    return _ordered(scores + injections) + responses  # the clinical scores first, then the cycles


def _new_episodes(records: list[Record], before_ns: int | None, affected: KnownAffected) -> list[Record]:
    """The episodes of ``records`` (starting before ``before_ns``) not stored among them as they are."""
    stored = {_point(r) for r in records if r.measurement == SPASM_EPISODE}
    found = episode_records(records, known_affected=affected)
    return [r for r in found if (before_ns is None or r.time_ns < before_ns) and _point(r) not in stored]


def _point(record: Record) -> tuple[object, ...]:
    return (record.time_ns, tuple(sorted(record.tags.items())), tuple(sorted(record.fields.items())))


def _spool_references(
    spool: Spool, end_ns: int, zone: ZoneInfo, affected: KnownAffected
) -> dict[str, SeverityReference]:
    """Severity references read from the spool: the reference periods lie before the range scored."""
    treatments = spool.query(0, end_ns, measurement=TREATMENT)
    first = (
        spool.query(0, end_ns, measurement=OBSERVATION)[:1] + spool.query(0, end_ns, measurement=COVERAGE)[:1]
    )
    anchors = [r.time_ns for r in treatments + first]
    if not anchors:
        return {}
    # Wide enough for every patient's 14 reference days (before an injection, or from the first data).
    start_ns = min(anchors) - (PRE_DAYS + 1) * NS_PER_DAY
    stop_ns = min(max(anchors) + (PRE_DAYS + 1) * NS_PER_DAY, end_ns)
    records = spool.query(start_ns, stop_ns, kept_only=True)
    return severity_references(records + treatments, zone, known_affected=affected)


def _ordered(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.time_ns, r.tags.get("patient", ""), r.tags.get("period", "")))


__all__ = ["NS_PER_DAY", "NS_PER_HOUR", "clinical_scores", "score_spool"]
