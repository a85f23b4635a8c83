"""Myo armband end to end on the real bumble stack: emulator process, hub, real Collector.

The emulated armband (``emulators.myo``) runs as its own process on a port of the
controller hub; the collector in this process drives it through the ``myo`` profile with
bleak's public API on the bumble backend. Checked against the emulator's ground truth:
the handshake, every EMG and IMU sample accounted for, timestamps, and spasms found by the
DSP in the collected 200 Hz EMG.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from devices.myo.protocol import (
    EMG_MV_PER_COUNT,
    EMG_SAMPLE_RATE_HZ,
    ClassifierMode,
    EmgMode,
    ImuMode,
    SleepMode,
    set_mode_command,
    set_sleep_mode_command,
)
from emulators.myo import synthetic_signals
from emulators.process import Emulated, start_emulated, start_extra_wearable
from monitor.collect import DeviceConfig
from monitor.dsp.emg_detector import SpasmDetector
from monitor.types import NS_PER_S, Frame, SensorKind
from tests.collector_sink import Sink, bumble_config, collecting, order, pause, sent_samples

# Bounds in ms on real BLE links: run alone, after the rest (see scripts/test.sh).
pytestmark = pytest.mark.link_timing

ADDRESS = "F1:00:00:00:4D:01"
RUN_TIMEOUT_S = 60.0
STREAM_S = 12.0
# Timestamps: the fit needs a few seconds of arrivals before its lower hull settles.
WARM_UP_S = 3.0
MAX_ERROR_MS = 2.0
ONSET_TOLERANCE_S = 0.3
FAULTS_BEFORE_END_S = 1.8


@dataclass(frozen=True)
class Collected:
    """What the collector put out, and the emulator's final stats (after its SIGTERM)."""

    sink: Sink
    stats: dict[str, Any]


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Collected:
    """One 12 s collection from one emulated Myo (seed 19: three spasms at 6-9 s), shared."""
    emulated = start_emulated(0, tmp_path_factory.mktemp("myo"), extra_hosts=1)
    try:
        stats = tmp_path_factory.mktemp("myo-stats") / "myo.json"
        argv = ["--address", ADDRESS, "--seed", "19", "--stats", str(stats)]
        start_extra_wearable(emulated, 1, argv, module="emulators.myo")
        emulated.stats_paths.append(stats)
        sink = Sink()
        asyncio.run(asyncio.wait_for(_collect(emulated, sink), RUN_TIMEOUT_S))
        emulated.wearables[0].stop()  # SIGTERM: the final stats include the stop commands
        return Collected(sink, emulated.stats(0))
    finally:
        emulated.stop()


async def _collect(emulated: Emulated, sink: Sink) -> None:
    """Stream 12 s with EMG faults near the end (2 skipped, 1 short, 1 corrupt), then close the books.

    The faults come after the synthetic spasms (6-9 s into the stream): a gap makes the spasm
    detector start its stream afresh, with a new baseline. The stream's own samples are the
    clock: the faults follow 10.2 s of EMG, and the stream carries on to 12 s.
    """
    armband = emulated.wearables[0]
    async with collecting(bumble_config(emulated, [DeviceConfig(address=ADDRESS, profile="myo")]), sink):
        await sink.until_samples(round((STREAM_S - FAULTS_BEFORE_END_S) * EMG_SAMPLE_RATE_HZ), "emg")
        # One at a time, each seen as a gap before the next: a run of four lost notifications
        # would bring the rotation of the four EMG characteristics back in step, unseen.
        for count, fault in enumerate(
            (
                {"fault": "skip", "notifications": 2},
                {"fault": "short", "count": 1},
                {"fault": "corrupt", "count": 1},
            ),
            start=1,
        ):
            await order(armband, fault)
            await order(armband, {"cmd": "faults_taken"})
            await sink.until_gaps(count, "emg")
        await sink.until_samples(round(STREAM_S * EMG_SAMPLE_RATE_HZ), "emg")
        streams = (await pause(emulated, 0))["streams"]
        await sink.until_accounted(sent_samples(streams["EMG"]), "emg")
        await sink.until_accounted(sent_samples(streams["IMU"]), "acc")


def _timing_errors_ms(
    frames: list[Frame], stream: dict[str, Any], truth: dict[str, Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Frame start minus the true UTC of its first sample, ms; and the frames' true times, s."""
    segment = stream["segments"][0]
    period_ns = NS_PER_S / (stream["rate_hz"] * (1 + truth["drift_ppm"] * 1e-6))
    counters = stream["first_counter"] + np.array([f.seq_first for f in frames]) - frames[0].seq_first
    true_ns = segment["t0_ns"] + (counters - segment["first_counter"]) * period_ns
    stamped_ns = np.array([f.t0_ns for f in frames])
    return (stamped_ns - true_ns) / 1e6, (true_ns - segment["t0_ns"]) / NS_PER_S


def test_handshake_keeps_the_armband_awake_streams_raw_emg_and_imu_and_stops(collected: Collected) -> None:
    """Never-sleep, then raw EMG + IMU data; on stop, streams off and normal sleep."""
    commands = collected.stats["state"]["commands"]
    assert commands[:2] == [
        set_sleep_mode_command(SleepMode.NEVER_SLEEP).hex(),
        set_mode_command(EmgMode.SEND_EMG_RAW, ImuMode.SEND_DATA, ClassifierMode.DISABLED).hex(),
    ]
    assert commands[2:] == [
        set_mode_command(EmgMode.NONE, ImuMode.NONE, ClassifierMode.DISABLED).hex(),
        set_sleep_mode_command(SleepMode.NORMAL).hex(),
    ]
    assert [r.fields["percent"] for r in collected.sink.records("battery")] == [90]


def test_every_myo_sample_is_received_or_recorded_as_a_gap(collected: Collected) -> None:
    """EMG gaps come from the characteristic rotation (exact for runs of < 4 notifications)."""
    sink, streams = collected.sink, collected.stats["streams"]
    emg, imu = sink.frames("emg"), sink.frames("acc")
    assert {f.sample_rate_hz for f in emg} == {200.0}
    assert emg[0].channels == 8
    assert len(sink.frames("gyr")) == len(sink.frames("quat")) == len(imu)
    emg_gaps = sink.gaps("emg")
    for name, frames, gaps in (("EMG", emg, emg_gaps), ("IMU", imu, [])):
        sent = streams[name]["end_counter"] - streams[name]["first_counter"]
        received = sum(f.n_samples for f in frames)
        gap_samples = sum(int(r.fields["samples"]) for r in gaps)
        assert received + gap_samples == sent, f"{name}: {received} + {gap_samples} != {sent}"
    assert streams["EMG"]["skipped_notifications"] == 2
    assert streams["EMG"]["malformed_sent"] == 2
    assert sum(int(r.fields["samples"]) for r in emg_gaps) == 2 * (2 + 2)
    assert len(sink.records("ble_malformed")) == 2
    assert sent > 0.7 * STREAM_S * 50  # IMU streamed most of the time


def test_myo_frames_are_stamped_within_2ms_of_true_sample_times(collected: Collected) -> None:
    """No device clock on the wire: samples are counted at the nominal rate and fitted."""
    streams, truth = collected.stats["streams"], collected.stats["truth"]
    emg, imu = collected.sink.frames("emg"), collected.sink.frames("acc")
    for name, frames in (("EMG", emg), ("IMU", imu)):
        error_ms, true_s = _timing_errors_ms(frames, streams[name], truth)
        settled = error_ms[true_s > true_s[0] + WARM_UP_S]
        late = true_s[np.abs(error_ms) >= MAX_ERROR_MS]
        late_s = late.max() - true_s[0] if len(late) else 0.0
        print(
            f"{name}: {settled.min():+.3f}..{settled.max():+.3f} ms after warm-up (median "
            f"{np.median(settled):+.3f}); all frames {error_ms.min():+.3f}..{error_ms.max():+.3f} ms, "
            f"{len(late)} of {len(error_ms)} off by >= 2 ms, up to {late_s:.2f} s"
        )
        assert len(settled) > 100
        assert np.abs(settled).max() < MAX_ERROR_MS, f"{name}: {np.abs(settled).max():.3f} ms off"


def test_collected_emg_is_sample_exact_and_the_dsp_finds_its_spasms(collected: Collected) -> None:
    """Frames carry the armband's int8 EMG unchanged, and the detector finds the spasms in them."""
    stats = collected.stats
    emg_stream = stats["streams"]["EMG"]
    t0_ns = emg_stream["segments"][0]["t0_ns"]
    emg = collected.sink.frames("emg")
    assert all(f.kind is SensorKind.EMG for f in emg)
    emg_counts, _imu, _spasms = synthetic_signals(19)
    for frame in emg:
        first = emg_stream["first_counter"] + frame.seq_first - emg[0].seq_first
        index = np.arange(first, first + 2) % emg_counts.shape[0]
        np.testing.assert_array_equal(frame.samples, emg_counts[index] * EMG_MV_PER_COUNT)

    detector = SpasmDetector(EMG_SAMPLE_RATE_HZ, 8, full_scale_mv=127 * EMG_MV_PER_COUNT)
    records = [r for frame in emg for r in detector.process(frame)] + detector.flush()
    events = [r for r in records if r.measurement == "spasm_event"]
    end_s = (emg[-1].t0_ns - t0_ns) / NS_PER_S
    expected = [s for s in stats["truth"]["spasms"] if s["onset_s"] < end_s - 1.0]
    print(f"EMG collected for {end_s:.2f} s; spasms expected {len(expected)}, events {len(events)}")
    assert len(expected) >= 2  # 3 unless the connection took more than 2.6 s
    for spasm in expected:
        onset_ns = t0_ns + spasm["onset_s"] * NS_PER_S
        offset_ns = t0_ns + spasm["offset_s"] * NS_PER_S
        found = [
            e
            for e in events
            if e.tags["channel"] == str(spasm["channel"])
            and e.time_ns < offset_ns
            and int(e.fields["offset_ns"]) > onset_ns
            and abs(e.time_ns - onset_ns) < ONSET_TOLERANCE_S * NS_PER_S
        ]
        assert found, f"spasm {spasm} not detected; events: {events}"
