"""The Grafana spike rule decides as the home engine does, on the same spasms and observed hours.

Its queries run on the real InfluxDB 1.6.7 over the clinical scores and events the pipeline
writes. Grafana itself cannot run here, so its server-side expressions are done in the test:
each query's series reduced as the rule says, then the rule's math expression evaluated with
Python operators. That evaluation is the only test double.
"""

from __future__ import annotations

import asyncio
import re
from itertools import count

import numpy as np
import pytest
from conftest import InfluxDatabase, create_database

from dashboards.alert_rules import alert_rules
from dashboards.provisioning import ProvisioningSettings
from monitor.alerts.spike import SpikeBaseline, SpikeCheck
from monitor.alerts.thresholds import AlertThresholds
from monitor.clinical import clinical_scores
from monitor.store import InfluxV1Writer
from monitor.store.line_protocol import render_records
from monitor.types import NS_PER_S, Record

HOUR_NS = 3600 * NS_PER_S
NOW_NS = 1_768_867_200 * NS_PER_S + 1800 * NS_PER_S  # 2026-01-20T00:30:00Z, the rule's "now"
_databases = count()


def _history(seed: int, observed_h: int, burst: int) -> list[Record]:
    """Observed hours with ~2 spasms each (some hours unworn), then ``burst`` in the last 50 min."""
    rng = np.random.default_rng(seed)
    p = {"patient": "p01"}
    tonic = p | {"kind": "tonic"}
    records: list[Record] = []
    first_hour = NOW_NS // HOUR_NS - observed_h  # within the 7-day baseline: no edge hour
    for hour in range(first_hour, NOW_NS // HOUR_NS + 1):
        if rng.random() < 0.2 and hour < NOW_NS // HOUR_NS - 2:
            continue  # not worn this hour: unknown, not calm
        start, end = hour * HOUR_NS, min((hour + 1) * HOUR_NS, NOW_NS)
        records.append(Record("observation", start, {"duration_s": (end - start) / NS_PER_S}, p))
        onsets = rng.uniform(start, end, rng.poisson(2.0))
        records += [Record("spasm_event", int(t), {"duration_s": 2.0}, tonic) for t in onsets]
    burst_onsets = np.linspace(NOW_NS - 50 * 60 * NS_PER_S, NOW_NS, burst) if burst else []
    records += [Record("spasm_event", int(t), {"duration_s": 2.0}, tonic) for t in burst_onsets]
    return sorted(records, key=lambda r: r.time_ns)


def _home_checks(records: list[Record], thresholds: AlertThresholds) -> list[tuple[int, SpikeCheck]]:
    """The home engine's check at each spasm, up to the first that fires (it then starts anew)."""
    baseline = SpikeBaseline(thresholds)
    checks = []
    for r in records:
        if r.measurement == "observation":
            t = r.time_ns
            while t < r.time_ns + round(float(r.fields["duration_s"]) * NS_PER_S):
                baseline.observe(t)  # the engine marks an hour observed by any record in it
                t += HOUR_NS
            continue
        check = baseline.spasm(r.time_ns, r.time_ns + 2 * NS_PER_S)
        if check is not None:
            checks.append((r.time_ns, check))
            if check.fired:
                break
    return checks


def _grafana_decision(
    db: InfluxDatabase, rule: dict[str, object], now_ns: int
) -> tuple[bool, dict[str, float]]:
    """The rule evaluated at ``now_ns``: its queries on InfluxDB, its expressions in Python."""
    values: dict[str, float] = {}
    data = {q["refId"]: q for q in rule["data"]}  # type: ignore[attr-defined]
    for ref_id, query in data.items():
        model = query["model"]
        if model.get("type") != "reduce":
            continue
        source = data[model["expression"]]
        span = source["relativeTimeRange"]
        start_ms = (now_ns - span["from"] * NS_PER_S) // 1_000_000
        end_ms = (now_ns - span["to"] * NS_PER_S) // 1_000_000
        time_filter = f"time >= {start_ms}ms and time <= {end_ms}ms"
        influxql = source["model"]["query"].replace("$timeFilter", time_filter)
        series = db.query(influxql)
        if not series:
            return False, values  # no series for the patient: Grafana's math has nothing to alert on
        column = [row[1] for s in series for row in s["values"]]
        values[ref_id] = float(sum(column) if model["reducer"] == "sum" else column[-1])
    condition = data["C"]["model"]["expression"]
    python = re.sub(r"\$(\w+)", lambda m: repr(values[m.group(1)]), condition).replace("&&", " and ")
    return bool(eval(python)), values  # the rule's own arithmetic on numbers


@pytest.mark.parametrize(
    ("seed", "observed_h", "burst", "fires"),
    [
        (1, 100, 14, True),  # a clear spike over a week of ~2/h
        (2, 100, 3, False),  # an ordinary hour
        (3, 100, 7, None),  # near the threshold: both must agree, whichever way
        (4, 12, 14, False),  # too few observed hours for a baseline yet
    ],
)
def test_grafana_spike_rule_agrees_with_the_home_engine(
    influxdb_url: str, seed: int, observed_h: int, burst: int, fires: bool | None
) -> None:
    thresholds = AlertThresholds()
    records = _history(seed, observed_h, burst)
    scores = clinical_scores(records, "UTC")
    db = create_database(influxdb_url, f"spike_rule_{next(_databases)}_{seed}")
    rows, _ = render_records([r for r in records if r.measurement == "spasm_event"] + scores)
    body = "\n".join(f"{series} {fields} {r.time_ns}" for r, series, fields in rows).encode()

    async def write() -> None:
        writer = InfluxV1Writer(influxdb_url, db.name)
        await writer.write(body)
        await writer.close()

    asyncio.run(write())
    rule = next(r for r in alert_rules(thresholds, ProvisioningSettings()) if r["uid"] == "spasm-rate-spike")
    # Grafana evaluates every minute; the burst's spasms are the moments its decision may
    # change. Up to the home engine's first alert, both decide alike at each of them.
    burst = [(t, check) for t, check in _home_checks(records, thresholds) if t >= NOW_NS - HOUR_NS]
    assert burst
    for onset_ns, check in burst:
        # Evaluated 1 ms after the spasm (Grafana's time filter is in whole ms).
        grafana_fires, values = _grafana_decision(db, rule, onset_ns + 1_000_000)
        assert grafana_fires == check.fired, (onset_ns, check, values)
        if observed_h >= thresholds.spike_min_baseline_h:
            # The same baseline (the mean over the observed hours) and the same last-hour count.
            assert values["s"] / values["o"] == pytest.approx(check.baseline_mean)
            assert values["a"] == check.count
    if fires is not None:
        assert burst[-1][1].fired is fires
