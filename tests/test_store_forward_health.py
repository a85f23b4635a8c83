"""Forwarding health: refused points stay local and can be sent again, a hung server does not
hold the stop, and a stalled forwarder raises an alert."""

from __future__ import annotations

import asyncio
import textwrap
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.alerts import FORWARD_STALLED, AlertEngine, AlertService, AlertThresholds
from monitor.backoff import Backoff
from monitor.cli import main
from monitor.config.alerts import read_alerts
from monitor.errors import ConfigError
from monitor.report import build_report
from monitor.store import PENDING, SET_ASIDE, Forwarder, InfluxV1Writer, Spool, store_status
from monitor.store.schema import spasm_event_record
from monitor.types import Record, SpasmEvent

T0_NS = 1_767_225_600_123_456_789
HOUR_NS = 3600 * 10**9
FAST = Backoff(first_s=0.05, max_s=0.5)


def _events(n: int) -> list[Record]:
    tags = {"patient": "p01", "device": "cf12"}
    return [
        spasm_event_record(SpasmEvent(T0_NS + i * 10**10, T0_NS + i * 10**10 + 10**9, "tonic", 0), tags)
        for i in range(n)
    ]


def _influxql(db: Any, statement: str) -> None:
    data = urllib.parse.urlencode({"q": statement, "db": db.name}).encode()
    urllib.request.urlopen(db.url + "/query", data=data, timeout=30).close()


def _config(tmp_path: Path, spool: Path, db: Any) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        textwrap.dedent(f"""
        [patient]
        id = "p01"
        [[device]]
        profile = "reference"
        address = "C0:00:00:00:00:01"
        placement = "calf"
        side = "left"
        muscle = "gastrocnemius"
        [store]
        spool_path = "{spool}"
        [store.influx]
        version = "1"
        url = "{db.url}"
        database = "{db.name}"
        """)
    )
    return path


async def test_refused_points_stay_in_the_report_and_store_retry_sends_them_after_the_fix(
    tmp_path: Path, influx_db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    db = influx_db
    # The server already holds duration_s as a string: every float duration_s is refused (400).
    request = urllib.request.Request(
        f"{db.url}/write?db={db.name}", data=f'spasm_event duration_s="long" {T0_NS}'.encode(), method="POST"
    )
    urllib.request.urlopen(request).close()
    _influxql(db, f'DELETE FROM "spasm_event" WHERE time = {T0_NS}')  # the data point goes, the type stays
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append([*_events(20), Record("observation", T0_NS, {"duration_s": 3600.0}, {"patient": "p01"})])
    forwarder = Forwarder(path, InfluxV1Writer(db.url, db.name), batch_points=8, backoff=FAST, seed=1)
    await asyncio.wait_for(forwarder.drain(), timeout=60)
    await forwarder.close()
    assert forwarder.stats.set_aside_points == 20
    assert "points refused" in forwarder.stats.health(time.time_ns())

    assert build_report(path, patient="p01").spasms == 20  # not "0 spasms"

    assert await asyncio.to_thread(main, ["store", "status", "--spool", str(path)]) == 0
    out = capsys.readouterr().out
    assert "queued 0  sent 1  set aside 20" in out
    assert "set aside, field type conflict (HTTP 400): 20" in out
    assert "last forwarding error" in out
    assert "field type conflict" in out.split("last forwarding error", 1)[1]

    _influxql(db, 'DROP MEASUREMENT "spasm_event"')  # the server is fixed
    config = _config(tmp_path, path, db)
    assert await asyncio.to_thread(main, ["store", "retry", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "20 set-aside points queued again" in out
    assert "sent 20 points, 0 refused again; 0 still queued" in out
    assert db.count("spasm_event", "duration_s") == 20
    with Spool(path, read_only=True) as spool:
        assert spool.count(SET_ASIDE) == spool.count(PENDING) == 0
        assert len(spool.query(0, 2**62, measurement="spasm_event")) == 20  # each once


async def test_points_beyond_retention_are_named_and_sent_once_the_policy_allows_them(
    tmp_path: Path, influx_db: Any
) -> None:
    db = influx_db
    _influxql(db, f'CREATE RETENTION POLICY "hour" ON "{db.name}" DURATION 1h REPLICATION 1')
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(_events(5))  # months old: beyond a 1 h policy
    writer = InfluxV1Writer(db.url, db.name, retention_policy="hour")
    forwarder = Forwarder(path, writer, backoff=FAST, seed=1)
    await asyncio.wait_for(forwarder.drain(), timeout=60)
    await forwarder.close()
    with Spool(path, read_only=True) as spool:
        assert store_status(spool).set_aside_by_reason == {"beyond retention policy (HTTP 400)": 5}
    _influxql(db, f'ALTER RETENTION POLICY "hour" ON "{db.name}" DURATION INF')
    with Spool(path) as spool:
        assert spool.requeue_set_aside() == 5
    forwarder = Forwarder(path, InfluxV1Writer(db.url, db.name, retention_policy="hour"), backoff=FAST)
    await asyncio.wait_for(forwarder.drain(), timeout=60)
    await forwarder.close()
    assert forwarder.stats.sent_points == 5
    assert db.query('SELECT count("duration_s") FROM "hour"."spasm_event"')[0]["values"][0][1] == 5


async def test_stop_returns_within_10_s_with_a_hung_influxdb_and_the_data_stays_queued(
    tmp_path: Path,
) -> None:
    received, hang = asyncio.Event(), asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set()  # a server that accepts the request and never answers it
        await hang.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(_events(100))
    forwarder = Forwarder(path, InfluxV1Writer(f"http://127.0.0.1:{port}", "spasm"))
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    await asyncio.wait_for(received.wait(), timeout=10)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, timeout=10)  # the request timeout alone is 60 s
    await forwarder.close()
    assert time.monotonic() - started < 10
    hang.set()
    server.close()
    await server.wait_closed()
    with Spool(path, read_only=True) as spool:
        assert spool.count(PENDING) == 100


async def test_a_stalled_forwarder_raises_the_forward_stalled_alert(tmp_path: Path) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503, text="database is shutting down")

    app = web.Application()
    app.router.add_post("/write", unavailable)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(_events(3))
    forwarder = Forwarder(path, InfluxV1Writer(f"http://127.0.0.1:{port}", "spasm"), backoff=FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    while forwarder.stats.retries < 2:
        await asyncio.wait([task], timeout=0.05)
        assert not task.done(), task.exception()
    stop.set()
    await task
    await forwarder.close()
    await runner.cleanup()
    now_ns = time.time_ns()
    assert forwarder.stats.health(now_ns).startswith("influx FAILING")

    thresholds = read_alerts({"forward_stalled_h": 2}, environ={}).thresholds
    with Spool(path) as spool:
        service = AlertService(AlertEngine(thresholds), spool)
        assert await service.forwarding(now_ns + HOUR_NS, forwarder.stats, "p01") == []  # 1 h: not yet
        (alert,) = await service.forwarding(now_ns + 3 * HOUR_NS, forwarder.stats, "p01")
        assert (
            await service.forwarding(now_ns + 3 * HOUR_NS + 10**9, forwarder.stats, "p01") == []
        )  # cooldown
        stored = spool.query(0, 2**63 - 1, measurement="alert")
    assert alert.rule == FORWARD_STALLED
    assert "503" in alert.message
    assert "kept in the local spool" in alert.message
    assert [r.tags["rule"] for r in stored] == [FORWARD_STALLED]

    forwarder.stats.queued = False  # nothing waiting: nothing is stalled, however long ago
    assert (
        AlertEngine(thresholds).forwarding(now_ns + 9 * HOUR_NS, forwarder.stats.stalled_s(now_ns), "p01")
        == []
    )


def test_forward_stalled_h_is_validated() -> None:
    assert AlertThresholds().forward_stalled_h == 6.0
    with pytest.raises(ConfigError, match=r"alerts\.forward_stalled_h must be > 0"):
        read_alerts({"forward_stalled_h": 0}, environ={})


def test_the_status_line_carries_spool_and_forwarding_health(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.commands.run import print_status
    from monitor.live import LiveStatus
    from monitor.store import AppendStats, ForwardStats

    spool, forward = AppendStats(), ForwardStats(queued=True)
    forward.errors, forward.last_error_ns = ["HTTP 503: database is shutting down"], time.time_ns()
    forward.started_ns -= 12 * 60 * 10**9
    store = f"{spool.health()} | {forward.health(time.time_ns())}"
    print_status(LiveStatus(5.0, {"cf12": True}, {"cf12": 100}, 0, 0, store=store))
    assert "| spool ok | influx FAILING 12 min: HTTP 503" in capsys.readouterr().err
