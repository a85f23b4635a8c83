"""Compute what the report shows from one patient's records (:func:`gather`).

Every count and score is computed here with :mod:`monitor.clinical`'s own functions from the
spasm events and the observed time read (``observation``, ``coverage``), the same functions
that write the stored ``clinical_score`` records, so the report and the stored scores (and
the dashboards and terminal summaries that read them) give the same numbers.
:mod:`monitor.report.source` reads the records.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from monitor.clinical import (
    DEFAULT_MIN_WEAR_H,
    NightWindow,
    WeeklyRom,
    clinical_scores,
    not_scored_text,
    observed_intervals,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_severity,
    pre_post_by_injection,
    rate_stated,
    spasm_rows,
    too_little_text,
    weekly_rom,
)
from monitor.clinical.affected import KnownAffected, affected_limbs, union_affected
from monitor.clinical.events import local_midnight_ns, spasm_kind, to_local
from monitor.report.cycles import gather_cycles
from monitor.report.html_tardieu import gather_tardieu
from monitor.report.model import (
    AlertRow,
    Coverage,
    DayScores,
    Injection,
    KindSummary,
    ReportData,
    RomDay,
    Treatment,
)
from monitor.store.schema import (
    ALERT,
    COVERAGE,
    GAP,
    OBSERVATION,
    ROM,
    SIGNAL_QUALITY,
    SPASM_EVENT,
    TREATMENT,
    spasm_event_from_record,
)
from monitor.types import MOVEMENT_KIND, NS_PER_S, Record, SpasmEvent

# What monitor.clinical.observed reads for observed time.
OBSERVED_TIME = (OBSERVATION, COVERAGE)
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
    min_wear_h: float = DEFAULT_MIN_WEAR_H,
    affected: KnownAffected | None = None,
) -> ReportData:
    """Compute the report of one patient's records (all of one patient, in time order).

    Parameters are those of :func:`build_report`; ``records`` may extend beyond the period
    (the 14 days before and 6 weeks after an injection are used for its comparison), and are
    the patient's whole history: the affected limbs are learned from all of them.
    """
    start_ns, end_ns = _period(records, zone, start_date, end_date)
    period = [r for r in records if start_ns <= r.time_ns < end_ns]
    observed_records = [r for r in period if r.measurement in OBSERVED_TIME]
    night = night or NightWindow()
    # The affected limbs are the patient's, from the whole history (the treatment log, every
    # affected=true event) and the config: the period's scores count those, as the stored ones.
    known = union_affected(affected_limbs(records), affected or {})
    spasm_events = [r for r in period if r.measurement == SPASM_EVENT]
    scores = clinical_scores(observed_records + spasm_events, zone, night, min_wear_h, known_affected=known)
    days = tuple(_day_scores(r, zone) for r in scores if r.tags["period"] == "day")
    observed_hours = sum(r.tags["period"] == "hour" for r in scores)
    rows = spasm_rows(spasm_events, known_affected=known)  # episodes of the affected limbs
    recent = spasm_events[-max_events:] if max_events > 0 else []  # the events table, as reported
    is_simulated, reason = _simulated(records, simulated)
    cover = _coverage(period, observed_records, zone, start_ns, end_ns, observed_hours, len(days))
    # The rate of the clinical scores: spasms in observed time over observed time, to the second.
    observed_h = sum(d.observed_s for d in days) / 3600.0
    observed_spasms = sum(d.spasms for d in days)
    scored = [d.snow_frequency for d in days if d.snow_frequency is not None]
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
        spasms_per_h=observed_spasms / observed_h if rate_stated(3600.0 * observed_h) else None,
        penn_frequency=(
            penn_frequency_for_rate(observed_spasms / observed_h)
            if rate_stated(3600.0 * observed_h)
            else None
        ),
        penn_severity=penn_daily_severity([penn_severity(r.duration_s, r.peak_x_baseline) for r in rows]),
        snow_median=sorted(scored)[len(scored) // 2] if scored else None,
        snow_days=len(scored),
        min_wear_h=min_wear_h,
        night=night,
        day_spasms=sum(d.day_spasms for d in days),
        night_spasms=sum(d.night_spasms for d in days),
        days=days,
        treatments=tuple(_treatment(r) for r in period if r.measurement == TREATMENT),
        injections=_injections(records, start_ns, end_ns, zone, known),
        kinds=_kind_summaries(rows),
        durations_s=tuple(r.duration_s for r in rows),
        rom=_rom_days(period, zone),
        rom_weeks=_rom_weeks(period),
        events=tuple(spasm_event_from_record(r) for r in reversed(recent)),
        events_total=len(spasm_events),
        alerts=tuple(_alert_row(r) for r in period if r.measurement == ALERT),
        cycles=gather_cycles(records, start_ns, end_ns, zone, known),
        tardieu=gather_tardieu(period, start_ns, end_ns, zone),
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


def _coverage(
    period: list[Record],
    observed_records: list[Record],
    zone: ZoneInfo,
    start_ns: int,
    end_ns: int,
    observed_hours: int,
    days: int,
) -> Coverage:
    period_h = (end_ns - start_ns) / NS_PER_H
    intervals = [iv for ivs in observed_intervals(observed_records, zone).values() for iv in ivs]
    covered_ns = sum(
        min(hi, end_ns) - max(lo, start_ns) for lo, hi in intervals if hi > start_ns and lo < end_ns
    )
    gaps = [r for r in period if r.measurement == GAP]
    return Coverage(
        period_h=period_h,
        observed_hours=observed_hours,
        days_with_data=days,
        monitored_h=covered_ns / NS_PER_H,
        gap_s=sum(float(r.fields.get("duration_s", 0.0)) for r in gaps),
        gap_count=len(gaps),
        signal_loss_s=sum(
            float(r.fields.get("duration_s", 0.0)) for r in period if r.measurement == SIGNAL_QUALITY
        ),
        completeness_pct=100.0 * covered_ns / NS_PER_H / period_h if period_h > 0 else 0.0,
        basis=(
            "observed time (the time a wearable was streaming, to the second, else the wearables'"
            " per-minute coverage) over the length of the period"
        ),
    )


def _day_scores(r: Record, zone: ZoneInfo) -> DayScores:
    f = r.fields
    severity, snow = f.get("penn_severity"), f.get("snow_frequency")
    rate, penn = f.get("spasms_per_h"), f.get("penn_frequency")  # absent below the rule
    observed_s = float(f["observed_s"])
    return DayScores(
        date=to_local(r.time_ns, zone).date(),
        spasms=int(f["spasms"]),
        observed_s=observed_s,
        spasms_per_h=None if rate is None else float(rate),
        day_spasms=int(f["day_spasms"]),
        night_spasms=int(f["night_spasms"]),
        penn_frequency=None if penn is None else int(penn),
        penn_severity=None if severity is None else int(severity),
        snow_frequency=None if snow is None else int(snow),
        snow_note="" if snow is not None else not_scored_text(observed_s),
        rate_note="" if rate is not None else too_little_text(observed_s),
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
    records: Sequence[Record], start_ns: int, end_ns: int, zone: ZoneInfo, known_affected: KnownAffected
) -> tuple[Injection, ...]:
    """Pre/post comparisons of the period's injections, on all of the patient's data around them
    (:func:`monitor.clinical.pre_post_by_injection`, the one computation the stored scores use)."""
    labels = {
        to_local(r.time_ns, zone).date(): _treatment(r).label
        for r in records
        if r.measurement == TREATMENT and r.tags.get("kind") == "botox" and start_ns <= r.time_ns < end_ns
    }
    out = []
    for _, result in pre_post_by_injection(records, zone, known_affected):
        date = to_local(result.injection_ns, zone).date()
        if date in labels:
            out.append(Injection(date, labels[date], result))
    return tuple(out)


def _kind_summaries(rows: Sequence[SpasmEvent]) -> tuple[KindSummary, ...]:
    by_kind: defaultdict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_kind[spasm_kind(row)].append(row.duration_s)
    return tuple(
        KindSummary(kind, len(d), sum(d) / len(d), max(d))
        for kind, d in sorted(by_kind.items(), key=_kind_order)
    )


def _kind_order(item: tuple[str, list[float]]) -> tuple[int, str]:
    order = ("tonic", "clonus", "myoclonus", "mixed", MOVEMENT_KIND)  # spasm_kind's names
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _rom_days(period: list[Record], zone: ZoneInfo) -> tuple[RomDay, ...]:
    best: dict[tuple[str, str, dt.date], float] = {}
    reps: Counter[tuple[str, str, dt.date]] = Counter()
    for r in period:
        if r.measurement != ROM or r.tags.get("period") not in ROM_PERIODS:
            continue
        key = (r.tags.get("joint", ""), r.tags.get("side", ""), to_local(r.time_ns, zone).date())
        range_deg = float(r.fields.get("range_deg", 0.0))
        best[key] = max(best.get(key, range_deg), range_deg)
        if r.tags["period"] == "set":  # each repetition belongs to exactly one set
            reps[key] += int(r.fields.get("reps", 0))
    return tuple(
        RomDay(joint, date, best[key], reps[key], side) for key in sorted(best) for joint, side, date in [key]
    )


def _rom_weeks(period: list[Record]) -> tuple[WeeklyRom, ...]:
    """Weekly best range from the first PT session, as the dashboards' PT-weeks panel."""
    pt = [r.time_ns for r in period if r.measurement == TREATMENT and r.tags.get("kind") == "pt"]
    return tuple(weekly_rom(period, min(pt))) if pt else ()


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
                return True, f"the recorded data is tagged {tag}={r.tags[tag]}"
    return False, ""
