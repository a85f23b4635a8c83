"""End-to-end BLE collection on the real bumble stack.

Every test starts a controller hub and emulated wearables as separate processes (TCP HCI
on 127.0.0.1), runs the real collector in this process through bleak's public API with
the bumble backend, and checks what a user would check. Scenarios are compressed in time
to keep the suite short (the full-length runs are in ``bench/collect.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from emulators.process import Emulated, start_emulated, start_extra_wearable, wearable_address
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.types import NS_PER_S, Frame, Record

RUN_TIMEOUT_S = 60.0
WARMUP_S = 10.0  # the clock fit converges before timestamps are checked


@pytest.fixture
def emulated_factory(tmp_path: Path) -> Iterator[list[Emulated]]:
    """Started hubs and wearables, all stopped (process groups killed) at teardown."""
    started: list[Emulated] = []
    yield started
    for emulated in started:
        emulated.stop()


def _config(emulated: Emulated, n: int, **overrides: object) -> CollectorConfig:
    devices = tuple(DeviceConfig(address=wearable_address(i + 1)) for i in range(n))
    options: dict[str, object] = {
        "backend": "bumble",
        "bumble_transport": emulated.collector_transport,
        "backoff_scale": 0.2,
        "scan_timeout_s": 5.0,
        "connect_timeout_s": 5.0,
        **overrides,
    }
    return CollectorConfig(devices, **options)  # type: ignore[arg-type]


async def _collect(
    emulated: Emulated,
    config: CollectorConfig,
    stream_s: float,
    settle_s: float = 1.0,
    midway: tuple[int, dict[str, object]] | None = None,
) -> list[Frame | Record]:
    """Collect for ``stream_s``; calm fault schedules, stream ``settle_s`` more, close the books.

    The settling time lets a session reconnect after the last scheduled drop: a packet lost
    in that drop is only seen (as a gap) when the next one arrives.

    ``midway`` = (wearable index, order) is sent to that wearable half-way through.
    """
    items: list[Frame | Record] = []
    collector = Collector(config, sink=items.append)
    task = asyncio.create_task(collector.run())
    if midway is not None:
        await asyncio.sleep(stream_s / 2)
        await asyncio.to_thread(emulated.wearables[midway[0]].send, midway[1])
        await asyncio.sleep(stream_s / 2)
    else:
        await asyncio.sleep(stream_s)
    for wearable in emulated.wearables:
        await asyncio.to_thread(wearable.send, {"cmd": "calm"})
    await asyncio.sleep(settle_s)  # a last packet lost at a drop is only seen by the next one
    for wearable in emulated.wearables:
        await asyncio.to_thread(wearable.send, {"cmd": "pause"})
    await asyncio.sleep(0.3)
    collector.stop()
    await asyncio.wait_for(task, 15.0)
    return items


def _records(items: list[Frame | Record], measurement: str, device: str | None = None) -> list[Record]:
    records = [i for i in items if isinstance(i, Record) and i.measurement == measurement]
    return [r for r in records if device is None or r.tags.get("device") == device]


def _frames(items: list[Frame | Record], device: str, sensor: str) -> list[Frame]:
    return [
        i for i in items if isinstance(i, Frame) and i.stream.device == device and i.stream.sensor == sensor
    ]


def _assert_every_sample_accounted(
    items: list[Frame | Record],
    emulated: Emulated,
    index: int,
    streams: tuple[tuple[str, str], ...] = (("EMG", "emg"), ("IMU", "acc")),
) -> None:
    """Received plus gap-recorded samples equal the samples the wearable sent, per stream.

    ``streams`` pairs the emulator's wire stream type with the Frame sensor counted for it.
    """
    device = wearable_address(index + 1)
    truth = emulated.stats(index)["streams"]
    for stream, sensor in streams:
        sent = truth[stream]["end_counter"] - truth[stream]["first_counter"]
        received = sum(f.n_samples for f in _frames(items, device, sensor))
        gaps = sum(
            int(r.fields["samples"])
            for r in _records(items, "ble_gap", device)
            if r.tags["stream"] == stream.lower()
        )
        assert sent > 0
        assert received + gaps == sent, (
            f"{device} {stream}: {received} received + {gaps} in gaps != {sent} sent"
        )


async def test_four_wearables_collected_at_once_account_for_every_sample(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    emulated = start_emulated(4, tmp_path)
    emulated_factory.append(emulated)
    items = await asyncio.wait_for(_collect(emulated, _config(emulated, 4), stream_s=6.0), RUN_TIMEOUT_S)
    for index in range(4):
        device = wearable_address(index + 1)
        assert len(_frames(items, device, "emg")) > 100  # ≥ 2.5 s of 1 kHz EMG
        assert _frames(items, device, "gyr")
        _assert_every_sample_accounted(items, emulated, index)
        assert _records(items, "battery", device)[0].fields["percent"] == 90
        assert [r.fields["state"] for r in _records(items, "ble_status", device)][-1] == "stopped"
    assert _records(items, "collector_stopped")[0].fields["dropped_items"] == 0


async def test_drops_every_2s_reconnect_and_record_exact_gaps(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    """The issue's 'drop every 10 s for 60 s', compressed: a drop every 2 s for 12 s.

    Half-way, the second wearable also drops and stops advertising for 2 s: the session
    rescans until it is back. (``bench/collect.py --drop-every-s 10`` runs the long version.)
    """
    emulated = start_emulated(3, tmp_path, options=[["--drop-every-s", "2"], [], []])
    emulated_factory.append(emulated)
    hide = (1, {"fault": "hide", "seconds": 2})
    items = await asyncio.wait_for(
        _collect(emulated, _config(emulated, 3), stream_s=12.0, settle_s=3.0, midway=hide), RUN_TIMEOUT_S
    )
    dropped = wearable_address(1)
    states = [r.fields["state"] for r in _records(items, "ble_status", dropped)]
    assert states.count("connected") >= 4  # 1 + a reconnect after each of the 5-6 drops (≥ 3 on a busy box)
    gaps = [r for r in _records(items, "ble_gap", dropped) if r.tags["stream"] == "emg"]
    assert len(gaps) >= 3
    for gap in gaps:  # each gap record states its exact length, consistent with its duration
        assert int(gap.fields["samples"]) > 0
        assert gap.fields["duration_s"] == pytest.approx(int(gap.fields["samples"]) / 1000.0)
    hidden = wearable_address(2)
    assert [r.fields["state"] for r in _records(items, "ble_status", hidden)].count("connected") == 2
    hidden_gaps = [r for r in _records(items, "ble_gap", hidden) if r.tags["stream"] == "emg"]
    assert len(hidden_gaps) == 1
    assert float(hidden_gaps[0].fields["duration_s"]) >= 2.0  # invisible for 2 s, then found again
    for index in range(3):
        _assert_every_sample_accounted(items, emulated, index)
    assert not _records(items, "ble_gap", wearable_address(3))  # the steady wearable lost nothing


def _timestamp_errors_ms(
    items: list[Frame | Record], emulated: Emulated, index: int, sensor: str
) -> npt.NDArray[np.float64]:
    """Frame t0 minus the true UTC of its first sample, ms, for frames after a 10 s warm-up."""
    truth = emulated.stats(index)["truth"]
    frames = _frames(items, wearable_address(index + 1), sensor)
    late = [f for f in frames if f.t0_ns - frames[0].t0_ns > WARMUP_S * NS_PER_S]
    assert len(late) > 10
    counters = np.array([f.seq_first for f in late]) * late[0].n_samples  # fixed samples per packet
    rate_hz = late[0].sample_rate_hz
    true_ns = truth["t0_ns"] + counters * NS_PER_S / (rate_hz * (1 + truth["drift_ppm"] * 1e-6))
    error_ms: npt.NDArray[np.float64] = (np.array([f.t0_ns for f in late]) - true_ns) / 1e6
    return error_ms


async def test_timestamps_within_1ms_of_truth_at_100ppm_drift_and_20ms_jitter(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    """After a 10 s warm-up, every frame is stamped within 1 ms of its true sample time.

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
    emulated = start_emulated(3, tmp_path, options=options)
    emulated_factory.append(emulated)
    items = await asyncio.wait_for(_collect(emulated, _config(emulated, 3), stream_s=16.0), RUN_TIMEOUT_S)
    for index in range(2):
        device = wearable_address(index + 1)
        clock = _records(items, "ble_clock", device)
        assert clock
        assert float(clock[-1].fields["bound_ms"]) < 1.0  # the round trips' own error bound
        session = _records(items, "ble_session", device)[-1]
        print(f"{device}: drift {float(session.fields['drift_ppm']):+.1f} ppm fitted")
        assert session.fields["drift_ppm"] == pytest.approx(-100.0 if index else 100.0, abs=50.0)
        for sensor in ("emg", "acc"):
            error_ms = _timestamp_errors_ms(items, emulated, index, sensor)
            print(
                f"{device} {sensor}: max |error| {np.abs(error_ms).max():.3f} ms, mean {error_ms.mean():+.3f}"
            )
            assert np.abs(error_ms).max() < 1.0, f"{device} {sensor}: {np.abs(error_ms).max():.3f} ms off"
    fallback = wearable_address(3)
    assert not _records(items, "ble_clock", fallback)
    assert _records(items, "ble_session", fallback)[-1].fields["clock_reads"] == 0
    for sensor in ("emg", "acc"):
        error_ms = _timestamp_errors_ms(items, emulated, 2, sensor)
        print(f"{fallback} (no clock) {sensor}: error {error_ms.min():+.3f}..{error_ms.max():+.3f} ms")
        assert error_ms.min() >= 0.0  # the hull's latency floor: late, never early
        assert error_ms.max() < 20.0  # 2-10 ms with the load; arrival stamps would spread over 40 ms
    _assert_every_sample_accounted(items, emulated, 2)


async def test_mtu_23_lowers_rates_splits_the_imu_and_accounts_for_every_sample(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    """At ATT MTU 23 the wearable sends EMG at 250 Hz and ACC and GYR packets at 50 Hz (§7)."""
    emulated = start_emulated(1, tmp_path)
    emulated_factory.append(emulated)
    config = _config(emulated, 1, mtu_bytes=23)
    items = await asyncio.wait_for(_collect(emulated, config, stream_s=6.0), RUN_TIMEOUT_S)
    device = wearable_address(1)
    connected = [r for r in _records(items, "ble_status", device) if r.fields["state"] == "connected"]
    assert [r.fields["mtu"] for r in connected] == [23]
    assert not _records(items, "ble_malformed", device)  # every notification fitted 20 bytes
    for sensor, rate_hz in (("emg", 250.0), ("acc", 50.0), ("gyr", 50.0)):
        frames = _frames(items, device, sensor)
        assert len(frames) > 3 * rate_hz  # 3 s or more of one-sample packets
        assert {f.sample_rate_hz for f in frames} == {rate_hz}
        assert {f.n_samples for f in frames} == {1}
    truth = emulated.stats(0)["streams"]
    assert truth["IMU"]["notified_packets"] == 0  # split: no 6-axis packet was sent
    assert truth["ACC"]["notified_samples"] == truth["GYR"]["notified_samples"] > 0
    _assert_every_sample_accounted(items, emulated, 0, (("EMG", "emg"), ("ACC", "acc"), ("GYR", "gyr")))
    session = _records(items, "ble_session", device)[-1]
    assert session.fields["acc_received_samples"] == session.fields["gyr_received_samples"]


async def test_malformed_packets_are_counted_and_the_session_survives(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    emulated = start_emulated(1, tmp_path)
    emulated_factory.append(emulated)
    config = _config(emulated, 1)
    items: list[Frame | Record] = []
    collector = Collector(config, sink=items.append)
    task = asyncio.create_task(collector.run())
    try:
        await asyncio.sleep(3.0)
        wearable = emulated.wearables[0]
        for order in (
            {"fault": "short", "count": 3},
            {"fault": "corrupt", "count": 2},
            {"fault": "seq_jump", "packets": 4},
            {"fault": "seq_jump", "packets": 2, "stream": "imu"},
        ):
            await asyncio.to_thread(wearable.send, order)
            await asyncio.sleep(0.5)
        with pytest.raises(ValueError, match="refused"):  # a bad order is refused, the emulation goes on
            await asyncio.to_thread(wearable.send, {"fault": "seq_jump", "stream": "ecg"})
        await asyncio.to_thread(wearable.send, {"fault": "battery", "percent": 8})
        await asyncio.sleep(1.5)
        await asyncio.to_thread(wearable.send, {"cmd": "pause"})
        await asyncio.sleep(0.3)
    finally:
        collector.stop()
        await asyncio.wait_for(task, 15.0)
    device = wearable_address(1)
    truth = emulated.stats(0)["streams"]
    malformed = _records(items, "ble_malformed", device)
    assert len(malformed) == truth["EMG"]["malformed_sent"] + truth["IMU"]["malformed_sent"] == 5
    assert truth["EMG"]["skipped_packets"] + truth["IMU"]["skipped_packets"] == 6
    assert truth["IMU"]["skipped_packets"] >= 2
    assert {r.fields["error"] for r in malformed} == {"LengthMismatchError", "UnsupportedVersionError"}
    assert [r.fields["percent"] for r in _records(items, "battery", device)][-1] == 8
    states = [r.fields["state"] for r in _records(items, "ble_status", device)]
    assert states.count("connected") == 1  # survived without a reconnect
    assert states[-1] == "stopped"
    _assert_every_sample_accounted(items, emulated, 0)  # malformed and skipped packets are gaps


async def test_device_not_on_allow_list_is_never_connected(
    emulated_factory: list[Emulated], tmp_path: Path
) -> None:
    """An intruder advertising the same service (and a look-alike name) is ignored."""
    emulated = start_emulated(1, tmp_path, extra_hosts=1)
    emulated_factory.append(emulated)
    intruder_stats = tmp_path / "intruder.json"
    start_extra_wearable(
        emulated, 2, ["--address", "F2:BA:D0:00:00:01", "--name", "SMREF-01", "--stats", str(intruder_stats)]
    )
    items = await asyncio.wait_for(_collect(emulated, _config(emulated, 1), stream_s=4.0), RUN_TIMEOUT_S)
    devices = {i.stream.device for i in items if isinstance(i, Frame)}
    assert devices == {wearable_address(1)}
    emulated.wearables[-1].stop()
    import json

    intruder = json.loads(intruder_stats.read_text())["streams"]
    assert intruder["EMG"]["notified_packets"] == 0  # never connected, never subscribed
