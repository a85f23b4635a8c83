"""SIGTERM mid-stream: the recording process stops its sessions and flushes every item."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.process import (
    Child,
    Emulated,
    spawn,
    start_emulated,
    start_hub,
    wearable_address,
)
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.collect.backends.bumble import BumbleHost
from monitor.collect.queue import Item
from monitor.errors import SpasmMonitorError
from monitor.recording import RecordingReader
from monitor.types import Record
from tests.collector_sink import WAIT_S, Sink, collecting

STREAMING_FRAMES = 100  # of each wearable (2.5 s of EMG), streaming when the stop comes
POLL_S = 0.2


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[Emulated]:
    started = start_emulated(2, tmp_path)
    yield started
    started.stop()


@pytest.fixture
def collector_factory() -> Iterator[list[Child]]:
    children: list[Child] = []
    yield children
    for child in children:
        child.stop(signal.SIGKILL)


def test_sigterm_mid_record_flushes_the_queue(
    emulated: Emulated, collector_factory: list[Child], tmp_path: Path
) -> None:
    """``spasm-monitor record`` stopped by SIGTERM: every queued frame reaches the file."""
    config = tmp_path / "config.toml"
    path = tmp_path / "rec.sqlite"
    devices = "".join(
        f'[[device]]\naddress = "{wearable_address(i + 1)}"\nplacement = "calf"\n' for i in range(2)
    )
    config.write_text(
        f'[patient]\nid = "p01"\n{devices}'
        f'[ble]\nbackend = "bumble"\ntransport = "{emulated.collector_transport}"\n'
    )
    collector = spawn(
        "record", [sys.executable, "-m", "monitor.cli", "record", str(path), "--config", str(config)]
    )
    collector_factory.append(collector)
    _wait_for_frames(path, devices=2, frames=STREAMING_FRAMES, timeout_s=WAIT_S)  # both streaming
    assert collector.process.poll() is None
    collector.process.send_signal(signal.SIGTERM)
    assert collector.process.wait(15.0) == 0

    with RecordingReader(path) as reader:
        items = list(reader)
    records = [item for item in items if isinstance(item, Record)]
    assert records[-1].measurement == "collector_stopped"
    frames_written = Counter(item.stream.device for item in items if not isinstance(item, Record))
    for i in range(2):
        device = wearable_address(i + 1)
        session = [r for r in records if r.measurement == "ble_session" and r.tags["device"] == device]
        assert len(session) == 1
        assert session[0].fields["frames"] == frames_written[device] > STREAMING_FRAMES  # every queued one
        statuses = [r.fields for r in records if r.measurement == "ble_status" and r.tags["device"] == device]
        assert statuses[-1] == {"state": "stopped"}  # the session ended cleanly, not cancelled


def _wait_for_frames(path: Path, devices: int, frames: int, timeout_s: float) -> None:
    """Until over ``frames`` frames of each of ``devices`` wearables are committed to the recording.

    The recording is another process's SQLite file: the only way to see it grow is to read
    it, every :data:`POLL_S` (a poll interval, not a choreography).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with RecordingReader(path) as reader:
                    written = Counter(item.stream.device for item in reader if not isinstance(item, Record))
            except SpasmMonitorError:  # created but not yet initialised
                written = Counter()
            if len(written) >= devices and min(written.values()) > frames:
                return
        time.sleep(POLL_S)
    raise AssertionError(f"not {frames} frames of {devices} wearables within {timeout_s} s")


async def test_stop_does_not_wait_for_a_scan_to_time_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM while a wearable is away: the pending scan is abandoned at once."""
    scanning = asyncio.Event()
    start_scanning = BumbleHost.start_scanning

    async def start_and_tell(host: BumbleHost) -> None:
        await start_scanning(host)
        scanning.set()

    monkeypatch.setattr(BumbleHost, "start_scanning", start_and_tell)
    hub, ports = start_hub(2)
    try:
        config = CollectorConfig(
            (DeviceConfig(address="F1:00:00:00:0A:0A"),),
            backend="bumble",
            bumble_transport=f"tcp-client:127.0.0.1:{ports[0]}",
            scan_timeout_s=30.0,
        )
        items: list[Item] = []
        collector = Collector(config, sink=items.append)
        task = asyncio.create_task(collector.run())
        await asyncio.wait_for(scanning.wait(), WAIT_S)  # the radio scans for the absent wearable
        started = time.monotonic()
        collector.stop()
        await asyncio.wait_for(task, 10.0)
        assert time.monotonic() - started < 2.0
        assert [r.measurement for r in items if isinstance(r, Record)][-2:] == [
            "ble_session",
            "collector_stopped",
        ]
    finally:
        hub.stop()


async def test_a_session_cancelled_at_shutdown_still_closes_its_books(
    emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wearable that hangs the shutdown past its bound is cancelled; its counts are still written."""
    monkeypatch.setattr("monitor.collect.collector.SESSION_STOP_TIMEOUT_S", 0.0)
    config = CollectorConfig(
        tuple(DeviceConfig(address=wearable_address(i + 1)) for i in range(2)),
        backend="bumble",
        bumble_transport=emulated.collector_transport,
    )
    sink = Sink()
    async with collecting(config, sink):
        for i in range(2):
            await sink.until_samples(STREAMING_FRAMES * 25, "emg", wearable_address(i + 1))
    items = sink.items
    records = [item for item in items if isinstance(item, Record)]
    assert records[-1].measurement == "collector_stopped"
    for i in range(2):
        device = wearable_address(i + 1)
        frames = sum(1 for item in items if not isinstance(item, Record) and item.stream.device == device)
        session = [r for r in records if r.measurement == "ble_session" and r.tags["device"] == device]
        assert len(session) == 1
        assert session[0].fields["frames"] == frames > STREAMING_FRAMES
        statuses = [r.fields for r in records if r.measurement == "ble_status" and r.tags["device"] == device]
        assert statuses[-1] == {"state": "stopped", "reason": "cancelled before a clean stop"}
