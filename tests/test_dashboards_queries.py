"""Every InfluxQL query of the generated dashboards, run on the real InfluxDB 1.6.7.

The database is loaded with records the pipeline produced: synthetic EMG with known spasms
(``monitor.synth``) through the streaming detector, ROM from a synthetic joint angle through
``range_of_motion``, the ``clinical_score`` records ``monitor.clinical`` computes from those
events, plus gap, battery, alert and treatment records. Each query is taken from
the dashboard JSON and its Grafana macros are replaced as Grafana's InfluxDB datasource does
(``$timeFilter`` → ``time >= <ms>ms and time <= <ms>ms``, ``$__interval``, ``$__range_s``,
``${__from}``, and the template variables in their regex form), then the numbers a clinician
reads off each panel are checked against the records that went in. No Grafana server can be
installed here: that macro replacement (:func:`render`) is this test's double of Grafana's
InfluxDB datasource, and the only one; the queries themselves run on the real server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import re
import time
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from conftest import InfluxDatabase, create_database

from dashboards import cohort, patient
from dashboards.alert_rules import alert_rules
from dashboards.build import dashboard_json
from dashboards.provisioning import ProvisioningSettings
from monitor.alerts.thresholds import AlertThresholds
from monitor.clinical import clinical_scores, pre_post_by_injection, pre_post_records
from monitor.clinical.events import episode_records, spasm_kind, spasm_rows
from monitor.clinical.rom_weekly import weekly_rom
from monitor.dsp import SpasmDetector, range_of_motion
from monitor.dsp.coverage import StreamCoverage
from monitor.dsp.imu.activity import MovementActivity
from monitor.report.gather import gather
from monitor.report.model import ReportData
from monitor.store import InfluxV1Writer
from monitor.store.line_protocol import render_records
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S, Frame, Record, SensorKind, SpasmEvent, StreamId

HOUR_NS = 3600 * NS_PER_S
DAY_NS = 24 * HOUR_NS
INJECTION = "2026-01-05T09:00:00Z"
INJECTION_NS = 1_767_603_600 * NS_PER_S  # 2026-01-05T09:00:00Z
DAY0_NS = 1_768_867_200 * NS_PER_S  # 2026-01-20T00:00:00Z, inside weeks 2-6 after the injection
# (patient, location, start): half-hour EMG recordings (the shortest time a rate is stated on,
# monitor.clinical.enough), each inside one clock hour, placed so that hours, day/night and the
# pre/post windows each get a known share.
RECORDING_S = 1800
SEGMENTS = (
    ("p01", "calf", INJECTION_NS - 4 * DAY_NS + 60 * NS_PER_S),  # before the injection
    ("p01", "calf", DAY0_NS + 9 * HOUR_NS + 5 * 60 * NS_PER_S),  # 09:05-09:35, day
    ("p01", "calf", DAY0_NS + 10 * HOUR_NS + 20 * 60 * NS_PER_S),  # 10:20-10:50, day
    ("p01", "calf", DAY0_NS + 22 * HOUR_NS + 30 * 60 * NS_PER_S),  # 22:30-23:00, night
    ("p02", "thigh", DAY0_NS + 9 * HOUR_NS + 30 * 60 * NS_PER_S),
)
RANGE = (DAY0_NS - 30 * DAY_NS, DAY0_NS + DAY_NS)  # the dashboard's time range


def emg_records(patient_id: str, location: str, t0_ns: int, seed: int) -> list[Record]:
    # p01 wears its EMG and a shank IMU on the left leg (the injected one): the IMU sees each
    # spasm too, so rows (one per channel and wearable) outnumber spasms (one per limb episode).
    side = {"side": "left"} if patient_id == "p01" else {}
    scenario = EmgScenario(
        sample_rate_hz=1000.0, channels=1, duration_s=RECORDING_S, seed=seed, electrode_off_per_hour=12
    )
    emg = generate_emg(scenario, t0_ns=t0_ns).emg_mv
    detector = SpasmDetector(
        1000.0, 1, tags={"patient": patient_id, "device": f"{patient_id}-emg", "location": location} | side
    )
    frame = Frame(StreamId(f"{patient_id}-emg", "emg"), SensorKind.EMG, 1000.0, t0_ns, 0, 0, emg)
    coverage = StreamCoverage(frame.stream, tags=detector.tags)
    end_ns = t0_ns + RECORDING_S * NS_PER_S
    worn = Record("observation", t0_ns, {"duration_s": float(RECORDING_S), "offset_ns": end_ns},
                  {"patient": patient_id})  # fmt: skip
    events = detector.process(frame) + detector.flush()
    imu = [
        Record("spasm_event", e.time_ns + 200_000_000,
               {"duration_s": 0.4, "offset_ns": e.time_ns + 600_000_000, "imu_peak_dps": 150.0},
               {"patient": patient_id, "device": "p01-imu", "location": "shank", "kind": "movement",
                "channel": "0"} | side)
        for e in events if side and e.measurement == "spasm_event"
    ]  # fmt: skip
    return events + imu + coverage.process(frame) + coverage.flush() + [worn]


def rom_records() -> list[Record]:
    # 20 min of knee flexion/extension, 0-60°, 10 s a repetition, at 10 Hz.
    t_s = np.arange(0, 1200, 0.1)
    angle = 30 - 30 * np.cos(2 * np.pi * t_s / 10)
    return range_of_motion(angle, 10.0, DAY0_NS + 15 * HOUR_NS, joint="knee", tags={"patient": "p01"})


def movement_records() -> list[Record]:
    # 20 min of one shank IMU at 100 Hz from 15:00: turning at 50 deg/s for 5 min, then still.
    gyr = np.zeros((120_000, 3))
    gyr[:30_000, 0] = 50.0
    stream = StreamId("p01-imu", "gyr")
    frame = Frame(stream, SensorKind.GYR, 100.0, DAY0_NS + 15 * HOUR_NS, 0, 0, gyr)
    tags = {"patient": "p01", "device": "p01-imu", "location": "shank"}
    out = []
    for processor in (MovementActivity(stream, tags=tags), StreamCoverage(stream, tags=tags)):
        out += processor.process(frame) + processor.flush()
    return out


def other_records() -> list[Record]:
    p01 = {"patient": "p01", "device": "p01-emg"}
    emg = p01 | {"sensor": "emg"}
    return [
        Record("gap", DAY0_NS + 9 * HOUR_NS, {"duration_s": 12.5, "missing_samples": 12500}, emg),
        Record("gap", DAY0_NS + 11 * HOUR_NS, {"duration_s": 3.0, "missing_samples": 3000}, emg),
        Record("device_status", DAY0_NS + 8 * HOUR_NS, {"battery_pct": 80, "connected": True}, p01),
        Record("device_status", DAY0_NS + 20 * HOUR_NS, {"battery_pct": 64, "connected": True}, p01),
        Record("alert", DAY0_NS + 10 * HOUR_NS, {"value": 9.0, "threshold": 5.0, "message": "spike"},
               p01 | {"rule": "spike"}),
        Record("treatment", INJECTION_NS,
               {"dose_u": 100.0, "product": "onabotulinumtoxinA", "muscles": "gastrocnemius,soleus"},
               {"patient": "p01", "kind": "botox", "side": "left"}),
        Record("treatment", DAY0_NS + 14 * HOUR_NS, {"pt_kind": "stretching", "exercises": "calf stretch"},
               {"patient": "p01", "kind": "pt"}),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def loaded(influxdb_url: str) -> tuple[InfluxDatabase, list[Record]]:
    records = [r for i, seg in enumerate(SEGMENTS) for r in emg_records(*seg, seed=i + 1)]
    records += rom_records() + movement_records() + other_records()
    records += clinical_scores(records, tz="UTC")
    records += pre_post_records(records, tz="UTC")
    records += episode_records(records)  # what score_spool stores beside the scores
    db = create_database(influxdb_url, "dashboards_queries")
    db.query("DROP SERIES FROM /.*/")
    rows, _ = render_records(records)
    post_lines(
        influxdb_url,
        db.name,
        "\n".join(f"{series} {fields} {r.time_ns}" for r, series, fields in rows).encode(),
    )
    return db, records


def post_lines(url: str, database: str, body: bytes) -> None:
    """Line protocol through the project's v1 writer."""

    async def write() -> None:
        writer = InfluxV1Writer(url, database)
        await writer.write(body)
        await writer.close()

    asyncio.run(write())


def render(query: str, variables: dict[str, str], start_ns: int = RANGE[0], end_ns: int = RANGE[1]) -> str:
    """``query`` with its macros replaced as Grafana's InfluxDB datasource replaces them."""
    start_ms, end_ms = start_ns // 1_000_000, end_ns // 1_000_000
    values = {
        "timeFilter": f"time >= {start_ms}ms and time <= {end_ms}ms",
        "__interval": "1h",
        "__range_s": str((end_ms - start_ms) // 1000),
        "__from": str(start_ms),
        "__to": str(end_ms),
        "day_start": "7h",
        "tz": "UTC",
        "patient": "p01",
        "location": ".*",
    } | variables

    def one(match: re.Match[str]) -> str:
        return values[match.group(1) or match.group(2)]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, query)


def panel_queries(model: dict[str, Any]) -> dict[str, list[str]]:
    return {
        p["title"]: [t["query"] for t in p.get("targets", [])] for p in model["panels"] if p.get("targets")
    }


def all_queries(model: dict[str, Any]) -> list[str]:
    queries = [q for qs in panel_queries(model).values() for q in qs]
    queries += [a["target"]["query"] for a in model["annotations"].get("list", []) if "target" in a]
    return queries + [v["query"] for v in model["templating"]["list"] if v["type"] == "query"]


PATIENT = json.loads(dashboard_json(patient.build()))
COHORT = json.loads(dashboard_json(cohort.build()))


def run(db: InfluxDatabase, query: str, **variables: str) -> list[dict[str, Any]]:
    return db.query(render(query, variables))


def by_time(series: list[dict[str, Any]], column: int = 1) -> dict[int, Any]:
    return {row[0]: row[column] for s in series for row in s["values"]}


def scores(records: list[Record], period: str, patient_id: str = "p01") -> list[Record]:
    return [
        r for r in records
        if r.measurement == "clinical_score" and (r.tags["period"], r.tags["patient"]) == (period, patient_id)
    ]  # fmt: skip


def events(records: list[Record], patient_id: str = "p01") -> list[Record]:
    return [r for r in records if r.measurement == "spasm_event" and r.tags["patient"] == patient_id]


def spasms(records: list[Record], patient_id: str = "p01") -> list[SpasmEvent]:
    """The spasms the report counts: episodes of the affected limbs (monitor.clinical)."""
    return spasm_rows(r for r in records if r.tags.get("patient") == patient_id)


ALERT_QUERIES = [
    q["model"]["query"]
    for rule in alert_rules(AlertThresholds(), ProvisioningSettings())
    for q in rule["data"]
    if "query" in q["model"]
]  # fmt: skip


@pytest.mark.parametrize("query", all_queries(PATIENT) + all_queries(COHORT) + ALERT_QUERIES)
def test_every_dashboard_and_alert_query_runs_on_influxdb_1_6(
    loaded: tuple[InfluxDatabase, list[Record]], query: str
) -> None:
    db, _ = loaded
    run(db, query)  # InfluxDatabase.query raises on any InfluxQL error


def test_device_offline_rule_fires_for_the_silent_device_only(influxdb_url: str) -> None:
    # Envelope points relative to the real clock, as the rule runs on now(): one device
    # stopped 40 minutes ago, one is live. The rule's reducer takes the last value per series.
    db = create_database(influxdb_url, "dashboards_offline")
    db.query("DROP SERIES FROM /.*/")
    now_ns = time.time_ns()
    lines = []
    for minute in range(120):
        # Minute starts, as the pipeline stamps coverage: one device has sent nothing for 40
        # minutes, two are live (one of them motion-only, with two streams).
        silent_ns, live_ns = now_ns - (40 + minute) * 60 * NS_PER_S, now_ns - (minute * 60 + 65) * NS_PER_S
        lines.append(f"coverage,patient=p01,device=silent,sensor=emg covered_s=60 {silent_ns}")
        lines.append(f"coverage,patient=p02,device=live,sensor=emg covered_s=60 {live_ns}")
        lines.append(f"coverage,patient=p03,device=imu,sensor=acc covered_s=60 {live_ns}")
        lines.append(f"coverage,patient=p03,device=imu,sensor=gyr covered_s=60 {live_ns}")
    post_lines(influxdb_url, db.name, "\n".join(lines).encode())
    rule = next(
        r
        for r in alert_rules(AlertThresholds(), ProvisioningSettings())
        if r["uid"] == "spasm-device-offline"
    )
    query = next(q for q in rule["data"] if q["refId"] == "A")
    start_ns = now_ns - query["relativeTimeRange"]["from"] * NS_PER_S
    last = {
        s["tags"]["device"]: s["values"][-1][1]
        for s in db.query(render(query["model"]["query"], {}, start_ns, now_ns))
    }
    assert last["silent"] == 0  # fires: $a <= 0
    assert last["live"] > 0
    assert last["imu"] > 0  # a motion-only wearable is seen as well


def test_alert_rules_see_the_seeded_data(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    rules = {r["uid"]: {q["refId"]: q["model"].get("query") for q in r["data"]} for r in alert_rules(
        AlertThresholds(), ProvisioningSettings())}  # fmt: skip
    tonic = [float(r.fields["duration_s"]) for r in events(records) if r.tags["kind"] == "tonic"]
    by_patient = {
        s["tags"]["patient"]: s["values"][0][1]
        for s in db.query(render(rules["spasm-tonic-prolonged"]["A"], {}))
    }
    assert by_patient["p01"] == pytest.approx(max(tonic))
    day = (DAY0_NS, DAY0_NS + DAY_NS)  # the spike rule's baseline: the observed hours' scores
    observed = {
        s["tags"]["patient"]: s["values"][0][1]
        for s in db.query(render(rules["spasm-rate-spike"]["O"], {}, *day))
    }
    hourly = [r for r in scores(records, "hour") if day[0] <= r.time_ns <= day[1]]
    assert observed["p01"] == len(hourly) > 0
    # The spike rule's last hour counts spasms as the report and the hourly score do (episodes
    # of the affected limb), not the EMG and IMU rows that reported them.
    nine = (DAY0_NS + 9 * HOUR_NS, DAY0_NS + 10 * HOUR_NS - 1)  # the 09:05 recording's hour
    last_hour = {
        s["tags"]["patient"]: s["values"][0][1]
        for s in db.query(render(rules["spasm-rate-spike"]["A"], {}, *nine))
    }
    [score] = [r for r in hourly if r.time_ns == nine[0]]
    rows = [r for r in events(records) if nine[0] <= r.time_ns <= nine[1]]
    assert (
        last_hour["p01"]
        == score.fields["spasms"]
        == len([r for r in spasms(records) if nine[0] <= r.onset_ns <= nine[1]])
    )
    assert 0 < last_hour["p01"] < len(rows)


RATE_PANEL_SOURCES = ('"spasm_event"', '"spasm_episode"', '"clinical_score"')


def test_no_spasm_panel_draws_unobserved_time_as_zero() -> None:
    # fill(0) turns an interval without data into "0 spasms": never on a spasm count or rate.
    queries = [q for qs in panel_queries(PATIENT).values() for q in qs] + list(cohort.QUERIES.values())
    spasm_queries = [q for q in queries if any(source in q for source in RATE_PANEL_SOURCES)]
    assert len(spasm_queries) >= 8
    assert [q for q in spasm_queries if "fill(0)" in q.replace(" ", "")] == []


def test_spasms_per_observed_hour_is_the_hourly_score_and_unobserved_hours_are_absent(
    loaded: tuple[InfluxDatabase, list[Record]],
) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Spasms per observed hour"]
    rates = by_time(run(db, query))
    hourly = {r.time_ns: r.fields for r in scores(records, "hour")}
    assert sorted(rates) == sorted(hourly)  # one bar per observed hour, no other
    for t, fields in hourly.items():
        assert rates[t] == pytest.approx(float(fields["spasms"]) * 3600 / float(fields["observed_s"]))
    assert DAY0_NS + 12 * HOUR_NS not in rates  # an unobserved hour: no data, not 0
    # A half-hour recording at 09:05: its hour holds 30 observed minutes, so a rate, not a count.
    nine = hourly[DAY0_NS + 9 * HOUR_NS]
    assert nine["observed_s"] == pytest.approx(RECORDING_S)
    merged = Counter(r.time_ns // HOUR_NS * HOUR_NS for r in events(records))
    assert sum(int(f["spasms"]) for f in hourly.values()) <= sum(merged.values())


def test_patient_variable_filters_the_rates(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Spasms per observed hour"]
    p02 = by_time(run(db, query, patient="p02"))
    assert sorted(p02) == sorted(r.time_ns for r in scores(records, "hour", "p02"))
    assert len(p02) > 0


def test_timeline_counts_each_spasm_type(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Spasm timeline by type"]
    per_kind = {s["tags"]["kind"]: sum(row[1] for row in s["values"]) for s in run(db, query)}
    assert {k: n for k, n in per_kind.items() if n} == dict(Counter(spasm_kind(r) for r in spasms(records)))


def test_daily_scores_are_the_clinical_scores_of_each_day(
    loaded: tuple[InfluxDatabase, list[Record]],
) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Daily Penn and Snow scores (EMG-derived)"]
    [series] = run(db, query)
    got = {row[0]: dict(zip(series["columns"][1:], row[1:], strict=True)) for row in series["values"]}
    days = {r.time_ns: r for r in scores(records, "day")}
    assert sorted(got) == sorted(days)
    for t, record in days.items():
        assert got[t] == {
            k: record.fields.get(k) for k in ("penn_frequency", "penn_severity", "snow_frequency")
        }
    # The seeded day: its spasms over its observed hours give a rate of 1 to 10 an hour, Penn 3.
    day0 = days[DAY0_NS]
    assert day0.fields["spasms"] == sum(
        1 for r in spasms(records) if DAY0_NS <= r.onset_ns < DAY0_NS + DAY_NS
    )
    assert day0.fields["observed_s"] == pytest.approx(3 * RECORDING_S)  # three half-hour recordings
    rate = int(day0.fields["spasms"]) * 3600 / float(day0.fields["observed_s"])
    assert day0.fields["spasms_per_h"] == pytest.approx(rate)
    assert got[DAY0_NS]["penn_frequency"] == (3 if rate <= 10 else 4)
    assert got[DAY0_NS]["snow_frequency"] is None  # 30 minutes observed: no 24-hour count


def test_day_night_split_is_the_clinical_day_night_count(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Day / night split"]
    [series] = run(db, query)
    got = {row[0]: (row[1], row[2]) for row in series["values"]}
    day0 = next(r for r in scores(records, "day") if r.time_ns == DAY0_NS)
    assert got[DAY0_NS] == (day0.fields["day_spasms"], day0.fields["night_spasms"])
    night = sum(1 for r in spasms(records) if DAY0_NS + 22 * HOUR_NS <= r.onset_ns < DAY0_NS + DAY_NS)
    assert got[DAY0_NS][1] == night > 0  # the 22:30 recording
    assert sum(got[DAY0_NS]) == day0.fields["spasms"]


@pytest.mark.parametrize(
    ("title", "field"),
    [("Spasm duration distribution", "duration_s"), ("Spasm intensity distribution", "peak_x_baseline")],
)
def test_distributions_hold_every_spasm(
    loaded: tuple[InfluxDatabase, list[Record]], title: str, field: str
) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)[title]
    values = sorted(row[1] for s in run(db, query) for row in s["values"] if row[1] is not None)
    expected = [getattr(row, field) for row in spasms(records)]
    assert values == pytest.approx(sorted(float(v) for v in expected if v is not None))


def test_clonus_trend_is_the_daily_mean_rhythm(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)["Clonus frequency trend"]
    clonus = [
        float(r.fields["clonus_hz"])
        for r in events(records)
        if "clonus_hz" in r.fields and r.time_ns >= DAY0_NS
    ]
    assert clonus
    assert by_time(run(db, query))[DAY0_NS] == pytest.approx(sum(clonus) / len(clonus))


def test_pre_post_panel_shows_the_reports_rates_per_observed_hour(
    loaded: tuple[InfluxDatabase, list[Record]],
) -> None:
    db, records = loaded
    [query] = panel_queries(PATIENT)[
        "Spasms per observed hour: 14 days before vs days 7–41 after each injection"
    ]
    [series] = run(db, query)
    row = dict(zip(series["columns"], series["values"][0], strict=True))
    # The same computation the report shows (monitor.clinical.pre_post_by_injection).
    [(_, expected)] = pre_post_by_injection(records, ZoneInfo("UTC"))
    assert row["time"] == expected.injection_ns
    assert (row["before_per_h"], row["after_per_h"]) == pytest.approx(
        (expected.pre_per_h, expected.post_per_h)
    )
    recording_h = RECORDING_S / 3600
    assert (row["pre_observed_h"], row["post_observed_h"]) == pytest.approx((recording_h, 3 * recording_h))
    before = sum(1 for r in spasms(records) if INJECTION_NS - 14 * DAY_NS <= r.onset_ns < INJECTION_NS)
    assert before > 0
    assert row["before_per_h"] == pytest.approx(before / recording_h)


def test_rom_and_repetitions_per_joint(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    rom = [r for r in records if r.measurement == "rom"]
    windows = [float(r.fields["range_deg"]) for r in rom if r.tags["period"] == "window"]
    days = [r for r in rom if r.tags["period"] == "day"]
    [rom_q] = panel_queries(PATIENT)["ROM per joint"]
    [series] = run(db, rom_q)
    assert series["tags"]["joint"] == "knee"
    assert max(row[1] for row in series["values"]) == pytest.approx(max(windows))
    [reps_q] = panel_queries(PATIENT)["Repetitions per joint per day"]
    assert by_time(run(db, reps_q))[DAY0_NS] == sum(int(r.fields["reps"]) for r in days) > 80
    [motion_q] = panel_queries(PATIENT)["Time in motion per day"]
    [motion] = run(db, motion_q)
    assert motion["tags"]["location"] == "shank"
    assert by_time([motion])[DAY0_NS] == pytest.approx(5.0)  # minutes turning at 50 deg/s
    [weekly_q] = panel_queries(PATIENT)["Weekly best ROM per joint (PT weeks)"]
    weekly_panel = max(row[1] for s in run(db, weekly_q) for row in s["values"])
    assert weekly_panel == pytest.approx(55, abs=6)
    # The dashboard and the report's weekly ROM (monitor.clinical) give the same number.
    [week] = weekly_rom(records, DAY0_NS)
    assert weekly_panel == pytest.approx(week.max_range_deg)


def test_signal_quality_and_connectivity(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    [gap_q] = panel_queries(PATIENT)["Connectivity gaps"]
    assert sum(v for v in by_time(run(db, gap_q)).values()) == pytest.approx(15.5)
    [sq_q] = panel_queries(PATIENT)["Electrode off and poor signal"]
    got = {s["tags"]["issue"]: sum(row[1] for row in s["values"]) for s in run(db, sq_q)}
    expected: Counter[str] = Counter()
    for r in records:
        if r.measurement == "signal_quality" and r.tags["patient"] == "p01" and r.time_ns >= RANGE[0]:
            expected[r.tags["issue"]] += float(r.fields["duration_s"])
    assert got == pytest.approx(dict(expected))
    [wear_q] = panel_queries(PATIENT)["Wear time per wearable"]
    wear = {(s["tags"]["device"], s["tags"]["sensor"]): by_time([s]) for s in run(db, wear_q)}
    assert wear[("p01-imu", "gyr")][DAY0_NS + 15 * HOUR_NS] == pytest.approx(100 * 20 / 60)
    assert wear[("p01-emg", "emg")][DAY0_NS + 9 * HOUR_NS] == pytest.approx(100 * RECORDING_S / 3600)
    assert sum(wear[("p01-imu", "gyr")].values()) == pytest.approx(100 * 20 / 60)  # that hour only
    [battery_q] = panel_queries(PATIENT)["Battery"]
    levels = [v for v in by_time(run(db, battery_q)).values() if v is not None]
    assert (levels[0], levels[-1]) == (80, 64)


def test_annotations_mark_botox_and_pt(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, _ = loaded
    notes = {}
    for annotation in PATIENT["annotations"]["list"]:
        target = annotation["target"]
        series = db.query(render(target["query"], {}, RANGE[0] - 30 * DAY_NS))
        columns = series[0]["columns"]
        notes[annotation["name"]] = [row[columns.index(target["textColumn"])] for row in series[0]["values"]]
    assert notes == {"Botox injections": ["gastrocnemius,soleus"], "PT sessions": ["calf stretch"]}


def test_variables_list_patients_and_their_locations(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, _ = loaded
    variables = {v["name"]: v["query"] for v in PATIENT["templating"]["list"] if v["type"] == "query"}
    assert [row[1] for row in run(db, variables["patient"])[0]["values"]] == ["p01", "p02"]
    assert [row[1] for row in run(db, variables["location"], patient="p02")[0]["values"]] == ["thigh"]


def test_cohort_row_per_patient(loaded: tuple[InfluxDatabase, list[Record]]) -> None:
    db, records = loaded
    day = (DAY0_NS, DAY0_NS + DAY_NS)
    rows: dict[str, dict[str, Any]] = {}
    for name, query in cohort.QUERIES.items():
        for s in db.query(render(query, {}, *day)):
            rows.setdefault(s["tags"]["patient"], {})[name] = s["values"][0]
    assert sorted(rows) == ["p01", "p02"]
    for pid in ("p01", "p02"):
        in_day = [r for r in events(records, pid) if day[0] <= r.time_ns <= day[1]]
        coverage = [r for r in records if r.measurement == "coverage" and r.tags["patient"] == pid]
        hourly = [r for r in scores(records, "hour", pid) if day[0] <= r.time_ns <= day[1]]
        observed_s = sum(float(r.fields["observed_s"]) for r in hourly)
        assert rows[pid]["spasms_per_h"][1] == pytest.approx(
            sum(int(r.fields["spasms"]) for r in hourly) * 3600 / observed_s
        )
        assert len(in_day) > 0
        assert rows[pid]["last_seen"][0] == max(r.time_ns for r in coverage if r.time_ns <= day[1])
        covered_s: Counter[tuple[str, str]] = Counter()  # per stream: the mean is over streams
        for r in coverage:
            if day[0] <= r.time_ns <= day[1]:
                covered_s[(r.tags["device"], r.tags["sensor"])] += float(r.fields["covered_s"])
        assert covered_s
        expected_pct = np.mean([100 * c / 86400 for c in covered_s.values()])
        assert rows[pid]["completeness_pct"][1] == pytest.approx(expected_pct)
    for pid in ("p01", "p02"):
        day0 = next(r for r in scores(records, "day", pid) if r.time_ns == DAY0_NS)
        assert rows[pid]["latest_scores"][1:] == [day0.fields["penn_frequency"], None]  # no day worn 8 h
    assert rows["p01"]["alerts"][1] == 1
    assert "alerts" not in rows["p02"]
    week_before = db.query(render(cohort.QUERIES["spasms_per_h_week_before"], {}, *day))
    assert week_before == []  # no observed hour in the 7 days before 2026-01-20: no data, not 0
    assert math.isfinite(rows["p01"]["completeness_pct"][1])


def report_of_day0(records: list[Record], patient_id: str = "p01") -> ReportData:
    """What the HTML report shows for the seeded day (monitor.report's own computation)."""
    mine = sorted((r for r in records if r.tags.get("patient") == patient_id), key=lambda r: r.time_ns)
    day = dt.date(2026, 1, 20)
    return gather(mine, patient=patient_id, zone=ZoneInfo("UTC"), start_date=day, end_date=day)


def test_every_spasm_count_panel_equals_the_reports_count_of_episodes(
    loaded: tuple[InfluxDatabase, list[Record]],
) -> None:
    db, records = loaded
    report = report_of_day0(records)
    day = (DAY0_NS, DAY0_NS + DAY_NS - 1)
    rows = [r for r in events(records) if DAY0_NS <= r.time_ns < DAY0_NS + DAY_NS]
    assert len(rows) >= 2 * report.spasms > 0  # EMG and IMU rows: twice the spasms, counted once
    panels = panel_queries(PATIENT)
    [timeline] = panels["Spasm timeline by type"]
    per_kind = {
        s["tags"]["kind"]: sum(row[1] for row in s["values"]) for s in db.query(render(timeline, {}, *day))
    }
    assert sum(per_kind.values()) == report.spasms
    assert {k: n for k, n in per_kind.items() if n} == {k.kind: k.count for k in report.kinds}
    assert "movement" not in per_kind  # each IMU jerk here is evidence of an EMG spasm
    [hourly] = panels["Spasms per observed hour"]
    observed_s = {r.time_ns: float(r.fields["observed_s"]) for r in scores(records, "hour")}
    rates = by_time(db.query(render(hourly, {}, *day)))
    in_hours = sum(rate * observed_s[t] / 3600 for t, rate in rates.items())
    assert in_hours == pytest.approx(report.spasms)
    [day_night] = panels["Day / night split"]
    [series] = run(db, day_night)
    got = {row[0]: (row[1], row[2]) for row in series["values"]}
    assert got[DAY0_NS] == (report.day_spasms, report.night_spasms)
    [durations] = panels["Spasm duration distribution"]
    got_s = sorted(row[1] for s in db.query(render(durations, {}, *day)) for row in s["values"])
    assert got_s == pytest.approx(sorted(report.durations_s))
    cohort_rate = {
        s["tags"]["patient"]: s["values"][0][1]
        for s in db.query(render(cohort.QUERIES["spasms_per_h"], {}, *day))
    }
    assert cohort_rate["p01"] == pytest.approx(report.spasms_per_h)


def test_a_limb_the_treatment_log_leaves_out_is_not_counted(
    loaded: tuple[InfluxDatabase, list[Record]], influxdb_url: str
) -> None:
    # The same spasms on the right leg, the injection on the left: the scores and the panels
    # count none of them, and the stored episodes still hold them (affected = false).
    _, records = loaded
    right = [
        Record(r.measurement, r.time_ns, r.fields, r.tags | {"side": "right"})
        for r in events(records)
        if DAY0_NS <= r.time_ns < DAY0_NS + DAY_NS
    ]
    botox = [r for r in records if r.measurement == "treatment" and r.tags.get("kind") == "botox"]
    observed = [r for r in records if r.measurement == "observation" and r.tags["patient"] == "p01"]
    stored = clinical_scores(right + botox + observed, tz="UTC") + episode_records(right + botox)
    db = create_database(influxdb_url, "dashboards_right_leg")
    db.query("DROP SERIES FROM /.*/")
    lines, _ = render_records(stored)
    post_lines(influxdb_url, db.name, "\n".join(f"{k} {f} {r.time_ns}" for r, k, f in lines).encode())
    [timeline] = panel_queries(PATIENT)["Spasm timeline by type"]
    assert run(db, timeline) == []  # no episode of an affected limb: no bar
    day = next(r for r in stored if r.measurement == "clinical_score" and r.tags["period"] == "day")
    assert day.fields["spasms"] == 0 < len(right)
    assert [r.fields["affected"] for r in stored if r.measurement == "spasm_episode"] == [False] * len(
        spasm_rows(right)
    )


def test_daily_panels_group_by_the_patients_local_day() -> None:
    # tz() makes InfluxDB's day buckets start at local midnight: built for New York, the
    # day of the 15:00 UTC movement starts at 05:00 UTC.
    model = json.loads(dashboard_json(patient.build("America/New_York")))
    tz_variable = next(v for v in model["templating"]["list"] if v["name"] == "tz")
    assert tz_variable["query"] == "America/New_York"
    assert model["timezone"] == "America/New_York"
    daily = [q for q in all_queries(model) if "time(1d)" in q or "time(7d)" in q]
    assert daily
    assert all("tz('$tz')" in q for q in daily)


def test_time_in_motion_days_are_local_days_on_influxdb_1_6(
    loaded: tuple[InfluxDatabase, list[Record]],
) -> None:
    db, _ = loaded
    [motion_q] = panel_queries(PATIENT)["Time in motion per day"]
    utc = {t: v for t, v in by_time(run(db, motion_q)).items() if v}
    new_york = {t: v for t, v in by_time(run(db, motion_q, tz="America/New_York")).items() if v}
    assert utc == {DAY0_NS: pytest.approx(5.0)}
    assert new_york == {DAY0_NS + 5 * HOUR_NS: pytest.approx(5.0)}  # local midnight, EST = UTC-5
