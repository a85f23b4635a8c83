"""Losing nothing: a 30 s InfluxDB outage mid-stream, and kill -9 of the pipeline process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from monitor.backoff import Backoff
from monitor.store import PENDING, Forwarder, InfluxV1Writer, Spool
from monitor.types import Record
from tests.local_influxd import LocalInfluxd
from tests.store_pipeline import STEP_NS, T0_NS

OUTAGE_S = 30.0
REPO = Path(__file__).resolve().parents[1]


async def test_forwarder_survives_a_30_s_influxdb_outage(
    tmp_path: Path, private_influxd: LocalInfluxd, private_influx_db: Any
) -> None:
    db = private_influx_db
    path = tmp_path / "spool.sqlite"
    stop = asyncio.Event()
    forwarder = Forwarder(path, InfluxV1Writer(db.url, db.name), batch_points=1000, backoff=Backoff(0.1, 2.0))
    produced = 0

    async def produce(seconds: float) -> None:
        nonlocal produced
        end = time.monotonic() + seconds
        with Spool(path) as spool:
            while time.monotonic() < end:  # 20 points every 50 ms: a 400 Hz feature stream
                spool.append(
                    Record(
                        "joint_angle",
                        T0_NS + (produced + k) * STEP_NS,
                        {"angle_deg": 1.5},
                        {"patient": "p01"},
                    )
                    for k in range(20)
                )
                produced += 20
                await asyncio.sleep(0.05)

    Spool(path).close()
    forwarding = asyncio.create_task(forwarder.run(stop))
    await produce(2.0)
    assert db.count("joint_angle", "angle_deg") > 0  # flowing before the outage
    await asyncio.to_thread(private_influxd.stop)
    await produce(OUTAGE_S)
    during = produced
    await asyncio.to_thread(private_influxd.start)
    await produce(2.0)
    with Spool(path) as spool:
        deadline = time.monotonic() + 30
        while spool.count(PENDING) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert spool.count(PENDING) == 0
    stop.set()
    await forwarding
    await forwarder.close()
    assert forwarder.stats.retries > 0  # it did see the outage
    assert produced > during > 0
    assert db.count("joint_angle", "angle_deg") == produced  # all present ...
    times = [row[0] for row in db.query("SELECT angle_deg FROM joint_angle")[0]["values"]]
    assert times == [T0_NS + i * STEP_NS for i in range(produced)]  # ... each once, exact ns
    assert forwarder.stats.sent_points == produced  # and each acknowledged exactly once


def test_kill_9_mid_stream_then_restart_delivers_everything_committed(tmp_path: Path, influx_db: Any) -> None:
    path = str(tmp_path / "spool.sqlite")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = str(REPO / "tests" / "store_pipeline.py")
    pipeline = subprocess.Popen(
        [sys.executable, script, path, influx_db.url, influx_db.name, "produce"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert pipeline.stdout is not None
    last_reported = 0
    for line in pipeline.stdout:
        last_reported = int(line.split()[1])
        if last_reported >= 20_000:
            break
    pipeline.send_signal(signal.SIGKILL)  # mid-stream: appends and forwarding both under way
    pipeline.wait(10)
    assert pipeline.returncode == -signal.SIGKILL
    with Spool(path) as spool:
        committed = spool.count()
        pending_at_kill = spool.count(PENDING)
    assert committed >= last_reported  # every reported commit is in the spool
    assert committed % 500 == 0  # transactions are whole: no half-appended batch
    assert pending_at_kill > 0  # the restart has something to deliver
    restart = subprocess.run(
        [sys.executable, script, path, influx_db.url, influx_db.name, "drain"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert restart.stdout.startswith("drained")
    assert influx_db.count("joint_angle", "angle_deg") == committed
    times = [row[0] for row in influx_db.query("SELECT angle_deg FROM joint_angle")[0]["values"]]
    assert times == [T0_NS + i * STEP_NS for i in range(committed)]
