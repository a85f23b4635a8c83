"""End-to-end BLE collection on the real bumble stack.

Every test starts a controller hub and emulated wearables as separate processes (TCP HCI
on 127.0.0.1), runs the real collector in this process through bleak's public API with
the bumble backend, and checks what a user would check. Scenarios are compressed in time
to keep the suite short (the full-length runs are in ``bench/collect.py``). Each waits on
what it expects (records in the sink, the emulators' acknowledgements), never on time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pytest

from emulators.process import Emulated, start_emulated, start_extra_wearable, wearable_address
from monitor.types import NS_PER_S
from tests.collector_sink import WAIT_S, Sink, bumble_config, collecting, order, pause, sent_samples

RUN_TIMEOUT_S = 90.0
WARMUP_S = 10.0  # the clock fit converges before timestamps are checked
# The reference wearable's wire streams, and the frames counted for each.
REFERENCE_STREAMS = (("EMG", "emg"), ("IMU", "acc"))
EMG_RATE_HZ, IMU_RATE_HZ = 1000, 100


class Start(Protocol):
    def __call__(
        self, n_wearables: int, *, extra_hosts: int = 0, options: list[list[str]] | None = None
    ) -> Emulated: ...


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Starts a hub and wearables (``emulators.process.start_emulated``); all stopped at teardown."""
    started: list[Emulated] = []

    def start(n_wearables: int, *, extra_hosts: int = 0, options: list[list[str]] | None = None) -> Emulated:
        started.append(start_emulated(n_wearables, tmp_path, extra_hosts=extra_hosts, options=options))
        return started[-1]

    yield start
    for emulated in started:
        emulated.stop()


async def _close_books(
    sink: Sink,
    emulated: Emulated,
    indices: range,
    streams: tuple[tuple[str, str], ...] = REFERENCE_STREAMS,
) -> list[dict[str, Any]]:
    """Pause the wearables, then wait until the sink holds every sample they sent.

    Returns their stats (what each notified, all of it: nothing is sent after ``pause``).
    """
    stats = [await pause(emulated, index) for index in indices]
    for index, truth in zip(indices, stats, strict=True):
        device = wearable_address(index + 1)
        for stream, sensor in streams:
            sent = sent_samples(truth["streams"][stream])
            await sink.until_accounted(sent, sensor, device, stream.lower())
    return stats


def _assert_every_sample_accounted(
    sink: Sink,
    emulated: Emulated,
    index: int,
    streams: tuple[tuple[str, str], ...] = REFERENCE_STREAMS,
) -> None:
    """Received plus gap-recorded samples equal the samples the wearable sent, per stream.

    ``streams`` pairs the emulator's wire stream type with the Frame sensor counted for it.
    """
    device = wearable_address(index + 1)
    truth = emulated.stats(index)["streams"]
    for stream, sensor in streams:
        sent = sent_samples(truth[stream])
        received, gaps = sink.accounted(sensor, device, stream.lower())
        assert sent > 0
        assert received + gaps == sent, (
            f"{device} {stream}: {received} received + {gaps} in gaps != {sent} sent"
        )


async def test_four_wearables_collected_at_once_account_for_every_sample(start: Start) -> None:
    emulated = start(4)
    devices = [wearable_address(i + 1) for i in range(4)]
    sink = Sink()

    async def run() -> None:
        async with collecting(bumble_config(emulated, 4), sink):
            for device in devices:
                await sink.until_samples(3 * EMG_RATE_HZ, "emg", device)
            await _close_books(sink, emulated, range(4))

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    for index, device in enumerate(devices):
        assert sink.frames("gyr", device)
        _assert_every_sample_accounted(sink, emulated, index)
        assert sink.records("battery", device)[0].fields["percent"] == 90
        assert sink.states(device)[-1] == "stopped"
    assert sink.records("collector_stopped")[0].fields["dropped_items"] == 0


async def test_drops_every_2s_reconnect_and_record_exact_gaps(start: Start) -> None:
    """The issue's 'drop every 10 s for 60 s', compressed: a drop every 2 s, five reconnects.

    After the second reconnect, the second wearable also drops and stops advertising for
    2 s: the session rescans until it is back. (``bench/collect.py --drop-every-s 10`` runs
    the long version.)
    """
    emulated = start(3, options=[["--drop-every-s", "2"], [], []])
    dropped, hidden, steady = (wearable_address(i + 1) for i in range(3))
    sink = Sink()

    async def run() -> None:
        async with collecting(bumble_config(emulated, 3), sink):
            await sink.until(lambda: sink.connects(dropped) >= 3, "two reconnects of the dropped wearable")
            await order(emulated.wearables[1], {"fault": "hide", "seconds": 2})
            # A drop that finds the session reconnecting drops nothing: the count is what matters.
            await sink.until(lambda: sink.connects(dropped) >= 6, "five reconnects", timeout_s=60.0)
            await order(emulated.wearables[0], {"cmd": "calm"})
            # The samples the last drop cost show with the first packet after it.
            await sink.until(
                lambda: sink.samples_since_connect("emg", dropped) > 0, "EMG after the last reconnect"
            )
            await sink.until(
                lambda: sink.connects(hidden) == 2 and sink.samples_since_connect("emg", hidden) > 0,
                "the hidden wearable found again",
            )
            await _close_books(sink, emulated, range(3))

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    reconnects = sink.connects(dropped) - 1
    assert reconnects >= 5
    gaps = sink.gaps("emg", dropped)
    assert 4 <= len(gaps) <= reconnects  # one per drop that cost samples
    for gap in gaps:  # each gap record states its exact length, consistent with its duration
        assert int(gap.fields["samples"]) > 0
        assert gap.fields["duration_s"] == pytest.approx(int(gap.fields["samples"]) / EMG_RATE_HZ)
    assert sink.connects(hidden) == 2
    (hidden_gap,) = sink.gaps("emg", hidden)
    assert float(hidden_gap.fields["duration_s"]) >= 2.0  # invisible for 2 s, then found again
    for index in range(3):
        _assert_every_sample_accounted(sink, emulated, index)
    assert not sink.records("ble_gap", steady)  # the steady wearable lost nothing


def _timestamp_errors_ms(sink: Sink, emulated: Emulated, index: int, sensor: str) -> npt.NDArray[np.float64]:
    """Frame t0 minus the true UTC of its first sample, ms, for frames after a 10 s warm-up."""
    truth = emulated.stats(index)["truth"]
    frames = sink.frames(sensor, wearable_address(index + 1))
    late = [f for f in frames if f.t0_ns - frames[0].t0_ns > WARMUP_S * NS_PER_S]
    assert len(late) > 10
    counters = np.array([f.seq_first for f in late])  # the wearable's sample counter
    rate_hz = late[0].sample_rate_hz
    true_ns = truth["t0_ns"] + counters * NS_PER_S / (rate_hz * (1 + truth["drift_ppm"] * 1e-6))
    error_ms: npt.NDArray[np.float64] = (np.array([f.t0_ns for f in late]) - true_ns) / 1e6
    return error_ms


@pytest.mark.link_timing  # bounds in ms: run alone (scripts/test.sh)
async def test_timestamps_within_1ms_of_truth_at_100ppm_drift_and_20ms_jitter(start: Start) -> None:
    """After a 10 s warm-up, every frame is stamped within 1 ms of its true sample time.

    The fitted drift is checked after 30 s: a drift is a slope, known to the sum of its end
    bounds over the time between them. Bursts bounded to 0.5 ms, 12 s apart, certify
    ±40 ppm, which is why 15 s of data gave fits 53 ppm off 1 time in 10; over 30 s the
    fits are within 7 ppm (12 runs).

    Jitter (0-40 ms added delay, i.e. ±20 ms about its mean) would spread arrival-time
    stamps over 40 ms; the hull of arrivals gets the drift but carries the link's latency
    floor (2-10 ms here, with the machine's load). Timed reads of the device clock pin the
    offset (docs/protocol.md §6.2): each read crosses the same hub link as the notifications
    (two TCP HCI hops, busy event loops), and the bursts' bounds are intersected. The third
    wearable has no clock to read: it still streams, stamped from the hull, never before its
    samples existed.
    """
    jitter = ["--jitter-ms", "20"]
    options = [["--drift-ppm", "100", *jitter], ["--drift-ppm", "-100", *jitter], [*jitter, "--no-clock"]]
    emulated = start(3, options=options)
    sink = Sink()
    collected_s = WARMUP_S + 20.0

    async def run() -> None:
        async with collecting(bumble_config(emulated, 3), sink):
            for index in range(3):
                samples = round(collected_s * IMU_RATE_HZ)
                await sink.until_samples(samples, "acc", wearable_address(index + 1), collected_s + WAIT_S)
            await _close_books(sink, emulated, range(3))

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    for index in range(2):
        device = wearable_address(index + 1)
        clock = sink.records("ble_clock", device)
        assert clock
        assert float(clock[-1].fields["bound_ms"]) < 1.0  # the round trips' own error bound
        session = sink.records("ble_session", device)[-1]
        print(f"{device}: drift {float(session.fields['drift_ppm']):+.1f} ppm fitted")
        assert session.fields["drift_ppm"] == pytest.approx(-100.0 if index else 100.0, abs=50.0)
        for sensor in ("emg", "acc"):
            error_ms = _timestamp_errors_ms(sink, emulated, index, sensor)
            print(
                f"{device} {sensor}: max |error| {np.abs(error_ms).max():.3f} ms, mean {error_ms.mean():+.3f}"
            )
            assert np.abs(error_ms).max() < 1.0, f"{device} {sensor}: {np.abs(error_ms).max():.3f} ms off"
    fallback = wearable_address(3)
    assert not sink.records("ble_clock", fallback)
    assert sink.records("ble_session", fallback)[-1].fields["clock_reads"] == 0
    for sensor in ("emg", "acc"):
        error_ms = _timestamp_errors_ms(sink, emulated, 2, sensor)
        print(f"{fallback} (no clock) {sensor}: error {error_ms.min():+.3f}..{error_ms.max():+.3f} ms")
        assert error_ms.min() >= 0.0  # the hull's latency floor: late, never early
        assert error_ms.max() < 10.0  # 2-10 ms with the load; arrival stamps would spread over 40 ms
    _assert_every_sample_accounted(sink, emulated, 2)


async def test_mtu_23_lowers_rates_splits_the_imu_and_accounts_for_every_sample(start: Start) -> None:
    """At ATT MTU 23 the wearable sends EMG at 250 Hz and ACC and GYR packets at 50 Hz (§7)."""
    emulated = start(1)
    device = wearable_address(1)
    split = (("EMG", "emg"), ("ACC", "acc"), ("GYR", "gyr"))
    sink = Sink()

    async def run() -> None:
        async with collecting(bumble_config(emulated, 1, mtu_bytes=23), sink):
            for sensor, rate_hz in (("emg", 250), ("acc", 50), ("gyr", 50)):
                await sink.until_samples(3 * rate_hz, sensor, device)
            await _close_books(sink, emulated, range(1), split)

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    connected = [r for r in sink.records("ble_status", device) if r.fields["state"] == "connected"]
    assert [r.fields["mtu"] for r in connected] == [23]
    assert not sink.records("ble_malformed", device)  # every notification fitted 20 bytes
    for sensor, rate_hz in (("emg", 250.0), ("acc", 50.0), ("gyr", 50.0)):
        frames = sink.frames(sensor, device)
        assert {f.sample_rate_hz for f in frames} == {rate_hz}
        assert {f.n_samples for f in frames} == {1}  # one-sample packets
    truth = emulated.stats(0)["streams"]
    assert truth["IMU"]["notified_packets"] == 0  # split: no 6-axis packet was sent
    assert truth["ACC"]["notified_samples"] == truth["GYR"]["notified_samples"] > 0
    _assert_every_sample_accounted(sink, emulated, 0, split)
    session = sink.records("ble_session", device)[-1]
    assert session.fields["acc_received_samples"] == session.fields["gyr_received_samples"]


async def test_malformed_packets_are_counted_and_the_session_survives(start: Start) -> None:
    emulated = start(1)
    device = wearable_address(1)
    wearable = emulated.wearables[0]
    sink = Sink()

    async def run() -> None:
        async with collecting(bumble_config(emulated, 1), sink):
            await sink.until_samples(2 * EMG_RATE_HZ, "emg", device)
            for fault in (
                {"fault": "short", "count": 3},
                {"fault": "corrupt", "count": 2},
                {"fault": "seq_jump", "packets": 4},
                {"fault": "seq_jump", "packets": 2, "stream": "imu"},
            ):
                await order(wearable, fault)
            with pytest.raises(ValueError, match="refused"):  # a bad order is refused, the emulation goes on
                await order(wearable, {"fault": "seq_jump", "stream": "ecg"})
            await order(wearable, {"cmd": "faults_taken"})
            await sink.until(lambda: len(sink.records("ble_malformed", device)) >= 5, "5 malformed packets")
            await order(wearable, {"fault": "battery", "percent": 8})
            await sink.until(
                lambda: sink.records("battery", device)[-1].fields["percent"] == 8, "battery at 8 %"
            )
            await _close_books(sink, emulated, range(1))

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    truth = emulated.stats(0)["streams"]
    malformed = sink.records("ble_malformed", device)
    assert len(malformed) == truth["EMG"]["malformed_sent"] + truth["IMU"]["malformed_sent"] == 5
    assert truth["EMG"]["skipped_packets"] + truth["IMU"]["skipped_packets"] == 6
    assert truth["IMU"]["skipped_packets"] >= 2
    assert {r.fields["error"] for r in malformed} == {"LengthMismatchError", "UnsupportedVersionError"}
    assert [r.fields["percent"] for r in sink.records("battery", device)][-1] == 8
    states = sink.states(device)
    assert states.count("connected") == 1  # survived without a reconnect
    assert states[-1] == "stopped"
    _assert_every_sample_accounted(sink, emulated, 0)  # malformed and skipped packets are gaps


async def test_device_not_on_allow_list_is_never_connected(start: Start, tmp_path: Path) -> None:
    """An intruder advertising the same service (and a look-alike name) is ignored."""
    emulated = start(1, extra_hosts=1)
    intruder_stats = tmp_path / "intruder.json"
    start_extra_wearable(
        emulated, 2, ["--address", "F2:BA:D0:00:00:01", "--name", "SMREF-01", "--stats", str(intruder_stats)]
    )
    sink = Sink()

    async def run() -> None:
        async with collecting(bumble_config(emulated, 1), sink):
            await sink.until_samples(2 * EMG_RATE_HZ, "emg")

    await asyncio.wait_for(run(), RUN_TIMEOUT_S)
    assert {frame.stream.device for frame in sink.frames("emg")} == {wearable_address(1)}
    emulated.wearables[-1].stop()
    intruder = json.loads(intruder_stats.read_text())["streams"]
    assert intruder["EMG"]["notified_packets"] == 0  # never connected, never subscribed
