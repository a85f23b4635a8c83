"""The demo's simulated treatment history: built through the real DSP, true to its own truth."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from monitor.clinical import clinical_scores, weekly_rom
from monitor.demo import SIMULATED_TAGS, HistorySummary, TreatmentCourse, simulate_history
from monitor.demo.windows import PT_WINDOW_S
from monitor.store import Spool
from monitor.store.schema import OBSERVATION
from monitor.types import NS_PER_S, Record

START = dt.date(2026, 1, 5)
ZONE = "America/New_York"
ALL_TIME = (0, 2**63 - 1)
# A short course with a fast, strong injection effect: the pre/post windows (14 days before,
# days 7-41 after) then hold 7 days each in a 3-week history. The prepost post window opens
# on day 7 after the injection, so 2 weeks could never show a "post" day.
FAST_COURSE = TreatmentCourse(baseline_spasms_per_h=40.0, onset_day=1.0, peak_day=6.0, max_rate_reduction=0.7)
WINDOWS_PER_DAY = 2
WINDOW_S = 300.0
WEAR_DAY = 3  # one day worn 8 h from 08:00 (enough for Snow's score), the others sampled
WEAR_DAY_H = 8.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HistorySummary]:
    path = tmp_path_factory.mktemp("history") / "spool.sqlite"
    with Spool(path, synchronous="NORMAL") as spool:
        summary = simulate_history(
            spool,
            start_date=START,
            weeks=3,
            injection_week=1,
            windows_per_day=WINDOWS_PER_DAY,
            window_s=WINDOW_S,
            wear_days=(WEAR_DAY,),
            wear_day_h=WEAR_DAY_H,
            home_exercise_every_days=0,  # PT days only: the IMU windows are the costly part
            seed=11,
            patient="p07",
            timezone=ZONE,
            course=FAST_COURSE,
        )
    return path, summary


def _records(path: Path, measurement: str | None = None) -> list[Record]:
    with Spool(path) as spool:
        return spool.query(*ALL_TIME, measurement=measurement)


def test_detected_spasms_per_day_track_the_simulated_truth(built: tuple[Path, HistorySummary]) -> None:
    _, summary = built
    true_total = sum(d.true_spasms for d in summary.days)
    detected_total = sum(d.detected_spasms for d in summary.days)
    assert true_total > 60  # enough spasms for the comparison to mean something
    # The detector finds about 98 % of synthetic spasms at 20 dB with artefacts, with a
    # similar share of extra events (motion artefacts, a spasm split in two): bench/accuracy.py.
    # A day of 10 sampled minutes holds 2-12 spasms, so allow 2 per day (5 % on the worn
    # day's hundreds) and 10 % overall.
    for day in summary.days:
        assert abs(day.detected_spasms - day.true_spasms) <= max(2, 0.05 * day.true_spasms), day
    assert abs(detected_total - true_total) <= 0.1 * true_total


def test_pre_post_shows_the_drop_after_the_injection(built: tuple[Path, HistorySummary]) -> None:
    path, summary = built
    truth, found = summary.true_pre_post, summary.detected_pre_post
    assert (truth.pre_days, truth.post_days) == (7, 7)
    assert truth.change_pct < -40  # the simulated effect is there...
    assert abs(found.change_pct - truth.change_pct) < 15  # ...and the pipeline reports it
    (stored,) = [r for r in _records(path, "clinical_score") if r.tags["period"] == "injection"]
    assert stored.fields["pre_spasms"] == found.pre_spasms
    assert stored.fields["post_spasms"] == found.post_spasms
    assert float(stored.fields["change_per_h"]) < 0
    assert (stored.fields["pre_per_h"], stored.fields["post_per_h"]) == (found.pre_per_h, found.post_per_h)


def test_treatment_records_hold_the_injection_and_the_pt_sessions(built: tuple[Path, HistorySummary]) -> None:
    path, summary = built
    treatments = _records(path, "treatment")
    (botox,) = [r for r in treatments if r.tags["kind"] == "botox"]
    assert botox.fields["muscles"] == "gastrocnemius,soleus"
    assert 0 < float(botox.fields["dose_u"]) <= 400
    assert summary.injection_date == START + dt.timedelta(days=7)
    pt = [r for r in treatments if r.tags["kind"] == "pt"]
    assert len(pt) == len(summary.pt_dates) == 6  # twice a week for 3 weeks


def test_every_stored_record_is_tagged_simulated(built: tuple[Path, HistorySummary]) -> None:
    path, summary = built
    records = _records(path)
    assert len(records) == sum(summary.records.values())
    assert {r.measurement for r in records} >= {
        "spasm_event", "observation", "rom", "treatment", "clinical_score",
    }  # fmt: skip
    assert all(r.tags.get("source") == SIMULATED_TAGS["source"] for r in records)
    assert all(r.tags.get("patient") == "p07" for r in records)


def test_range_of_motion_rises_over_the_pt_weeks_and_matches_the_simulated_sets(
    built: tuple[Path, HistorySummary],
) -> None:
    path, summary = built
    exercise_days = [d for d in summary.days if d.true_reps]
    assert len(exercise_days) == len(summary.pt_dates)
    for day in exercise_days:
        assert abs(day.detected_range_deg - day.true_range_deg) < 5.0, day
        assert abs(day.detected_reps - day.true_reps) <= 1, day
    start_ns = summary.start_ns
    # The default periods (sets and 60-s windows) are what the report and the dashboards read.
    weeks = [w.max_range_deg for w in weekly_rom(_records(path, "rom"), start_ns)]
    assert len(weeks) == 3
    assert weeks[-1] > weeks[0] + 10.0


def test_scores_use_the_observed_windows_and_snow_only_the_worn_day(
    built: tuple[Path, HistorySummary],
) -> None:
    path, summary = built
    days = [r for r in _records(path, "clinical_score") if r.tags["period"] == "day"]
    assert len(days) == 21
    worn = summary.days[WEAR_DAY].date
    for r, day in zip(days, summary.days, strict=True):
        is_worn = r.time_ns == summary.start_ns + WEAR_DAY * 86_400 * NS_PER_S
        # The pipeline observes while any wearable streams: the EMG windows, and the PT
        # session's knee IMUs (at 10:30, apart from this seed's EMG windows).
        expected_s = WEAR_DAY_H * 3600 if is_worn else WINDOWS_PER_DAY * WINDOW_S
        expected_s += PT_WINDOW_S if day.pt_session else 0.0
        assert float(r.fields["observed_s"]) == pytest.approx(expected_s) == day.observed_s
        assert ("snow_frequency" in r.fields) == is_worn  # 10 sampled minutes are no 24-hour count
    assert worn == START + dt.timedelta(days=WEAR_DAY)
    # One observation interval per window (each window is one frame through its own pipeline).
    n_windows = 20 * WINDOWS_PER_DAY + WEAR_DAY_H + len(summary.pt_dates)
    assert len(_records(path, OBSERVATION)) == n_windows


def test_observation_intervals_set_the_observed_time_and_the_rate() -> None:
    t0 = 1_767_600_000 * NS_PER_S  # 2026-01-05 08:00 UTC
    observation = Record(OBSERVATION, t0 + 1800 * NS_PER_S, {"duration_s": 3600.0}, {"patient": "p"})
    spasms = [
        Record("spasm_event", t0 + (1900 + 60 * i) * NS_PER_S, {"duration_s": 2.0}, {"patient": "p"})
        for i in range(3)
    ]
    unobserved = Record("device_status", t0 + 5 * 3600 * NS_PER_S, {"battery_pct": 80}, {"patient": "p"})
    next_day = Record("device_status", t0 + 24 * 3600 * NS_PER_S, {"battery_pct": 80}, {"patient": "p"})
    scores = clinical_scores([observation, *spasms, unobserved, next_day])
    # Status records are not observed time: the next day, with nothing else, is not scored.
    assert [r.fields["observed_s"] for r in scores if r.tags["period"] == "day"] == [3600.0]
    hours = [r for r in scores if r.tags["period"] == "hour"]
    # The interval straddles 08:30-09:30: two half hours; the status record's hour is not observed.
    assert [float(r.fields["observed_s"]) for r in hours] == [1800.0, 1800.0]
    assert [r.fields["spasms"] for r in hours] == [3, 0]
    day = next(r for r in scores if r.tags["period"] == "day")
    assert (day.fields["observed_s"], day.fields["spasms_per_h"], day.fields["penn_frequency"]) == (
        3600.0,
        3.0,
        3,
    )


def test_same_seed_gives_the_same_history_and_another_seed_does_not() -> None:
    def build(seed: int) -> list[tuple[object, ...]]:
        spool = Spool(":memory:")
        simulate_history(
            spool,
            start_date=START,
            weeks=1,
            injection_week=0,
            windows_per_day=1,
            window_s=120.0,
            wear_day_h=0.5,  # the worn day's path too, at a 1/18 of the default's cost
            pt_days=(2,),
            home_exercise_every_days=0,
            seed=seed,
        )
        return [
            (r.measurement, r.time_ns, sorted(r.tags.items()), sorted(r.fields.items()))
            for r in spool.query(*ALL_TIME)
        ]

    first = build(3)
    assert first == build(3)
    assert first != build(4)


def test_progress_is_reported_and_a_second_build_into_the_same_spool_is_refused() -> None:
    spool = Spool(":memory:")
    kwargs = dict(start_date=START, weeks=1, injection_week=0, windows_per_day=1, window_s=60.0, patient="p")
    kwargs |= dict(pt_days=(), wear_days=(), home_exercise_every_days=0)
    done: list[tuple[int, int]] = []
    simulate_history(spool, progress=lambda *days: done.append(days), **kwargs)  # type: ignore[arg-type]
    assert done == [(day, 7) for day in range(1, 8)]  # progress after every simulated day
    with pytest.raises(ValueError, match="already holds a simulated history"):
        simulate_history(spool, **kwargs)  # type: ignore[arg-type]


def test_course_follows_the_botulinum_toxin_time_course() -> None:
    course = TreatmentCourse()
    assert course.toxin_effect(None) == course.toxin_effect(2.0) == 0.0  # no effect in the first days
    assert 0.0 < course.toxin_effect(7.0) < 1.0  # onset within the first week
    assert course.toxin_effect(course.peak_day) == course.toxin_effect(41.0) == 1.0  # weeks 2-6
    assert course.toxin_effect(course.gone_day) == 0.0  # worn off by the next cycle
    assert course.spasms_per_h(30.0, night=False) < course.spasms_per_h(None, night=False)
    assert course.spasms_per_h(None, night=True) > course.spasms_per_h(None, night=False)
    ranges = [course.range_scale(None, n) for n in range(10)]
    assert ranges == sorted(ranges)
    assert not math.isclose(ranges[0], ranges[-1])


def test_bad_sizes_are_refused_with_the_parameter_named() -> None:
    with pytest.raises(ValueError, match="injection_week"):
        simulate_history(Spool(":memory:"), start_date=START, weeks=2, injection_week=2)
    with pytest.raises(ValueError, match="window_s"):
        simulate_history(Spool(":memory:"), start_date=START, window_s=10.0)
