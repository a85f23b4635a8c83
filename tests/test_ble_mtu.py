"""The ATT MTU: acquired on BlueZ, and a rate it lowers is said (issue 13, point 8).

Real bumble stack: a controller hub and an emulated reference wearable as processes, the
collector in this process through bleak's public API. A link of ATT MTU 23 makes the
wearable send 20-byte packets and lower its EMG rate (docs/protocol.md §7); the user must
hear of it. bleak's BlueZ backend reports 23 until ``_acquire_mtu()`` is called: the
``BlueZLikeClient`` below keeps that contract on the bumble stack.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.process import Emulated, start_emulated, wearable_address
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.collect.backends.bumble import BumbleClient
from monitor.config import parse_config
from monitor.live import LiveStatus, run_live
from monitor.store import Spool
from monitor.types import Frame, Record, SensorKind

TIMEOUT_S = 60.0


class BlueZLikeClient(BumbleClient):
    """bleak's BlueZ contract (bleak 3.1 ``BleakClientBlueZDBus``): MTU 23 until acquired."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mtu_size: int | None = None

    @property
    def mtu_size(self) -> int:
        return 23 if self._mtu_size is None else self._mtu_size

    async def _acquire_mtu(self) -> None:
        self._mtu_size = BumbleClient.mtu_size.fget(self)  # type: ignore[attr-defined]


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[Emulated]:
    started = start_emulated(1, tmp_path)
    yield started
    started.stop()


async def _first_emg(
    emulated: Emulated, mtu_bytes: int, client: type[BumbleClient] | None = None
) -> tuple[Record, Frame, str | None]:
    """The ``connected`` status, the first EMG frame and the session's notice."""
    status: list[Record] = []
    emg: list[Frame] = []
    streaming = asyncio.Event()

    def sink(item: Frame | Record) -> None:
        if isinstance(item, Record) and item.fields.get("state") == "connected":
            status.append(item)
        if isinstance(item, Frame) and item.kind is SensorKind.EMG:
            emg.append(item)
            streaming.set()

    config = CollectorConfig(
        (DeviceConfig(address=wearable_address(1)),),
        backend="bumble",
        bumble_transport=emulated.collector_transport,
        mtu_bytes=mtu_bytes,
        scan_timeout_s=5.0,
        connect_timeout_s=5.0,
    )
    collector = Collector(config, sink)
    if client is not None:
        collector.sessions[0]._client_kwargs["backend"] = client
    task = asyncio.create_task(collector.run())
    await asyncio.wait_for(streaming.wait(), TIMEOUT_S)
    notice = getattr(collector.sessions[0], "notice", None)  # (None before sessions said it)
    collector.stop()
    await asyncio.wait_for(task, 15.0)
    return status[0], emg[0], notice


async def test_mtu_23_lowers_the_emg_rate_and_says_so(emulated: Emulated) -> None:
    status, frame, notice = await _first_emg(emulated, 23)
    assert status.fields["mtu"] == 23
    assert status.fields["emg_default_rate_hz"] == 1000.0
    assert frame.sample_rate_hz == status.fields["emg_rate_hz"]  # what it said is what it sends
    assert frame.sample_rate_hz < 1000.0
    assert notice is not None
    assert f"EMG {frame.sample_rate_hz:g} Hz (not 1000)" in notice
    assert "MTU 23" in notice
    assert status.fields["rate_limited"] == notice


async def test_the_bluez_mtu_is_acquired_before_packets_are_sized(emulated: Emulated) -> None:
    status, frame, notice = await _first_emg(emulated, 247, BlueZLikeClient)
    assert status.fields["mtu"] == 247  # what the link negotiated, not bleak's default of 23
    assert frame.sample_rate_hz == 1000.0
    assert notice is None
    assert "rate_limited" not in status.fields


async def test_a_live_run_at_mtu_23_says_so_in_its_status_and_store(
    emulated: Emulated, tmp_path: Path
) -> None:
    config = parse_config(
        {
            "patient": {"id": "p13"},
            "device": [{"address": wearable_address(1), "placement": "calf", "muscle": "soleus"}],
            "ble": {"backend": "bumble", "transport": emulated.collector_transport, "mtu_bytes": 23},
            "store": {"spool_path": str(tmp_path / "spool.sqlite")},
        }
    )
    statuses: list[LiveStatus] = []

    def on_status(status: LiveStatus) -> None:
        statuses.append(status)
        if status.problems and not any(told.problems for told in statuses[:-1]):
            # Told at last: stop the run as a user would, with SIGINT (its handler stops it).
            os.kill(os.getpid(), signal.SIGINT)

    with Spool(tmp_path / "spool.sqlite") as spool:
        # TIMEOUT_S is a ceiling: the run stops once the status has told of the lowered rate.
        await run_live(config, spool, duration_s=TIMEOUT_S, on_status=on_status, handle_signals=True)
        stored = spool.query(0, 2**62, measurement="device_status")
    told = [s.problems[wearable_address(1)] for s in statuses if s.problems]
    assert told
    assert "EMG 250 Hz (not 1000)" in told[0]
    assert told[0].endswith("MTU 23")
    connected = [r for r in stored if r.fields.get("state") == "connected"]
    assert connected
    assert float(connected[0].fields["emg_rate_hz"]) < 1000.0
