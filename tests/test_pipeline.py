"""The pipeline picks its processing from each frame's kind and rate and from config.toml.

Mixed sets as patients wear them: an IMU-only set (Polar Verity Sense on thigh and shank)
gets ROM and movement spasms; a Myo armband gets EMG spasms at 200 Hz; a reference
wearable falling back to a lower rate after a reconnect keeps being analysed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from monitor.config import AppConfig, parse_config
from monitor.pipeline import Pipeline
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

T0_NS = 1_764_000_000 * NS_PER_S


def _config(*devices: dict[str, str]) -> AppConfig:
    return parse_config({"patient": {"id": "p02", "timezone": "Europe/Madrid"}, "device": list(devices)})


def _frames(
    device: str, sensor: str, kind: SensorKind, rate_hz: float, samples: npt.NDArray[np.float64], n: int
) -> Iterator[Frame]:
    for seq, start in enumerate(range(0, samples.shape[0], n)):
        t0 = T0_NS + round(start * NS_PER_S / rate_hz)
        yield Frame(StreamId(device, sensor), kind, rate_hz, t0, seq, seq, samples[start : start + n])


def _run(pipeline: Pipeline, frames: list[Frame]) -> list[Record]:
    frames.sort(key=lambda f: f.t0_ns)  # as the collector interleaves streams
    records = [r for f in frames for r in pipeline.process(f)]
    return records + pipeline.flush()


def test_imu_only_set_gets_rom_and_movement_spasms() -> None:
    thigh, shank = "A0:9E:1A:00:00:01", "A0:9E:1A:00:00:02"
    config = _config(
        {"profile": "polar", "address": thigh, "placement": "thigh", "side": "right", "joint": "knee"},
        {"profile": "polar", "address": shank, "placement": "shank", "side": "right", "joint": "knee"},
    )
    rate_hz = 52.0  # Verity Sense ACC and GYRO
    motion = generate_motion("knee", duration_s=180.0, sample_rate_hz=rate_hz, seed=3, t0_ns=T0_NS)
    frames = [
        *_frames(thigh, "acc", SensorKind.ACC, rate_hz, motion.acc_prox_g, 36),
        *_frames(thigh, "gyr", SensorKind.GYR, rate_hz, motion.gyr_prox_dps, 36),
        *_frames(shank, "acc", SensorKind.ACC, rate_hz, motion.acc_dist_g, 36),
        *_frames(shank, "gyr", SensorKind.GYR, rate_hz, motion.gyr_dist_dps, 36),
    ]
    records = _run(Pipeline(config), frames)
    kinds = Counter(r.measurement for r in records)
    assert kinds["joint_angle"] > 1000
    sets = [r for r in records if r.measurement == "rom" and r.tags["period"] == "set"]
    assert sets
    assert all(r.tags["side"] == "right" for r in sets)
    true_best = max(s.max_deg - s.min_deg for s in motion.sets)
    assert abs(max(float(r.fields["range_deg"]) for r in sets) - true_best) < 10.0
    jerks = [r for r in records if r.measurement == "spasm_event" and r.tags["location"] == "shank"]
    assert len(jerks) >= len(motion.spasms) - 1
    assert not any(r.measurement == "emg_envelope" for r in records)


def test_myo_gets_emg_spasms_at_200_hz() -> None:
    myo = "D0:5E:00:00:00:01"
    config = _config(
        {
            "profile": "myo",
            "address": myo,
            "placement": "forearm",
            "side": "left",
            "muscle": "forearm_flexors",
        }
    )
    recording = generate_emg(EmgScenario(sample_rate_hz=200.0, channels=8, duration_s=300.0, seed=5))
    frames = list(_frames(myo, "emg", SensorKind.EMG, 200.0, recording.emg_mv, 2))  # 2 samples a notification
    records = _run(Pipeline(config), frames)
    events = [r for r in records if r.measurement == "spasm_event"]
    channels = recording.emg_mv.shape[1]
    true_per_channel = Counter(s.channel for s in recording.spasms)
    found_per_channel = Counter(int(r.tags["channel"]) for r in events)
    for channel in range(channels):
        assert abs(found_per_channel[channel] - true_per_channel[channel]) <= max(
            1, true_per_channel[channel] // 10
        )
    assert all(r.tags["muscle"] == "forearm_flexors" and r.tags["patient"] == "p02" for r in events)


def test_rate_change_after_reconnect_restarts_the_detector_and_keeps_counting() -> None:
    device = "F1:00:00:00:00:09"
    config = _config({"address": device, "placement": "calf", "muscle": "soleus"})
    pipeline = Pipeline(config)
    fast = generate_emg(EmgScenario(sample_rate_hz=1000.0, channels=1, duration_s=60.0, seed=8)).emg_mv
    slow = generate_emg(EmgScenario(sample_rate_hz=250.0, channels=1, duration_s=60.0, seed=9)).emg_mv
    records = [
        r for f in _frames(device, "emg", SensorKind.EMG, 1000.0, fast, 25) for r in pipeline.process(f)
    ]
    later = T0_NS + 70 * NS_PER_S
    for seq, start in enumerate(range(0, slow.shape[0], 4)):
        t0 = later + round(start * NS_PER_S / 250.0)
        frame = Frame(StreamId(device, "emg"), SensorKind.EMG, 250.0, t0, seq, seq, slow[start : start + 4])
        records += pipeline.process(frame)
    records += pipeline.flush()
    assert pipeline.stats.rejected_frames == 0
    onsets = [r.time_ns for r in records if r.measurement == "spasm_event"]
    assert any(t < later for t in onsets)
    assert any(t >= later for t in onsets)
    observations = [r for r in records if r.measurement == "observation"]
    assert abs(sum(float(r.fields["duration_s"]) for r in observations) - 120.0) < 0.5


def test_frames_of_a_device_not_in_the_config_are_ignored_and_counted() -> None:
    pipeline = Pipeline(_config({"address": "F1:00:00:00:00:01", "placement": "calf", "muscle": "soleus"}))
    stranger = Frame(
        StreamId("EE:00:00:00:00:01", "emg"), SensorKind.EMG, 1000.0, T0_NS, 0, 0, np.zeros((25, 1))
    )
    assert pipeline.process(stranger) == []
    assert pipeline.stats.unknown_devices == {"EE:00:00:00:00:01"}
