"""The Grafana spike rule decides as the home engine does, on the same spasms and observed hours.

Its queries run on the real InfluxDB 1.6.7 over what a gateway forwards: the detector's
``spasm_event`` rows (one per EMG channel and wearable: here three per spasm) beside the
``clinical_score`` and ``spasm_episode`` records ``monitor.clinical`` stores. No Grafana server
can be installed here, so this test is Grafana's double for the rest: each query's series reduced
as the rule says, then the rule's math expression evaluated with Python operators, and an input
without any series giving the rule's no-data state. That evaluation is the only test double.
"""

from __future__ import annotations

import asyncio
import re
from itertools import count
from typing import Any

import numpy as np
import pytest
from conftest import InfluxDatabase, create_database

from dashboards.alert_rules import alert_rules
from dashboards.provisioning import ProvisioningSettings
from monitor.alerts.spike import SpikeBaseline, SpikeCheck
from monitor.alerts.thresholds import AlertThresholds
from monitor.clinical import clinical_scores
from monitor.clinical.events import episode_records
from monitor.store import InfluxV1Writer
from monitor.store.line_protocol import render_records
from monitor.types import NS_PER_S, Record

HOUR_NS = 3600 * NS_PER_S
NOW_NS = 1_768_867_200 * NS_PER_S + 1800 * NS_PER_S  # 2026-01-20T00:30:00Z, the burst's end
LEFT = {"patient": "p01", "side": "left"}
_databases = count()


def _spasm_rows(onset_ns: int) -> list[Record]:
    """One spasm of the left leg as the detectors report it: two EMG channels and the shank IMU."""
    emg = LEFT | {"device": "emg-l", "location": "calf", "kind": "tonic"}
    return [
        Record("spasm_event", onset_ns, {"duration_s": 2.0}, emg | {"channel": "0"}),
        Record("spasm_event", onset_ns + NS_PER_S // 10, {"duration_s": 1.8}, emg | {"channel": "1"}),
        Record("spasm_event", onset_ns + NS_PER_S // 5, {"duration_s": 0.4},
               LEFT | {"device": "imu-l", "location": "shank", "kind": "movement"}),
    ]  # fmt: skip


def _history(seed: int, observed_h: int, burst: int) -> list[Record]:
    """Observed hours with ~1 spasm each (every fifth hour unworn), then ``burst`` in 50 min.

    The left leg was injected (so it is the affected limb the scores count).
    """
    rng = np.random.default_rng(seed)
    first_hour = NOW_NS // HOUR_NS - observed_h  # within the 7-day baseline: no edge hour
    botox = Record("treatment", (first_hour - 24) * HOUR_NS, {"dose_u": 100.0},
                   {"patient": "p01", "kind": "botox", "side": "left"})  # fmt: skip
    records = [botox]
    for hour in range(first_hour, NOW_NS // HOUR_NS + 1):
        if hour % 5 == 0 and hour < NOW_NS // HOUR_NS - 2:
            continue  # not worn this hour (every fifth): unknown, not calm
        start, end = hour * HOUR_NS, min((hour + 1) * HOUR_NS, NOW_NS)
        records.append(Record("observation", start, {"duration_s": (end - start) / NS_PER_S}, LEFT))
        # Onsets at least 10 s apart (and from the hour's end): each is a spasm of its own.
        slots = rng.choice(np.arange(start, end - 10 * NS_PER_S, 10 * NS_PER_S), rng.poisson(1.0), False)
        records += [row for onset in slots for row in _spasm_rows(int(onset))]
    for onset in np.linspace(NOW_NS - 50 * 60 * NS_PER_S, NOW_NS - 10 * NS_PER_S, burst):
        records += _spasm_rows(int(onset))
    return sorted(records, key=lambda r: r.time_ns)


def _home_checks(records: list[Record], thresholds: AlertThresholds) -> list[tuple[int, SpikeCheck]]:
    """The home engine's check at each spasm, up to the first that fires (it then starts anew)."""
    baseline = SpikeBaseline(thresholds)
    checks = []
    for r in records:
        if r.measurement == "observation":
            baseline.observe(r.time_ns)  # the engine marks an hour observed by any record in it
        elif r.measurement == "spasm_event":
            # As AlertEngine._spasm feeds it: a row of an open episode of the limb returns None.
            offset_ns = r.time_ns + round(float(r.fields["duration_s"]) * NS_PER_S)
            check = baseline.spasm(r.time_ns, offset_ns, r.tags["side"])
            if check is not None:
                checks.append((r.time_ns, check))
                if check.fired:
                    break
    return checks


def _grafana_state(db: InfluxDatabase, rule: dict[str, Any], now_ns: int) -> tuple[str, dict[str, float]]:
    """The rule evaluated at ``now_ns``: its queries on InfluxDB, its expressions in Python.

    Returns Grafana's state (``Alerting``, ``Normal``, or the rule's no-data state when an input
    has no series: the math expression then has nothing to evaluate) and the reduced values.
    """
    values: dict[str, float] = {}
    data = {q["refId"]: q for q in rule["data"]}
    for ref_id, query in data.items():
        model = query["model"]
        if model.get("type") != "reduce":
            continue
        source = data[model["expression"]]
        series = db.query(_rendered(source, now_ns))
        if not series:
            return str(rule["noDataState"]), values
        column = [row[1] for s in series for row in s["values"]]
        values[ref_id] = float(sum(column) if model["reducer"] == "sum" else column[-1])
    condition = data["C"]["model"]["expression"]
    python = re.sub(r"\$(\w+)", lambda m: repr(values[m.group(1)]), condition).replace("&&", " and ")
    return ("Alerting" if eval(python) else "Normal"), values  # the rule's own arithmetic on numbers


def _rendered(query: dict[str, Any], now_ns: int) -> str:
    """A rule query's InfluxQL with ``$timeFilter`` as Grafana fills it (whole ms) at ``now_ns``."""
    span = query["relativeTimeRange"]
    start_ms = (now_ns - span["from"] * NS_PER_S) // 1_000_000
    end_ms = (now_ns - span["to"] * NS_PER_S) // 1_000_000
    influxql: str = query["model"]["query"]
    return influxql.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")


def _load(influxdb_url: str, name: str, records: list[Record]) -> InfluxDatabase:
    """The rows a gateway forwards, and what ``score_spool`` stores beside them."""
    stored = clinical_scores(records, "UTC") + episode_records(records)
    db = create_database(influxdb_url, name)
    rows, _ = render_records([r for r in records if r.measurement == "spasm_event"] + stored)
    body = "\n".join(f"{series} {fields} {r.time_ns}" for r, series, fields in rows).encode()

    async def write() -> None:
        writer = InfluxV1Writer(influxdb_url, db.name)
        await writer.write(body)
        await writer.close()

    asyncio.run(write())
    return db


@pytest.mark.parametrize(
    ("seed", "observed_h", "burst", "fires", "rows_would_fire"),
    [
        (1, 100, 14, True, True),  # a clear spike over a week of ~2/h
        (2, 100, 3, False, True),  # an ordinary hour: its 9 rows would have crossed the bar
        (3, 100, 5, None, True),  # near the threshold: both must agree, whichever way
        (4, 12, 14, False, False),  # too few observed hours for a baseline yet
    ],
)
def test_grafana_spike_rule_agrees_with_the_home_engine(
    influxdb_url: str, seed: int, observed_h: int, burst: int, fires: bool | None, rows_would_fire: bool
) -> None:
    thresholds = AlertThresholds()
    records = _history(seed, observed_h, burst)
    db = _load(influxdb_url, f"spike_rule_{next(_databases)}_{seed}", records)
    rule = next(r for r in alert_rules(thresholds, ProvisioningSettings()) if r["uid"] == "spasm-rate-spike")
    [last_hour] = [q for q in rule["data"] if q["refId"] == "A"]
    observed_hours = {r.time_ns // HOUR_NS for r in records if r.measurement == "observation"}
    # Grafana evaluates every minute; the spasms are the moments its decision may change. Up
    # to the home engine's first alert, both decide alike at each of them.
    checks = _home_checks(records, thresholds)
    onsets = sorted(r.time_ns for r in records if r.tags.get("channel") == "0")
    # The home engine checks once per spasm (its first row), not per row.
    assert [t for t, _ in checks] == onsets[: len(checks)]
    rows_crossed = False
    for onset_ns, check in checks:
        # Evaluated 1 ms after the spasm (Grafana's time filter is in whole ms).
        state, values = _grafana_state(db, rule, onset_ns + 1_000_000)
        # The baseline's hours: the observed ones only, ending an hour before the last began.
        baseline_h = sum(1 for h in observed_hours if h < onset_ns // HOUR_NS - 1)
        # No observed hour before the last yet: no data, which leaves the rule OK.
        expected = "Alerting" if check.fired else "Normal" if baseline_h else "OK"
        assert state == expected, (onset_ns, check, values)
        # The last hour's spasms: episodes, one per spasm however many rows reported it.
        assert values["a"] == check.count
        if baseline_h:
            assert values["o"] == baseline_h
        if baseline_h >= thresholds.spike_min_baseline_h:
            assert values["s"] / values["o"] == pytest.approx(check.baseline_mean)
        # The spasm_event rows of the same hour (taken once the spasm's last row is in): three a spasm.
        rows_query = _rendered(last_hour, onset_ns + NS_PER_S).replace('"spasm_episode"', '"spasm_event"')
        rows = sum(s["values"][0][1] for s in db.query(rows_query.replace('"affected" = true AND ', "")))
        assert rows == 3 * check.count
        rows_crossed |= rows >= check.threshold and not check.fired
    # The unworn hours are absent from the baseline, not calm hours in it.
    assert len(observed_hours) < NOW_NS // HOUR_NS - min(observed_hours) + 1
    last_ns, last = checks[-1]
    assert last_ns >= NOW_NS - HOUR_NS  # the history before the burst raised no alert
    if fires is not None:
        assert last.fired is fires
    # Counting rows instead would have alerted where the home engine does not.
    assert rows_crossed is rows_would_fire


def test_no_episode_in_the_last_hour_is_no_data_and_the_rule_stays_ok(influxdb_url: str) -> None:
    records = _history(5, 100, 14)
    db = _load(influxdb_url, f"spike_rule_{next(_databases)}_quiet", records)
    rule = next(
        r for r in alert_rules(AlertThresholds(), ProvisioningSettings()) if r["uid"] == "spasm-rate-spike"
    )
    # Three hours after the last record: the baseline is there, the last hour has nothing.
    state, values = _grafana_state(db, rule, NOW_NS + 3 * HOUR_NS)
    assert state == "OK"
    assert "a" not in values
