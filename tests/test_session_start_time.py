"""The first seconds of a BLE session are stamped as evenly as the wearable sampled them.

One emulated reference wearable (``emulators.reference``, the demo's thigh IMU) runs
on a hub as its own process; the collector runs here through bleak's public API with the
bumble backend. Right after the session's first clock synchronisation the gateway is busy
for :data:`STALL_S` (another wearable connecting, the DSP's first block): the wearable's
notifications queue up and arrive together. A clock fit of under a second of arrivals that
follows such a backlog tilts its line by tens of per cent, and its frames come hundreds of
ms apart, then jump back when the next synchronisation pins the line.

What a user would check over the first :data:`CHECKED_S` of each stream: every frame starts
one nominal period after the one before it (within what the emulator's jitter allows), time
never goes back, every frame is stamped near the true time of its first sample, and no gap
is recorded. The test waits on the frames it expects, never on time.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from emulators.process import Emulated, start_emulated
from monitor.collect import Collector
from monitor.collect.clock import DeviceClock
from monitor.types import NS_PER_S, Frame, Record
from tests.collector_sink import Sink, one_wearable_config

# Bounds in ms on real BLE links: run alone, after the rest (see scripts/test.sh).
pytestmark = pytest.mark.link_timing

CHECKED_S = 3.0  # the start-up stretch checked, s of each stream
JITTER_MS = 5.0  # the emulator delays each notification by 0..2·JITTER_MS after its last sample
# The link's own latency floor and its wander (two TCP HCI hops through the hub, busy event
# loops: 0.3-3 ms each way, emulators/reference.py). Frames before the first clock
# sync are stamped from their arrivals and carry it; the sync then moves them by as much.
LINK_FLOOR_MS = 5.0
# A fit can be off by no more than an arrival's delay: the jitter's span plus the link's floor.
TOLERANCE_NS = round((2 * JITTER_MS + LINK_FLOOR_MS) * 1e6)
# How long the gateway's event loop is blocked after the first clock sync, s: long enough to
# queue a few IMU packets, shorter than the time to the next sync (1 s or more).
STALL_S = 0.6
SENSORS = ("acc", "emg")  # the IMU's and the EMG's frames (100 ms and 25 ms)
THIGH = ["--segment", "proximal", "--motion-seed", "7"]  # the demo's thigh (monitor/commands/demo.py)


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[Emulated]:
    started = start_emulated(1, tmp_path, options=[[*THIGH, "--jitter-ms", str(JITTER_MS)]])
    yield started
    started.stop()


class StallingSink(Sink):
    """Keeps every item; blocks the event loop once, at the first ``ble_clock`` record."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = False

    def __call__(self, item: Frame | Record) -> None:
        super().__call__(item)
        if not self.stalled and isinstance(item, Record) and item.measurement == "ble_clock":
            self.stalled = True
            # A blocking stall on purpose: the fault is a gateway too busy to run its
            # notification callbacks, which then arrive together.
            time.sleep(STALL_S)

    def covers(self, sensor: str, span_s: float) -> bool:
        """Whether ``sensor``'s frames span ``span_s`` of samples from its first frame."""
        frames = self.frames(sensor)
        return bool(frames) and frames[-1].seq_first - frames[0].seq_first >= round(
            span_s * frames[0].sample_rate_hz
        )


async def test_the_first_seconds_after_a_busy_connect_advance_by_the_nominal_period(
    emulated: Emulated,
) -> None:
    config = one_wearable_config(emulated)
    sink = StallingSink()
    collector = Collector(config, sink=sink)
    task = asyncio.create_task(collector.run())
    try:
        for sensor in SENSORS:
            await sink.until(functools.partial(sink.covers, sensor, CHECKED_S), f"{CHECKED_S} s of {sensor}")
        await asyncio.to_thread(emulated.wearables[0].send, {"cmd": "stats"})  # writes the truth
        truth = emulated.stats(0)["truth"]
    finally:
        collector.stop()
        await asyncio.wait_for(task, 15.0)

    assert sink.stalled
    for sensor in SENSORS:
        frames = sink.frames(sensor)
        n, rate_hz = frames[0].n_samples, frames[0].sample_rate_hz
        checked = [f for f in frames if f.seq_first - frames[0].seq_first < CHECKED_S * rate_hz]
        t0_ns = np.array([f.t0_ns for f in checked])
        counters = np.array([f.seq_first for f in checked])  # the wearable's sample counter
        assert np.all(np.diff(counters) == n), f"{sensor}: frames lost at start-up"
        period_ns = n * NS_PER_S / rate_hz
        step_error_ms = (np.diff(t0_ns) - period_ns) / 1e6
        print(f"{sensor}: frame spacing off by {step_error_ms.min():+.2f}..{step_error_ms.max():+.2f} ms")
        back = np.flatnonzero(np.diff(t0_ns) <= 0)
        assert not back.size, f"{sensor}: time went back after counters {counters[back]}"
        worst = int(np.argmax(np.abs(step_error_ms)))
        assert abs(step_error_ms[worst]) * 1e6 <= TOLERANCE_NS, (
            f"{sensor}: frames at counters {counters[worst]} and {counters[worst + 1]} stamped "
            f"{period_ns / 1e6 + step_error_ms[worst]:.1f} ms apart, not {period_ns / 1e6:.0f}"
        )
        true_ns = truth["t0_ns"] + counters * NS_PER_S / (rate_hz * (1 + truth["drift_ppm"] * 1e-6))
        error_ms = (t0_ns - true_ns) / 1e6
        print(f"{sensor}: stamp - truth {error_ms.min():+.2f}..{error_ms.max():+.2f} ms")
        assert np.abs(error_ms).max() * 1e6 <= TOLERANCE_NS, f"{sensor}: stamped off the true time"
    assert not sink.records("ble_gap")
    assert not sink.records("ble_malformed")


@pytest.mark.parametrize("backlog_from_s", [0.0, 0.3], ids=["from-the-first-packet", "after-a-few-packets"])
def test_a_backlog_right_after_the_first_clock_sync_does_not_tilt_the_fit(backlog_from_s: float) -> None:
    """The same stall on the clock fit alone, with simulated arrivals: exact and fast.

    One burst of clock reads at connect pins the offset but gives no slope; the gateway is
    then busy until 0.8 s, and the packets sampled from ``backlog_from_s`` arrive together.
    Every IMU frame is stamped within a millisecond of its true time, in order.
    """
    utc0_ns = 1_800_000_000 * NS_PER_S  # true UTC of device time 0
    clock = DeviceClock()
    # 16 reads 0.7 ms apart, each a 0.6 ms round trip about the true time.
    clock.add_sync([(d, utc0_ns + d - 300_000, utc0_ns + d + 300_000) for d in range(0, 11_200_000, 700_000)])
    packets = [(k * 25_000_000, 25, 1000.0) for k in range(120)]  # EMG: 3 s of 25-sample packets
    packets += [(k * 100_000_000, 10, 100.0) for k in range(30)]  # IMU: 3 s of 10-sample packets
    stamps_ns: list[int] = []
    for first_ns, n, rate_hz in sorted(packets, key=lambda p: p[0] + round((p[1] - 1) * NS_PER_S / p[2])):
        end_ns = first_ns + round((n - 1) * NS_PER_S / rate_hz)
        arrival_ns = utc0_ns + end_ns + 1_000_000  # the link's floor
        if backlog_from_s * NS_PER_S <= end_ns < 800_000_000:
            arrival_ns = utc0_ns + 801_000_000  # queued while the gateway was busy
        clock.add(end_ns, arrival_ns)
        if rate_hz == 100.0:
            stamps_ns.append(clock.to_utc_ns(first_ns) - utc0_ns - first_ns)
    error_ms = np.array(stamps_ns) / 1e6
    assert np.abs(error_ms).max() < 1.0, (
        f"IMU frames stamped {error_ms.min():+.1f}..{error_ms.max():+.1f} ms off"
    )
