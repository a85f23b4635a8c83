"""Clinical scores on constructed spasm lists with known answers, and end to end from EMG."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.clinical import (
    NightWindow,
    clinical_scores,
    day_night_counts,
    penn_daily_frequency,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_hourly_frequency,
    penn_severity,
    pre_post,
    snow_frequency,
    weekly_rom,
)
from monitor.clinical.events import local_midnight_ns
from monitor.dsp import detect_spasms
from monitor.store.schema import spasm_event_record
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S, FieldValue, Record

H_NS = 3600 * NS_PER_S
BERLIN = ZoneInfo("Europe/Berlin")


def spasm(t_ns: int, duration_s: float = 2.0, peak: float = 3.0, patient: str = "p01") -> Record:
    return Record(
        "spasm_event",
        t_ns,
        {"duration_s": duration_s, "peak_x_baseline": peak},
        {"patient": patient, "kind": "tonic"},
    )


def heartbeat(t_ns: int, patient: str = "p01") -> Record:
    """A status record: it says nothing about whether a spasm would have been seen."""
    return Record("device_status", t_ns, {"battery_pct": 80}, {"patient": patient, "device": "cf12"})


def worn(t_ns: int, duration_s: float = 3600.0, patient: str = "p01") -> Record:
    """An observation interval, as the pipeline writes while a wearable streams."""
    fields: dict[str, FieldValue] = {
        "duration_s": duration_s,
        "offset_ns": t_ns + round(duration_s * NS_PER_S),
    }
    return Record("observation", t_ns, fields, {"patient": patient})


def local(day: dt.date, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> int:
    return local_midnight_ns(day, tz) + hour * H_NS + minute * 60 * NS_PER_S


@pytest.mark.parametrize(
    ("spasms", "score"), [(0, 0), (1, 3), (10, 3), (11, 4)]
)  # fmt: skip
def test_penn_hourly_score_follows_the_published_thresholds(spasms: int, score: int) -> None:
    assert penn_hourly_frequency(spasms) == score


def test_penn_never_reports_stimulation_only_and_infrequent_is_below_one_per_hour() -> None:
    assert {penn_frequency_for_rate(r / 10) for r in range(0, 300)} == {0, 2, 3, 4}
    assert penn_frequency_for_rate(0.99) == 2
    assert penn_frequency_for_rate(1.0) == 3


def test_penn_daily_uses_the_mean_rate_so_a_few_spasms_a_day_read_infrequent() -> None:
    assert penn_daily_frequency(5, 24) == 2  # the median of hourly scores would say 0
    assert penn_daily_frequency(24, 24) == 3
    assert penn_daily_frequency(241, 24) == 4
    assert penn_daily_frequency(6, 4) == 3  # 6 spasms in the 4 hours the sensor was worn
    assert penn_daily_frequency(0, 0) is None  # not worn: unknown, not spasm-free


def test_penn_severity_rule_grades_duration_and_intensity() -> None:
    assert penn_severity(1.0, 2.0) == 1
    assert penn_severity(3.0, 2.0) == 2
    assert penn_severity(1.0, 5.0) == 2
    assert penn_severity(10.0, 2.0) == 3
    assert penn_severity(0.5, 10.0) == 3
    assert penn_severity(20.0, None) == 3  # IMU-only: duration alone
    assert penn_daily_severity([1, 1, 1, 3]) == 1
    assert penn_daily_severity([]) is None


@pytest.mark.parametrize(
    ("count", "score"), [(0, 1), (1, 2), (2, 3), (4, 3), (5, 4), (9, 4), (10, 5), (100, 5)]
)  # fmt: skip
def test_snow_score_follows_snow_1990(count: int, score: int) -> None:
    assert snow_frequency(count) == score


def test_day_night_split_uses_local_time_and_crosses_midnight() -> None:
    day = dt.date(2026, 6, 10)
    onsets = [local(day, 6, 59), local(day, 7, 0), local(day, 21, 59), local(day, 22, 0), local(day, 23, 30)]
    (only,) = day_night_counts(onsets, BERLIN)
    assert (only.date, only.day, only.night) == (day, 2, 3)
    # 06:59 Berlin in summer is 04:59 UTC: in UTC it would still be night, at 07:00 too.
    assert day_night_counts(onsets, BERLIN, NightWindow(dt.time(1), dt.time(6)))[0].night == 0


def test_pre_post_compares_rates_per_observed_hour_14_days_before_with_days_7_to_41_after() -> None:
    injection = dt.date(2026, 3, 2)
    tz = ZoneInfo("America/New_York")  # DST starts 2026-03-08, inside the post window

    def at(days: int, n: int) -> list[int]:
        return [local_midnight_ns(injection + dt.timedelta(days=days), tz) + 12 * H_NS] * n

    onsets = [t for d in range(-14, 0) for t in at(d, 6 if d % 2 else 4)]  # 70 spasms
    onsets += at(-15, 100) + at(3, 100) + at(42, 100)  # outside both windows: ignored
    onsets += [t for d in range(7, 42) for t in at(d, 2)]  # 70 spasms
    # 10 h a day worn before, 5 h a day after: per day the counts would say 5 -> 2 (-60 %),
    # per observed hour 0.5 -> 0.4 (-20 %).
    observed = {injection + dt.timedelta(days=d): (10 if d < 0 else 5) * 3600.0 for d in range(-20, 50)}
    result = pre_post(onsets, injection, tz, observed)
    assert (result.pre_days, result.post_days) == (14, 35)
    assert (result.pre_observed_h, result.post_observed_h) == (140.0, 175.0)
    assert (result.pre_spasms, result.post_spasms) == (70, 70)
    assert (result.pre_per_h, result.post_per_h) == (0.5, 0.4)
    assert result.change_per_h == pytest.approx(-0.1)
    assert result.change_pct == pytest.approx(-20.0)
    # Cohen's d of the days' rates weighted by their hours: pre 0.4/0.6 alternating (squared
    # deviations 14 x 0.01, 10 h each: 1.4 over 140 - 10 = 130 h), post all 0.4 (5 h each: 175 - 5).
    assert result.cohens_d == pytest.approx(-0.1 / math.sqrt(1.4 / (130 + 170)), rel=1e-9)


def test_pre_post_leaves_out_days_without_data() -> None:
    injection = dt.date(2026, 3, 2)
    utc = ZoneInfo("UTC")
    observed = {injection - dt.timedelta(days=1): 3600.0, injection + dt.timedelta(days=10): 7200.0}
    result = pre_post(
        [local_midnight_ns(injection - dt.timedelta(days=1), utc)] * 3
        + [local_midnight_ns(injection - dt.timedelta(days=2), utc)] * 9,  # a day without observed time
        injection,
        utc,
        observed,
    )
    assert (result.pre_days, result.post_days, result.pre_per_h, result.post_per_h) == (1, 1, 3.0, 0.0)
    assert math.isnan(result.cohens_d)


def test_weekly_rom_is_the_best_range_per_joint_and_week() -> None:
    start = local_midnight_ns(dt.date(2026, 1, 5), ZoneInfo("UTC"))
    day = 24 * H_NS

    def rom(t: int, joint: str, range_deg: float, period: str = "set") -> Record:
        return Record("rom", t, {"range_deg": range_deg}, {"joint": joint, "period": period})

    records = [
        rom(start + day, "knee", 60.0), rom(start + 2 * day, "knee", 65.0),
        rom(start + 3 * day, "knee", 120.0, period="day"),  # a day's range mixes movements: ignored
        rom(start + 8 * day, "knee", 72.0), rom(start + 9 * day, "elbow", 90.0),
        rom(start - day, "knee", 10.0),  # before the PT block
    ]  # fmt: skip
    weeks = [(w.joint, w.week, w.max_range_deg, w.windows) for w in weekly_rom(records, start)]
    assert weeks == [("elbow", 1, 90.0, 1), ("knee", 0, 65.0, 2), ("knee", 1, 72.0, 1)]


def test_clinical_score_records_for_a_constructed_day() -> None:
    day = dt.date(2026, 6, 10)
    records = [worn(local(day, 0), 24 * 3600.0)]  # worn all day
    records += [spasm(local(day, 3, m)) for m in range(12)]  # 12 at 03:xx: a night hour scoring 4
    records += [spasm(local(day, 14, 0), duration_s=12.0), spasm(local(day, 15, 0))]
    records += [worn(local(day, 5, 0), 1200.0, patient="p02")]  # another patient, 20 min, no spasms
    scores = clinical_scores(records, "Europe/Berlin")
    assert all(float(r.fields["observed_s"]) > 0 for r in scores)
    hours = {r.time_ns: r.fields for r in scores if r.tags == {"patient": "p01", "period": "hour"}}
    assert len(hours) == 24
    assert hours[local(day, 3)] == {
        "spasms": 12,
        "observed_s": 3600.0,
        "spasms_per_h": 12.0,
        "penn_frequency": 4,
    }
    assert hours[local(day, 14)] == {
        "spasms": 1,
        "observed_s": 3600.0,
        "spasms_per_h": 1.0,
        "penn_frequency": 3,
    }
    assert hours[local(day, 4)] == {
        "spasms": 0,
        "observed_s": 3600.0,
        "spasms_per_h": 0.0,
        "penn_frequency": 0,
    }
    (daily,) = [r for r in scores if r.tags == {"patient": "p01", "period": "day"}]
    assert daily.time_ns == local_midnight_ns(day, BERLIN)
    assert daily.fields == {
        "spasms": 14, "observed_s": 86_400.0, "spasms_per_h": 14 / 24, "penn_frequency": 2,
        "snow_frequency": 5, "day_spasms": 2, "night_spasms": 12, "penn_severity": 1,
    }  # fmt: skip
    (other,) = [r for r in scores if r.tags == {"patient": "p02", "period": "day"}]
    assert (other.fields["spasms"], other.fields["observed_s"]) == (0, 1200.0)
    assert "penn_frequency" not in other.fields  # 20 min: "no spasm" cannot rule out > 10/h
    assert "spasms_per_h" not in other.fields
    assert "snow_frequency" not in other.fields  # 20 min is no 24-hour count
    assert "penn_severity" not in other.fields


def test_unworn_hours_are_absent_not_scored_as_spasm_free() -> None:
    day = dt.date(2026, 6, 10)
    records = [worn(local(day, 9), 2 * 3600.0), spasm(local(day, 9, 5)), spasm(local(day, 10, 5))]
    records += [heartbeat(local(day, h)) for h in range(24)]  # status records: not observed time
    scores = clinical_scores(records, BERLIN)
    hours = [r.time_ns for r in scores if r.tags["period"] == "hour"]
    assert hours == [local(day, 9), local(day, 10)]  # the other 22 hours: no record, not 0
    daily = next(r for r in scores if r.tags["period"] == "day")
    assert (daily.fields["observed_s"], daily.fields["penn_frequency"]) == (7200.0, 3)  # 1/h, not 2/24 h


def test_nothing_is_scored_without_observed_time() -> None:
    day = dt.date(2026, 6, 10)
    # What a run writes when no wearable ever connects: status and bookkeeping, no observation.
    records = [heartbeat(local(day, h)) for h in range(24)]
    records += [Record("device_status", local(day, 9), {"connected": False}, {"patient": "p01"})]
    records += [spasm(local(day, 9, 5))]  # even a stray event without observed time
    assert clinical_scores(records, BERLIN) == []


@pytest.mark.parametrize(("worn_h", "snow"), [(3.0, None), (7.99, None), (8.0, 3), (24.0, 3)])
def test_snow_needs_min_wear_h_observed_hours(worn_h: float, snow: int | None) -> None:
    day = dt.date(2026, 6, 10)
    records = [worn(local(day, 0), worn_h * 3600.0), spasm(local(day, 1)), spasm(local(day, 2))]
    (daily,) = [r for r in clinical_scores(records, BERLIN) if r.tags["period"] == "day"]
    assert daily.fields.get("snow_frequency") == snow
    assert daily.fields["spasms_per_h"] == pytest.approx(2 / worn_h)
    (lenient,) = [r for r in clinical_scores(records, BERLIN, min_wear_h=2.0) if r.tags["period"] == "day"]
    assert lenient.fields["snow_frequency"] == 3


def test_coverage_minutes_are_the_observed_time_of_a_day_without_observation_records() -> None:
    day = dt.date(2026, 6, 10)
    coverage = [
        Record("coverage", local(day, 9, m), {"covered_s": 60.0}, {"patient": "p01", "sensor": s})
        for m in range(20)
        for s in ("emg", "acc")  # two streams of the same minutes count once
    ]
    (hour,) = [
        r for r in clinical_scores([*coverage, spasm(local(day, 9, 1))], BERLIN) if r.tags["period"] == "hour"
    ]
    assert (hour.fields["observed_s"], hour.fields["spasms"]) == (1200.0, 1)
    assert "spasms_per_h" not in hour.fields  # 20 min: too little for a rate


def test_scores_end_to_end_from_generated_emg() -> None:
    t0_ns = local(dt.date(2026, 6, 10), 9)
    rec = generate_emg(EmgScenario(duration_s=1200, seed=7, spasms_per_min=0.3), t0_ns=t0_ns)
    events = detect_spasms(rec.emg_mv, 1000.0, t0_ns=t0_ns)
    records = [spasm_event_record(e, {"patient": "p01"}) for e in events]
    records += [worn(t0_ns, 1200.0)]
    scores = clinical_scores(records, BERLIN)
    (hour,) = [r for r in scores if r.tags["period"] == "hour"]
    assert hour.fields["spasms"] == len(events)
    assert abs(len(events) - len(rec.spasms)) <= 1, (len(events), len(rec.spasms))
    assert 1 <= len(rec.spasms) <= 10
    # 20 observed minutes: the count, but no rate and no Penn score (monitor.clinical.enough)
    assert "spasms_per_h" not in hour.fields
    assert "penn_frequency" not in hour.fields
    (daily,) = [r for r in scores if r.tags["period"] == "day"]
    assert "snow_frequency" not in daily.fields  # 20 minutes worn


def test_pre_post_records_around_each_logged_injection() -> None:
    from monitor.clinical import pre_post_records
    from monitor.treatment import BotoxInjection

    injection = dt.date(2026, 3, 2)
    shot = BotoxInjection(injection, ("soleus",), "left", 200).to_record(BERLIN, "p01")

    def on(days: int, hour: int = 12) -> int:
        return local(injection + dt.timedelta(days=days), hour)

    records = [worn(on(d, 8), 4 * 3600.0) for d in range(-20, 50) if d not in (22, 23)]  # not on days 22-23
    records += [spasm(on(d, h)) for d in range(-14, 0) for h in (9, 12, 15, 23)]  # 4/day, one at night
    records += [spasm(on(d)) for d in range(7, 42) if d % 5 == 0]  # 7 spasms over weeks 2-6
    (score,) = pre_post_records([shot, *records], "Europe/Berlin")
    assert score.measurement == "clinical_score"
    assert score.tags == {"patient": "p01", "period": "injection"}
    assert score.time_ns == local_midnight_ns(injection, BERLIN)
    assert score.fields["pre_days"] == 14
    assert score.fields["post_days"] == 33  # 35 days less the two unworn
    assert score.fields["pre_per_h"] == 4 / 4  # 4 a day in 4 observed hours a day
    assert score.fields["post_per_h"] == pytest.approx(7 / (33 * 4))
    assert score.fields["change_pct"] == pytest.approx(100 * (7 / 132 - 1))
    assert "cohens_d" in score.fields


def test_one_spasm_seen_on_two_channels_counts_once() -> None:
    from monitor.clinical import spasm_rows

    t = local(dt.date(2026, 6, 10), 10)

    def on_channel(onset_ns: int, duration_s: float, channel: str, peak: float, kind: str) -> Record:
        fields: dict[str, FieldValue] = {"duration_s": duration_s, "peak_x_baseline": peak}
        return Record("spasm_event", onset_ns, fields, {"patient": "p01", "channel": channel, "kind": kind})

    records = [
        on_channel(t, 4.0, "0", 6.0, "tonic"),
        on_channel(t + NS_PER_S, 5.0, "1", 12.0, "clonus"),  # same spasm, calf and shin
        on_channel(t + 60 * NS_PER_S, 2.0, "1", 3.0, "tonic"),  # a later, separate spasm
        Record("spasm_event", t + NS_PER_S, {"duration_s": 1.0}, {"patient": "p02", "kind": "tonic"}),
    ]
    observed = [worn(t), worn(t, patient="p02")]
    rows = spasm_rows(records)
    assert [(r.patient, r.duration_s, r.peak_x_baseline, r.kind) for r in rows] == [
        ("p01", 6.0, 12.0, "mixed"),
        ("p02", 1.0, None, "tonic"),
        ("p01", 2.0, 3.0, "tonic"),
    ]
    assert len(spasm_rows(records, merge_overlapping=False)) == 4
    scores = clinical_scores(records + observed, BERLIN)
    (hour,) = [r for r in scores if r.tags == {"patient": "p01", "period": "hour"}]
    assert hour.fields["spasms"] == 2


def test_score_spool_widens_the_range_to_whole_local_days(tmp_path: Path) -> None:
    from monitor.clinical import score_spool
    from monitor.store import Spool
    from monitor.treatment import BotoxInjection

    day = dt.date(2026, 6, 10)
    spool = Spool(tmp_path / "s.sqlite")
    spool.append([worn(local(day, 0), 24 * 3600.0)])
    spool.append([spasm(local(day, 1)), spasm(local(day, 20))])
    spool.append([BotoxInjection(day, ("soleus",), "left", 100).to_record(BERLIN, "p01")])
    scores = score_spool(spool, local(day, 12), local(day, 13), "Europe/Berlin")  # one hour asked
    periods = [r.tags.get("period") for r in scores]  # spasm_episode records have none
    assert (periods.count("hour"), periods.count("day"), periods.count("injection")) == (24, 1, 1)
    daily = next(r for r in scores if r.tags.get("period") == "day")
    assert daily.fields["spasms"] == 2
