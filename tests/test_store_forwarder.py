"""The forwarder against real servers: exact read-back over v1 and v2, no duplicates, refusals."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from monitor.backoff import Backoff
from monitor.store import (
    SENT,
    SET_ASIDE,
    Forwarder,
    InfluxV1Writer,
    InfluxV2Writer,
    NumericSeries,
    Spool,
)
from monitor.store.schema import spasm_event_record
from monitor.types import Record, SpasmEvent

T0_NS = 1_767_225_600_123_456_789  # odd ns: any rounding on the way shows
FAST = Backoff(first_s=0.05, max_s=0.5)


def pipeline_records(n_envelope: int = 2000) -> tuple[list[Record], NumericSeries]:
    """What the DSP emits for one patient: events, quality, gaps, ROM, plus an envelope series."""
    tags = {"patient": "p01", "device": "cf12", "muscle": "gastrocnemius", "side": "left"}
    records = [
        spasm_event_record(SpasmEvent(
            T0_NS + i * 7_000_000_001, T0_NS + i * 7_000_000_001 + 1_234_567_891, "clonus", 0,
            peak_mv=0.4 + i / 1000, mean_mv=0.21, peak_x_baseline=12.5, mean_x_baseline=6.25,
            baseline_mv=0.032, area_mv_s=0.3, clonus_hz=6.1,
        ), tags)
        for i in range(50)
    ]  # fmt: skip
    records += [
        Record("signal_quality", T0_NS + 3, {"duration_s": 4.5, "offset_ns": T0_NS + 4_500_000_003},
               {**tags, "issue": "electrode_off", "channel": "1"}),
        Record("imu_gap", T0_NS + 11, {"duration_s": 0.75}, {**tags, "joint": "knee"}),
        Record("rom", T0_NS, {"min_deg": -3.5, "max_deg": 97.25, "range_deg": 100.75, "reps": 12},
               {**tags, "joint": "knee", "period": "window"}),
        Record("alert", T0_NS + 13, {"rule": 'rate > baseline + 3σ "hourly"', "fired": True}, tags),
    ]  # fmt: skip
    rng = np.random.default_rng(7)
    envelope = NumericSeries(
        "emg_envelope",
        T0_NS + np.arange(n_envelope, dtype=np.int64) * 100_000_000,
        {"rms_mv": rng.gamma(2.0, 0.02, n_envelope), "baseline_mv": rng.gamma(4.0, 0.005, n_envelope)},
        {**tags, "channel": "0"},
    )
    return records, envelope


async def _forward(spool_path: Path, writer: Any, batch_points: int = 500) -> Forwarder:
    forwarder = Forwarder(spool_path, writer, batch_points=batch_points, backoff=FAST, seed=1)
    await asyncio.wait_for(forwarder.drain(), timeout=60)
    await forwarder.close()
    return forwarder


def _influx_records(db: Any, measurement: str) -> list[Record]:
    """Every point of a measurement, as Records, from InfluxQL (tags via GROUP BY *)."""
    records = []
    for series in db.query(f'SELECT * FROM "{measurement}" GROUP BY *'):
        for row in series["values"]:
            values = dict(zip(series["columns"], row, strict=True))
            time_ns = values.pop("time")
            fields = {k: v for k, v in values.items() if v is not None}
            records.append(Record(measurement, time_ns, fields, series["tags"]))
    return records


def _normalised(records: list[Record]) -> list[tuple[int, dict[str, str], dict[str, Any]]]:
    """Floats as floats (InfluxDB's JSON writes 2.0 as 2), sorted by time and tags."""
    out = [
        (r.time_ns, r.tags, {k: float(v) if type(v) is int else v for k, v in r.fields.items()})
        for r in records
    ]
    return sorted(out, key=lambda t: (t[0], sorted(t[1].items())))


async def test_v1_reads_back_exactly_what_the_pipeline_wrote(tmp_path: Path, influx_db: Any) -> None:
    records, envelope = pipeline_records()
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(records)
        spool.append_series(envelope)
    forwarder = await _forward(path, InfluxV1Writer(influx_db.url, influx_db.name))
    assert forwarder.stats.sent_points == len(records) + len(envelope)
    with Spool(path) as spool:
        assert spool.count(SENT) == spool.count()
        for measurement in ("spasm_event", "signal_quality", "imu_gap", "rom", "alert", "emg_envelope"):
            local = spool.query(0, 2**62, measurement=measurement)
            remote = _influx_records(influx_db, measurement)
            # Integers stay integers in InfluxDB; compare the rest as floats (JSON drops ".0").
            assert _normalised(remote) == _normalised(local), measurement
    # Integer fields keep their type (offset_ns is an exact ns integer).
    (row,) = influx_db.query(f"SELECT offset_ns FROM spasm_event WHERE time = {records[0].time_ns}")[0][
        "values"
    ]
    assert row == [records[0].time_ns, records[0].fields["offset_ns"]]


async def test_a_batch_sent_twice_makes_no_duplicates(tmp_path: Path, influx_db: Any) -> None:
    _, envelope = pipeline_records(3000)
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append_series(envelope)
    await _forward(path, InfluxV1Writer(influx_db.url, influx_db.name))
    with Spool(path) as spool:
        spool.resend_all()  # as after a crash between the server's ack and our mark
    again = await _forward(path, InfluxV1Writer(influx_db.url, influx_db.name), batch_points=700)
    assert again.stats.sent_points == 3000
    assert influx_db.count("emg_envelope", "rms_mv") == 3000


async def test_a_refused_batch_does_not_block_the_batches_after_it(tmp_path: Path, influx_db: Any) -> None:
    # InfluxDB answers 400 "field type conflict" to a float where an integer was first written.
    urllib.request.urlopen(
        urllib.request.Request(
            f"{influx_db.url}/write?db={influx_db.name}", data=b"rom reps=1i 1", method="POST"
        )
    ).close()
    good = [Record("rom", T0_NS + i, {"reps": i}, {"patient": "p01"}) for i in range(1000)]
    bad = [Record("rom", T0_NS + 5000 + i, {"reps": 0.5}, {"patient": "p01"}) for i in range(2)]
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(good[:400] + bad[:1] + good[400:700] + bad[1:] + good[700:])
    forwarder = await _forward(path, InfluxV1Writer(influx_db.url, influx_db.name), batch_points=250)
    assert forwarder.stats.set_aside_points == 2
    assert influx_db.count("rom", "reps") == 1000 + 1  # every good point, plus the first one
    with Spool(path) as spool:
        aside = spool.set_aside_points()
        assert [a.status for a in aside] == [400, 400]
        assert all("field type conflict" in a.error for a in aside)
        assert [a.line.rsplit(" ", 1)[1] for a in aside] == [str(T0_NS + 5000), str(T0_NS + 5001)]
        assert spool.count(SET_ASIDE) == 2
        assert spool.next_batch(10) is None  # nothing left queued behind them


def _vm_export(url: str, metric_regex: str) -> list[dict[str, Any]]:
    urllib.request.urlopen(url + "/internal/force_flush").close()
    query = urllib.parse.urlencode({"match[]": f'{{__name__=~"{metric_regex}"}}'})
    with urllib.request.urlopen(f"{url}/api/v1/export?{query}") as response:
        return [json.loads(line) for line in response.read().splitlines() if line.strip()]


async def test_v2_writes_read_back_exactly_from_victoria_metrics(tmp_path: Path, victoria_url: str) -> None:
    # VictoriaMetrics keeps ms and about 12 significant digits (its own storage, not ours),
    # so this test's times are whole ms and its values have µV resolution; numbers only.
    patient = f"v2-{time.time_ns()}"  # a tag value of its own: VictoriaMetrics has no databases
    t0_ms = 1_767_225_600_123
    n = 1500
    rng = np.random.default_rng(3)
    rms = np.round(rng.gamma(2.0, 0.02, n), 6)
    series = NumericSeries(
        "emg_envelope",
        (t0_ms + np.arange(n, dtype=np.int64) * 100) * 1_000_000,
        {"rms_mv": rms},
        {"patient": patient, "channel": "0"},
    )
    events = [
        Record("spasm_event", (t0_ms + 7 * i) * 1_000_000, {"duration_s": 1.5 + i, "offset_ns": 10**18 + i},
               {"patient": patient, "kind": "tonic"})
        for i in range(20)
    ]  # fmt: skip
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append_series(series)
        spool.append(events)
    forwarder = await _forward(path, InfluxV2Writer(victoria_url, "home", "spasm", token="unused-by-vm"))
    assert forwarder.stats.sent_points == n + 20
    exported = {
        e["metric"]["__name__"]: e
        for e in _vm_export(victoria_url, "(emg_envelope|spasm_event)_.*")
        if e["metric"].get("patient") == patient
    }
    envelope = exported["emg_envelope_rms_mv"]
    assert envelope["metric"] == {"__name__": "emg_envelope_rms_mv", "patient": patient, "channel": "0"}
    assert envelope["timestamps"] == (t0_ms + np.arange(n) * 100).tolist()  # each once: no duplicates
    assert envelope["values"] == rms.tolist()
    duration = exported["spasm_event_duration_s"]
    assert duration["values"] == [1.5 + i for i in range(20)]
    assert duration["timestamps"] == [t0_ms + 7 * i for i in range(20)]


class StubServer:
    """A local HTTP server answering /write from a script of (status, headers) replies."""

    def __init__(self, replies: list[tuple[int, dict[str, str]]]) -> None:
        self.replies = replies
        self.request_times_s: list[float] = []
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.request_times_s.append(time.monotonic())
        body = await request.read()
        status, headers = self.replies.pop(0) if self.replies else (204, {})
        if status == 204:
            self.bodies.append(body)
        return web.Response(status=status, headers=headers, text="" if status == 204 else "busy")


@pytest.fixture
async def stub() -> AsyncIterator[tuple[StubServer, str]]:
    server = StubServer([])
    app = web.Application()
    app.router.add_post("/write", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield server, f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(tmp_path: Path, stub: tuple[StubServer, str], status: int) -> None:
    server, url = stub
    server.replies = [(status, {"Retry-After": "1"}), (500, {})]
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append([Record("gap", T0_NS, {"duration_s": 2.0}, {"patient": "p01"})])
    forwarder = await _forward(path, InfluxV1Writer(url, "spasm"))
    waits_s = np.diff(server.request_times_s)
    assert len(server.request_times_s) == 3
    assert waits_s[0] >= 1.0  # the server's Retry-After, not our 0.05 s first backoff
    assert waits_s[1] < 0.5  # a 500 without Retry-After: our own (short, jittered) backoff
    assert server.bodies == [f"gap,patient=p01 duration_s=2.0 {T0_NS}".encode()]
    assert forwarder.stats.retries == 2


async def test_access_errors_keep_the_data_queued(tmp_path: Path, stub: tuple[StubServer, str]) -> None:
    server, url = stub
    server.replies = [(401, {}), (404, {})]
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append([Record("gap", T0_NS, {"duration_s": 2.0}, {"patient": "p01"})])
    forwarder = Forwarder(
        path,
        InfluxV1Writer(url, "spasm", username="u", password="secret"),
        backoff=Backoff(first_s=0.05, max_s=0.5),
        access_error_s=0.1,
    )
    assert "secret" not in repr(forwarder.writer)
    await asyncio.wait_for(forwarder.drain(), timeout=10)
    await forwarder.close()
    assert forwarder.stats.set_aside_points == 0
    assert len(server.bodies) == 1
