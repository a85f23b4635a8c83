"""Compute what the report shows from one patient's records (:func:`gather`).

Every count and score is computed here with :mod:`monitor.clinical` from the spasm events
read, not copied from stored ``clinical_score`` records, so the numbers of one report always
agree with each other. :mod:`monitor.report.source` reads the records.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from monitor.clinical import (
    CLINICAL_SCORE,
    NightWindow,
    SpasmRow,
    WeeklyRom,
    clinical_scores,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_severity,
    pre_post,
    spasm_rows,
    weekly_rom,
)
from monitor.clinical.events import local_midnight_ns, to_local
from monitor.report.model import (
    AlertRow,
    Coverage,
    DayScores,
    EventRow,
    Injection,
    KindSummary,
    ReportData,
    RomDay,
    Treatment,
)
from monitor.types import NS_PER_S, Record

SPASM_EVENT = "spasm_event"
OBSERVATION = "observation"  # a spasm-monitoring window (``duration_s``, ``offset_ns``), from the demo
# Not device data: they say nothing about whether the sensor was worn.
NOT_COVERAGE = ("treatment", "alert", CLINICAL_SCORE)
# Tags that mark simulated data: the demo history's ``source=simulated``, the short demo's device.
SIMULATED_TAG_VALUES = {"source": ("simulated", "demo"), "device": ("simulated",), "simulated": ("true", "1")}
ROM_PERIODS = ("set", "window")  # as monitor.clinical.weekly_rom: day ranges join unrelated movements
DEFAULT_MAX_EVENTS = 50
NS_PER_H = 3600 * NS_PER_S


def gather(
    records: Sequence[Record],
    *,
    patient: str,
    zone: ZoneInfo,
    simulated: bool = False,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    night: NightWindow | None = None,
) -> ReportData:
    """Compute the report of one patient's records (all of one patient, in time order).

    Parameters are those of :func:`build_report`; ``records`` may extend beyond the period
    (the 14 days before and 6 weeks after an injection are used for its comparison).
    """
    start_ns, end_ns = _period(records, zone, start_date, end_date)
    period = [r for r in records if start_ns <= r.time_ns < end_ns]
    coverage_all = _coverage_markers(records)
    coverage = [r for r in coverage_all if start_ns <= r.time_ns < end_ns]
    night = night or NightWindow()
    scores = clinical_scores(coverage + [r for r in period if r.measurement == SPASM_EVENT], zone, night)
    days = tuple(_day_scores(r, zone) for r in scores if r.tags["period"] == "day")
    observed_hours = sum(r.tags["period"] == "hour" for r in scores)
    rows = spasm_rows(r for r in period if r.measurement == SPASM_EVENT)
    events = [r for r in period if r.measurement == SPASM_EVENT]
    is_simulated, reason = _simulated(records, simulated)
    cover = _coverage(period, start_ns, end_ns, observed_hours, len(days))
    # As monitor.clinical: with observation intervals, the rate is per monitored time, to the
    # second (2 spasms in 10 monitored minutes is 12/h); without, per observed hour.
    observed_h = cover.monitored_h if cover.monitored_h is not None else float(observed_hours)
    return ReportData(
        patient=patient,
        timezone=zone.key,
        start_ns=start_ns,
        end_ns=end_ns,
        generated_ns=time.time_ns(),
        simulated=is_simulated,
        simulated_reason=reason,
        coverage=cover,
        spasms=len(rows),
        spasms_per_day=len(rows) / len(days) if days else None,
        spasms_per_h=len(rows) / observed_h if observed_h > 0 else None,
        penn_frequency=penn_frequency_for_rate(len(rows) / observed_h) if observed_h > 0 else None,
        penn_severity=penn_daily_severity([penn_severity(r.duration_s, r.peak_x_baseline) for r in rows]),
        snow_median=sorted(d.snow_frequency for d in days)[len(days) // 2] if days else None,
        night=night,
        day_spasms=sum(d.day_spasms for d in days),
        night_spasms=sum(d.night_spasms for d in days),
        days=days,
        treatments=tuple(_treatment(r) for r in period if r.measurement == "treatment"),
        injections=_injections(records, coverage_all, period, zone),
        kinds=_kind_summaries(rows),
        durations_s=tuple(r.duration_s for r in rows),
        rom=_rom_days(period, zone),
        rom_weeks=_rom_weeks(period),
        events=tuple(_event_row(r) for r in reversed(events[-max_events:])) if max_events > 0 else (),
        events_total=len(events),
        alerts=tuple(_alert_row(r) for r in period if r.measurement == "alert"),
    )


def _period(
    records: Sequence[Record], zone: ZoneInfo, start_date: dt.date | None, end_date: dt.date | None
) -> tuple[int, int]:
    """Local midnight of the first date to local midnight after the last one, UTC ns.

    Without records and without both dates the period is empty (start = end)."""
    if not records and (start_date is None or end_date is None):
        day = start_date or end_date or to_local(time.time_ns(), zone).date()
        return local_midnight_ns(day, zone), local_midnight_ns(day, zone)
    first = start_date or to_local(records[0].time_ns, zone).date()
    last = end_date or to_local(records[-1].time_ns, zone).date()
    if last < first:  # --from after the last record: an empty period, not a negative one
        return local_midnight_ns(first, zone), local_midnight_ns(first, zone)
    return local_midnight_ns(first, zone), local_midnight_ns(last + dt.timedelta(days=1), zone)


def _coverage_markers(records: Iterable[Record]) -> list[Record]:
    """The records that say when the patient was observed, as :mod:`monitor.clinical` reads them:
    device records and ``observation`` intervals, plus a marker per stored hourly score (the
    hours the pipeline scored from the high-rate series this module does not read)."""
    out: list[Record] = []
    for r in records:
        if r.measurement == CLINICAL_SCORE and r.tags.get("period") == "hour":
            out.append(Record("coverage", r.time_ns, {}, {"patient": r.tags.get("patient", "")}))
        elif r.measurement not in NOT_COVERAGE and r.measurement != SPASM_EVENT:
            out.append(r)
    return out


def _coverage(period: list[Record], start_ns: int, end_ns: int, observed_hours: int, days: int) -> Coverage:
    period_h = (end_ns - start_ns) / NS_PER_H
    windows = sorted(
        (max(r.time_ns, start_ns), min(int(r.fields.get("offset_ns", r.time_ns)), end_ns))
        for r in period
        if r.measurement == OBSERVATION
    )
    monitored_h: float | None = None
    if windows:
        covered_ns, reach_ns = 0, start_ns
        for lo, hi in windows:  # union of intervals: overlapping windows count once
            lo = max(lo, reach_ns)
            if hi > lo:
                covered_ns += hi - lo
                reach_ns = hi
        monitored_h = covered_ns / NS_PER_H
    gaps = [r for r in period if r.measurement == "gap"]
    basis_h = monitored_h if monitored_h is not None else float(observed_hours)
    basis = (
        "monitored time (the observation intervals recorded in the spool) over the length of the period"
        if monitored_h is not None
        else "local clock hours holding any record of the patient over the hours of the period"
    )
    return Coverage(
        period_h=period_h,
        observed_hours=observed_hours,
        days_with_data=days,
        monitored_h=monitored_h,
        gap_s=sum(float(r.fields.get("duration_s", 0.0)) for r in gaps),
        gap_count=len(gaps),
        signal_loss_s=sum(
            float(r.fields.get("duration_s", 0.0)) for r in period if r.measurement == "signal_quality"
        ),
        completeness_pct=100.0 * basis_h / period_h if period_h > 0 else 0.0,
        basis=basis,
    )


def _day_scores(r: Record, zone: ZoneInfo) -> DayScores:
    f = r.fields
    penn, severity = f.get("penn_frequency"), f.get("penn_severity")
    return DayScores(
        date=to_local(r.time_ns, zone).date(),
        spasms=int(f["spasms"]),
        observed_hours=int(f["observed_hours"]),
        day_spasms=int(f["day_spasms"]),
        night_spasms=int(f["night_spasms"]),
        penn_frequency=None if penn is None else int(penn),
        penn_severity=None if severity is None else int(severity),
        snow_frequency=int(f["snow_frequency"]),
    )


def _treatment(r: Record) -> Treatment:
    f, kind = r.fields, r.tags.get("kind", "")
    if kind == "botox":
        side = r.tags.get("side", "")
        muscles = ", ".join(str(f.get("muscles", "")).split(","))
        label = f"{float(f.get('dose_u', 0.0)):g} U {f.get('product', '')} {side}: {muscles}"
    elif kind == "pt":
        label = str(f.get("pt_kind", "")) + (f": {f['exercises']}" if f.get("exercises") else "")
    else:
        label = ", ".join(f"{k} {v}" for k, v in f.items())
    return Treatment(r.time_ns, kind, label)


def _injections(
    records: Sequence[Record], coverage_all: list[Record], period: list[Record], zone: ZoneInfo
) -> tuple[Injection, ...]:
    """Pre/post comparisons of the period's injections, on all of the patient's data around them."""
    onsets = [row.onset_ns for row in spasm_rows(r for r in records if r.measurement == SPASM_EVENT)]
    observed = {to_local(r.time_ns, zone).date() for r in coverage_all}
    observed |= {to_local(t, zone).date() for t in onsets}
    out = []
    for r in period:
        if r.measurement == "treatment" and r.tags.get("kind") == "botox":
            date = to_local(r.time_ns, zone).date()
            out.append(Injection(date, _treatment(r).label, pre_post(onsets, date, zone, observed)))
    return tuple(out)


def _kind_summaries(rows: Sequence[SpasmRow]) -> tuple[KindSummary, ...]:
    by_kind: defaultdict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row.duration_s)
    return tuple(
        KindSummary(kind, len(d), sum(d) / len(d), max(d))
        for kind, d in sorted(by_kind.items(), key=_kind_order)
    )


def _kind_order(item: tuple[str, list[float]]) -> tuple[int, str]:
    order = ("tonic", "clonus", "myoclonic", "mixed")
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _rom_days(period: list[Record], zone: ZoneInfo) -> tuple[RomDay, ...]:
    best: dict[tuple[str, dt.date], float] = {}
    reps: Counter[tuple[str, dt.date]] = Counter()
    for r in period:
        if r.measurement != "rom" or r.tags.get("period") not in ROM_PERIODS:
            continue
        key = (r.tags.get("joint", ""), to_local(r.time_ns, zone).date())
        range_deg = float(r.fields.get("range_deg", 0.0))
        best[key] = max(best.get(key, range_deg), range_deg)
        if r.tags["period"] == "set":  # each repetition belongs to exactly one set
            reps[key] += int(r.fields.get("reps", 0))
    return tuple(
        RomDay(joint, date, best[(joint, date)], reps[(joint, date)]) for joint, date in sorted(best)
    )


def _rom_weeks(period: list[Record]) -> tuple[WeeklyRom, ...]:
    """Weekly best range from the first PT session, as the dashboards' PT-weeks panel."""
    pt = [r.time_ns for r in period if r.measurement == "treatment" and r.tags.get("kind") == "pt"]
    return tuple(weekly_rom(period, min(pt))) if pt else ()


def _event_row(r: Record) -> EventRow:
    f = r.fields
    peak, clonus = f.get("peak_x_baseline"), f.get("clonus_hz")
    return EventRow(
        onset_ns=r.time_ns,
        kind=r.tags.get("kind", ""),
        duration_s=float(f.get("duration_s", 0.0)),
        peak_x_baseline=None if peak is None else float(peak),
        clonus_hz=None if clonus is None else float(clonus),
        channel=r.tags.get("channel", "IMU" if peak is None else ""),
        location=r.tags.get("location", ""),
    )


def _alert_row(r: Record) -> AlertRow:
    return AlertRow(
        r.time_ns,
        r.tags.get("rule", ""),
        str(r.fields.get("message", "")),
        bool(r.fields.get("delivered", False)),
    )


def _simulated(records: Iterable[Record], asked: bool) -> tuple[bool, str]:
    if asked:
        return True, "labelled simulated when the report was built"
    for r in records:
        for tag, values in SIMULATED_TAG_VALUES.items():
            if r.tags.get(tag) in values:
                return True, f"the spool's records are tagged {tag}={r.tags[tag]}"
    return False, ""
