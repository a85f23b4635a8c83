"""The patient report's numbers, on a spool produced by the real pipeline, against independent counts.

The spool (tests/report_spool.py) holds 30 days of synthetic EMG streamed through the
spasm detector, knee exercise through the ROM processor, treatment entries, a gap and
alerts. Every expected number below is recomputed here from the records written, with
plain Python, not with :mod:`monitor.clinical`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from report_spool import (
    AMPLITUDE_DEG,
    EXERCISE_REPS,
    INJECTION_DAY,
    N_DAYS,
    PATIENT,
    PT_DAYS,
    START,
    TZ,
    WINDOW_S,
    BuiltSpool,
    build_spool,
    local_ns,
    shared_spool,
)

from monitor.cli import main
from monitor.clinical import NightWindow, score_spool
from monitor.clinical.events import spasm_kind
from monitor.report import ReportData, ReportError, build_report, render_html, write_report
from monitor.store import Spool
from monitor.store.schema import spasm_event_from_record
from monitor.types import NS_PER_S, FieldValue, Record

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltSpool:
    return shared_spool(tmp_path_factory, tmp_path_factory.mktemp("report") / "spool.sqlite")


@pytest.fixture(scope="module")
def report(built: BuiltSpool) -> ReportData:
    return build_report(built.path, patient=PATIENT, timezone="Europe/London")


def local(time_ns: int) -> dt.datetime:
    return (EPOCH + dt.timedelta(microseconds=time_ns // 1000)).astimezone(TZ)


def spasms(built: BuiltSpool) -> list[Record]:
    return [r for r in built.records if r.measurement == "spasm_event"]


def test_pipeline_found_the_generated_spasms(built: BuiltSpool) -> None:
    # Sanity of the fixture itself: the counts below are about real detector output.
    assert abs(len(spasms(built)) - built.true_spasms) <= 3, (len(spasms(built)), built.true_spasms)
    assert len(spasms(built)) > 40


def test_period_and_completeness_across_the_change_to_summer_time(report: ReportData) -> None:
    assert local(report.start_ns) == dt.datetime(2026, 3, 10, tzinfo=TZ)
    assert local(report.end_ns) == dt.datetime(2026, 4, 9, tzinfo=TZ)
    c = report.coverage
    assert c.period_h == N_DAYS * 24 - 1  # 29 March 2026 has 23 hours in London
    assert c.monitored_h == pytest.approx(N_DAYS * WINDOW_S / 3600)
    assert c.completeness_pct == pytest.approx(100 * N_DAYS * WINDOW_S / 3600 / (N_DAYS * 24 - 1))
    assert (c.gap_count, c.gap_s) == (1, 12.5)
    assert c.days_with_data == N_DAYS


def test_observed_hours_are_the_hours_the_observation_windows_overlap(
    built: BuiltSpool, report: ReportData
) -> None:
    hours = set()
    for start_ns in built.window_starts_ns:
        for t_ns in (start_ns, start_ns + round(WINDOW_S * NS_PER_S) - 1):
            hours.add(local(t_ns).replace(minute=0, second=0, microsecond=0))
    assert report.coverage.observed_hours == len(hours) == N_DAYS  # ROM-only hours are not spasm monitoring
    loss_s = sum(float(r.fields["duration_s"]) for r in built.records if r.measurement == "signal_quality")
    assert report.coverage.signal_loss_s == pytest.approx(loss_s)


def test_device_records_without_observation_or_coverage_are_no_observed_time(
    built: BuiltSpool, tmp_path: Path
) -> None:
    kept = [r for r in built.records if r.measurement != "observation"]
    with Spool(tmp_path / "live.sqlite") as spool:
        spool.append(kept)
    data = build_report(tmp_path / "live.sqlite", timezone="Europe/London")
    assert data.spasms == len(spasms(built))  # the events are listed...
    # ...but nothing is rated or scored on time nobody can say was observed.
    assert (data.days, data.spasms_per_h, data.penn_frequency, data.snow_median) == ((), None, None, None)
    assert (data.coverage.observed_hours, data.coverage.monitored_h, data.coverage.completeness_pct) == (
        0,
        0,
        0,
    )


def test_a_day_worn_3_h_says_not_scored_and_gets_no_snow(tmp_path: Path) -> None:
    day0 = local_ns(START, dt.time(8))
    worn = [
        Record("observation", day0, {"duration_s": 3 * 3600.0, "offset_ns": day0 + 3 * 3600 * NS_PER_S},
               {"patient": "p01"}),
        # A second day worn 9 h: scored.
        Record("observation", day0 + 86_400 * NS_PER_S, {"duration_s": 9 * 3600.0}, {"patient": "p01"}),
    ]  # fmt: skip
    events = [
        Record("spasm_event", day0 + k * 600 * NS_PER_S + d * 86_400 * NS_PER_S, {"duration_s": 2.0},
               {"patient": "p01", "kind": "tonic"})
        for d in (0, 1) for k in range(6)
    ]  # fmt: skip
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append(worn + events)
    data = build_report(tmp_path / "s.sqlite", timezone="Europe/London")
    first, second = data.days
    assert (first.snow_frequency, first.snow_note, first.spasms_per_h) == (None, "not scored: 3 h worn", 2.0)
    assert (second.snow_frequency, second.snow_note) == (4, "")  # 6 spasms in the day
    assert (data.snow_median, data.snow_days) == (4, 1)
    assert data.spasms_per_h == pytest.approx(12 / 12)  # 12 spasms in 12 observed hours
    html = render_html(data)
    assert "not scored: 3 h worn" in html
    # Only the observed local days are rows; the 22 unobserved hours of each are no data, not 0.
    table = html.split("Daily clinical scores")[1].split("</details>")[0]
    assert table.count("<tr>") == 1 + 2


def test_spasm_counts_rates_and_scores_equal_independent_counts(
    built: BuiltSpool, report: ReportData
) -> None:
    events = spasms(built)
    per_date = Counter(local(r.time_ns).date() for r in events)
    assert report.spasms == len(events)  # one channel: nothing to merge
    assert {d.date: d.spasms for d in report.days if d.spasms} == dict(per_date)
    rate = len(events) / (N_DAYS * WINDOW_S / 3600)  # per observed hour
    assert report.spasms_per_h == pytest.approx(rate)
    assert report.penn_frequency == (0 if rate == 0 else 2 if rate < 1 else 3 if rate <= 10 else 4)
    for day in report.days:  # 8 minutes a day: no daily rate, and no 24-hour count of a calm day
        assert (day.spasms_per_h, day.penn_frequency, day.rate_note) == (None, None, "too little data: 8 min")
        assert (day.snow_frequency, day.snow_note) == (None, "not scored: 0.1 h worn")
    assert (report.snow_median, report.snow_days) == (None, 0)
    grades = sorted(
        3 if r.fields["duration_s"] >= 10 or r.fields["peak_x_baseline"] >= 10
        else 2 if r.fields["duration_s"] >= 3 or r.fields["peak_x_baseline"] >= 5
        else 1
        for r in events
    )  # fmt: skip
    assert report.penn_severity == grades[len(grades) // 2]


def test_day_night_split_uses_local_clock_time(built: BuiltSpool, report: ReportData) -> None:
    night = sum(local(r.time_ns).hour >= 22 or local(r.time_ns).hour < 7 for r in spasms(built))
    assert (report.night_spasms, report.day_spasms) == (night, len(spasms(built)) - night)
    assert 0 < night < len(spasms(built))
    for day in report.days:
        assert day.day_spasms + day.night_spasms == day.spasms


def test_pre_post_per_injection_matches_a_direct_computation(built: BuiltSpool, report: ReportData) -> None:
    (injection,) = report.injections
    assert injection.date == START + dt.timedelta(days=INJECTION_DAY)
    assert injection.label == "200 U onabotulinumtoxinA left: gastrocnemius, soleus"
    per_date = Counter(local(r.time_ns).date() for r in spasms(built))
    observed = {START + dt.timedelta(days=d) for d in range(N_DAYS)}
    pre_dates = [injection.date - dt.timedelta(days=k) for k in range(1, 15)]
    post_dates = [injection.date + dt.timedelta(days=k) for k in range(7, 42)]
    window_h = WINDOW_S / 3600  # observed per day
    pre = np.array([per_date[d] for d in pre_dates if d in observed], dtype=float) / window_h
    post = np.array([per_date[d] for d in post_dates if d in observed], dtype=float) / window_h
    p = injection.pre_post
    assert (p.pre_days, p.post_days) == (14, N_DAYS - INJECTION_DAY - 7)
    assert (p.pre_observed_h, p.post_observed_h) == pytest.approx((14 * window_h, p.post_days * window_h))
    assert (p.pre_spasms, p.post_spasms) == pytest.approx((pre.sum() * window_h, post.sum() * window_h))
    assert p.pre_per_h == pytest.approx(pre.mean())  # equal observed time each day: mean of rates
    assert p.post_per_h == pytest.approx(post.mean())
    assert p.change_pct == pytest.approx(100 * (post.mean() - pre.mean()) / pre.mean())
    pooled_sd = math.sqrt(
        ((pre.size - 1) * pre.var(ddof=1) + (post.size - 1) * post.var(ddof=1)) / (pre.size + post.size - 2)
    )
    assert p.cohens_d == pytest.approx((post.mean() - pre.mean()) / pooled_sd)
    assert p.post_per_h < p.pre_per_h  # the scenario halves the rate from week 2


def test_treatments_spasm_types_durations(built: BuiltSpool, report: ReportData) -> None:
    assert [t.kind for t in report.treatments] == ["pt", "pt", "botox", "pt", "pt"]
    assert [local(t.time_ns).date() for t in report.treatments if t.kind == "pt"] == [
        START + dt.timedelta(days=d) for d in PT_DAYS
    ]
    kind_of = {r.time_ns: spasm_kind(spasm_event_from_record(r)) for r in spasms(built)}
    kinds = Counter(kind_of.values())  # stored "myoclonic" reads as "myoclonus"
    assert {k.kind: k.count for k in report.kinds} == dict(kinds)
    for k in report.kinds:
        durations = [float(r.fields["duration_s"]) for r in spasms(built) if kind_of[r.time_ns] == k.kind]
        assert k.mean_duration_s == pytest.approx(sum(durations) / len(durations))
        assert k.max_duration_s == max(durations)
    assert sorted(report.durations_s) == sorted(float(r.fields["duration_s"]) for r in spasms(built))


def test_rom_per_joint_and_day_with_repetitions(report: ReportData) -> None:
    assert [(r.joint, r.date) for r in report.rom] == [
        ("knee", START + dt.timedelta(days=d)) for d in PT_DAYS
    ]
    for day in report.rom:
        assert day.reps == EXERCISE_REPS  # one set, counted once (not again from window/hour/day)
        assert day.best_range_deg == pytest.approx(2 * AMPLITUDE_DEG, abs=1.0)


def test_events_table_is_the_most_recent_events_newest_first(built: BuiltSpool) -> None:
    data = build_report(built.path, timezone="Europe/London", max_events=5)  # the one patient, found
    onsets = sorted(r.time_ns for r in spasms(built))
    assert [e.onset_ns for e in data.events] == onsets[::-1][:5]
    assert data.events_total == len(onsets)
    clonus = [e for e in data.events if e.kind == "clonus"]
    assert all(e.clonus_hz is not None and 3 <= e.clonus_hz <= 12 for e in clonus)


def test_alerts_and_simulated_label(built: BuiltSpool, report: ReportData, tmp_path: Path) -> None:
    assert [(a.rule, a.delivered) for a in report.alerts] == [("spasm_spike", True), ("tonic_spasm", False)]
    assert not report.simulated
    asked = build_report(built.path, timezone="UTC", simulated=True)
    assert asked.simulated
    tagged = build_report(build_spool(tmp_path / "sim.sqlite", simulated_tag=True, days=2).path)
    assert tagged.simulated
    assert "source=simulated" in tagged.simulated_reason
    assert "SIMULATED DATA" in render_html(tagged)
    assert "SIMULATED DATA" not in render_html(report)


def test_empty_spool_reports_no_data_in_every_section(tmp_path: Path) -> None:
    Spool(tmp_path / "empty.sqlite").close()
    data = build_report(tmp_path / "empty.sqlite", timezone="Europe/London")
    assert (data.spasms, data.spasms_per_h, data.penn_frequency, data.snow_median) == (0, None, None, None)
    html = render_html(data)
    for section in ("spasms-per-day", "types", "day-night", "rom", "events"):
        part = html.split(f'<section id="{section}">')[1].split("</section>")[0]
        assert 'class="nodata"' in part, section


def test_sparse_spool_with_only_treatment_renders(tmp_path: Path) -> None:
    path = tmp_path / "sparse.sqlite"
    with Spool(path) as spool:
        spool.append([Record("treatment", 1_770_000_000 * NS_PER_S, {"pt_kind": "gait", "exercises": ""},
                             {"patient": "p02", "kind": "pt"})])  # fmt: skip
    data = build_report(path, timezone="Europe/Paris")
    assert (data.patient, data.coverage.observed_hours, data.spasms_per_h) == ("p02", 0, None)
    assert "No spasm monitoring data in the period." in render_html(data)


def test_overlapping_events_on_two_channels_count_once(tmp_path: Path) -> None:
    t = 1_770_000_000 * NS_PER_S
    rows = [
        Record("spasm_event", t + k * NS_PER_S, {"duration_s": 4.0, "peak_x_baseline": 6.0},
               {"patient": "p01", "kind": "tonic", "channel": str(k)})
        for k in (0, 1)
    ]  # fmt: skip
    rows.append(Record("observation", t - t % (3600 * NS_PER_S), {"duration_s": 3600.0}, {"patient": "p01"}))
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append(rows)
    data = build_report(tmp_path / "s.sqlite")
    assert (data.spasms, data.events_total, data.durations_s) == (1, 2, (5.0,))
    assert (data.coverage.observed_hours, data.spasms_per_h, data.penn_frequency) == (1, 1.0, 3)


def test_user_mistakes_are_one_line_errors_with_exit_code_2(
    built: BuiltSpool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Spool(tmp_path / "two.sqlite") as spool:
        spool.append([Record("gap", NS_PER_S, {"duration_s": 1.0}, {"patient": p}) for p in ("a", "b")])
    cases = [
        ["--spool", str(tmp_path / "missing.sqlite")],
        ["--spool", str(built.path), "--timezone", "Mars/Olympus"],
        ["--spool", str(built.path), "--patient", "nobody"],
        ["--spool", str(tmp_path / "two.sqlite")],
        ["--spool", str(built.path), "--from", "2026-02-30"],
    ]
    for args in cases:
        assert main(["report", *args, "--out", str(tmp_path / "r.html")]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("spasm-monitor: "), err
        assert err.count("\n") == 1, err  # one line, no traceback
    assert not (tmp_path / "r.html").exists()
    with pytest.raises(ReportError, match="several patients"):
        build_report(tmp_path / "two.sqlite")


def test_cli_writes_the_report(built: BuiltSpool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "report.html"
    code = main(["report", "--spool", str(built.path), "--out", str(out), "--timezone", "Europe/London"])
    assert code == 0
    # The line gives the report's own figures: its spasms and its "Observed time", not the
    # count of clock hours with any data (an hour with one observed minute counts whole there).
    data = build_report(built.path, timezone="Europe/London")
    assert data.coverage.observed_hours > data.coverage.monitored_h + 1
    line = capsys.readouterr().out
    assert f", {len(spasms(built))} spasms in {data.coverage.monitored_h:.1f} h observed, " in line
    assert (
        f" {data.spasms_per_h:.2f} per observed hour, EMG-derived Penn frequency {data.penn_frequency} -> "
        in line
    )
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_text_from_the_spool_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    with Spool(path) as spool:
        fields: dict[str, FieldValue] = {"message": "<img src=x onerror=alert(1)>", "delivered": False}
        spool.append([Record("alert", NS_PER_S, fields, {"patient": "p01", "rule": "poor_signal"})])
    html = write_report(build_report(path), tmp_path / "x.html").read_text(encoding="utf-8")
    assert "<img" not in html
    assert "&lt;img src=x" in html


def test_daily_scores_and_injection_agree_with_the_stored_clinical_scores(
    built: BuiltSpool, report: ReportData
) -> None:
    # The dashboards read clinical_score records written by score_spool: the report must say the same.
    with Spool(built.path) as spool:
        stored = score_spool(spool, report.start_ns, report.end_ns, TZ)
    days = {local(r.time_ns).date(): r.fields for r in stored if r.tags.get("period") == "day"}
    assert set(days) == {d.date for d in report.days}
    for d in report.days:
        f = days[d.date]
        assert (d.spasms, d.observed_s, d.spasms_per_h, d.day_spasms, d.night_spasms) == (
            f["spasms"], f["observed_s"], f.get("spasms_per_h"), f["day_spasms"], f["night_spasms"],
        )  # fmt: skip
        assert d.snow_frequency == f.get("snow_frequency")
        assert (d.penn_frequency, d.penn_severity) == (f.get("penn_frequency"), f.get("penn_severity"))
    (injection,) = [r for r in stored if r.tags.get("period") == "injection"]
    p = report.injections[0].pre_post
    assert (injection.fields["pre_spasms"], injection.fields["post_spasms"]) == (p.pre_spasms, p.post_spasms)
    assert (injection.fields["pre_per_h"], injection.fields["post_per_h"]) == (p.pre_per_h, p.post_per_h)
    assert injection.fields["cohens_d"] == pytest.approx(p.cohens_d)


def test_weekly_best_rom_counts_weeks_from_the_first_pt_session(report: ReportData) -> None:
    first_pt = START + dt.timedelta(days=PT_DAYS[0])
    assert [(w.joint, w.week) for w in report.rom_weeks] == [("knee", k) for k in range(len(PT_DAYS))]
    first_pt_ns = local_ns(first_pt, dt.time(0))
    for w in report.rom_weeks:
        assert w.week_start_ns == first_pt_ns + w.week * 7 * 86_400 * NS_PER_S  # 7 × 24 h weeks
        assert w.max_range_deg == pytest.approx(2 * AMPLITUDE_DEG, abs=1.0)


def test_a_date_range_limits_the_period(built: BuiltSpool) -> None:
    first, last = START + dt.timedelta(days=3), START + dt.timedelta(days=5)
    data = build_report(built.path, timezone="Europe/London", start_date=first, end_date=last)
    assert [d.date for d in data.days] == [first, first + dt.timedelta(days=1), last]
    assert data.spasms == sum(first <= local(r.time_ns).date() <= last for r in spasms(built))
    assert data.coverage.period_h == 72
    after = build_report(built.path, timezone="Europe/London", start_date=dt.date(2027, 1, 1))
    assert (after.spasms, after.coverage.period_h, after.days) == (0, 0, ())
    assert "no data" in render_html(after)


def test_night_window_is_a_parameter(built: BuiltSpool) -> None:
    data = build_report(built.path, timezone="Europe/London", night=NightWindow(dt.time(23), dt.time(6)))
    night = sum(local(r.time_ns).hour >= 23 or local(r.time_ns).hour < 6 for r in spasms(built))
    assert data.night_spasms == night
    assert "night (23:00–06:00 local)" in render_html(data)
