"""One failing processor or one bad record never ends the run (issue 13, point 1).

Frames go through the real :class:`~monitor.pipeline.Pipeline` and its records into a real
spool file, as a live run and a replay store them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from monitor.config import AppConfig, parse_config
from monitor.dsp import SpasmDetector
from monitor.pipeline import Pipeline
from monitor.store import Spool
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

T0_NS = 1_764_000_000 * NS_PER_S
THIGH, SHANK, CALF = "A0:9E:1A:00:00:01", "A0:9E:1A:00:00:02", "F1:00:00:00:00:03"
RATE_HZ = 52.0


def _config() -> AppConfig:
    return parse_config(
        {
            "patient": {"id": "p13"},
            "device": [
                {
                    "profile": "polar",
                    "address": THIGH,
                    "placement": "thigh",
                    "side": "right",
                    "joint": "knee",
                },
                {
                    "profile": "polar",
                    "address": SHANK,
                    "placement": "shank",
                    "side": "right",
                    "joint": "knee",
                },
                {"address": CALF, "placement": "calf", "muscle": "soleus"},
            ],
        }
    )


def _frames(
    device: str, sensor: str, kind: SensorKind, rate_hz: float, samples: npt.NDArray[np.float64], n: int
) -> Iterator[Frame]:
    for seq, start in enumerate(range(0, samples.shape[0], n)):
        t0 = T0_NS + round(start * NS_PER_S / rate_hz)
        yield Frame(StreamId(device, sensor), kind, rate_hz, t0, seq, seq, samples[start : start + n])


def _home(duration_s: float, zero_acc_s: tuple[float, float] | None = None) -> list[Frame]:
    """A knee pair and an EMG calf; the thigh's accelerometer reads 0 g over ``zero_acc_s``."""
    motion = generate_motion("knee", duration_s=duration_s, sample_rate_hz=RATE_HZ, seed=3, t0_ns=T0_NS)
    acc = motion.acc_prox_g.copy()
    if zero_acc_s is not None:
        acc[round(zero_acc_s[0] * RATE_HZ) : round(zero_acc_s[1] * RATE_HZ)] = 0.0  # a glitching IMU
    emg = np.random.default_rng(1).normal(0.0, 0.01, (round(duration_s * 1000), 1))
    frames = [
        *_frames(THIGH, "acc", SensorKind.ACC, RATE_HZ, acc, 36),
        *_frames(THIGH, "gyr", SensorKind.GYR, RATE_HZ, motion.gyr_prox_dps, 36),
        *_frames(SHANK, "acc", SensorKind.ACC, RATE_HZ, motion.acc_dist_g, 36),
        *_frames(SHANK, "gyr", SensorKind.GYR, RATE_HZ, motion.gyr_dist_dps, 36),
        *_frames(CALF, "emg", SensorKind.EMG, 1000.0, emg, 25),
    ]
    return sorted(frames, key=lambda f: f.t0_ns)  # as the collector interleaves streams


def _run_into_spool(pipeline: Pipeline, items: list[Frame | Record], spool_path: Path) -> list[Record]:
    with Spool(spool_path) as spool:
        for item in items:
            spool.append(pipeline.process(item))
        spool.append(pipeline.flush())
        return spool.query(0, 2**62)


def test_zero_accelerometer_samples_never_stop_the_other_processors(tmp_path: Path) -> None:
    zeros_s = (20.0, 21.0)
    pipeline = Pipeline(_config())
    stored = _run_into_spool(pipeline, list(_home(60.0, zeros_s)), tmp_path / "spool.sqlite")
    kinds = Counter(r.measurement for r in stored)
    # EMG, movement and coverage go on for the whole minute, whatever the knee's kernel did.
    assert kinds["emg_envelope"] >= 55
    assert any(r.measurement == "movement" and r.tags["device"] == SHANK for r in stored)
    covered = {(r.tags["device"], r.tags["sensor"]) for r in stored if r.measurement == "coverage"}
    assert len(covered) == 5
    # The knee angle comes back after the glitch (a reset processor calibrates again).
    after = [r for r in stored if r.measurement == "joint_angle" and r.time_ns > T0_NS + 40 * NS_PER_S]
    assert after
    # Whatever failed was counted and stored, never silent.
    errors = [r for r in stored if r.measurement == "dsp_error"]
    assert sum(pipeline.stats.processor_errors.values()) >= len(errors)
    assert all(r.tags["patient"] == "p13" for r in errors)


def test_a_failing_processor_is_reset_reported_once_a_minute_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SpasmDetector.process
    calls = Counter[str]()

    def fails_for_a_while(self: SpasmDetector, frame: Frame) -> list[Record]:
        calls["all"] += 1
        # A bug met between 10 s and 40 s of data: every frame of those 30 s fails.
        if T0_NS + 10 * NS_PER_S <= frame.t0_ns < T0_NS + 40 * NS_PER_S:
            raise RuntimeError("kernel bug")
        return original(self, frame)

    monkeypatch.setattr(SpasmDetector, "process", fails_for_a_while)
    pipeline = Pipeline(_config())
    stored = _run_into_spool(pipeline, list(_home(90.0)), tmp_path / "spool.sqlite")
    errors = [r for r in stored if r.measurement == "dsp_error"]
    assert pipeline.stats.processor_errors["emg/RuntimeError"] == 30 * 40  # 40 EMG frames/s
    assert len(errors) == 1  # 30 s of failures: one record and one log line, not 1,200
    assert errors[0].fields["processor"] == "emg"
    assert errors[0].fields["error"] == "RuntimeError"
    assert errors[0].tags["device"] == CALF
    assert errors[0].tags["muscle"] == "soleus"
    # The detector was reset and analyses again after the bug's window; the knee never stopped.
    envelopes = [r.time_ns for r in stored if r.measurement == "emg_envelope"]
    assert any(t >= T0_NS + 45 * NS_PER_S for t in envelopes)
    assert any(r.measurement == "joint_angle" for r in stored)


def test_a_failing_flush_loses_only_its_own_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_flush(self: SpasmDetector) -> list[Record]:
        raise FloatingPointError("overflow in the last block")

    monkeypatch.setattr(SpasmDetector, "flush", broken_flush)
    pipeline = Pipeline(_config())
    stored = _run_into_spool(pipeline, list(_home(40.0)), tmp_path / "spool.sqlite")
    kinds = Counter(r.measurement for r in stored)
    assert kinds["observation"] >= 1  # written by the flush after the failing one
    assert kinds["coverage"] >= 3
    assert kinds["rom"] + kinds["movement"] >= 1
    (error,) = [r for r in stored if r.measurement == "dsp_error"]
    assert error.fields["stage"] == "flush"


def test_a_record_line_protocol_cannot_carry_is_dropped_and_counted(tmp_path: Path) -> None:
    pipeline = Pipeline(_config())
    items: list[Frame | Record] = [
        Record("battery", T0_NS, {"percent": 80}, {"device": CALF}),
        Record("ble_status", T0_NS, {"state": "retrying", "reason": "x"}, {"device": CALF, "bad": "a\nb"}),
        Record("battery", T0_NS + 1, {"percent": 79}, {"device": CALF}),
        *_home(40.0),
    ]
    stored = _run_into_spool(pipeline, items, tmp_path / "spool.sqlite")
    assert pipeline.stats.unrenderable_records == 1
    batteries = [r for r in stored if r.measurement == "device_status" and "battery_pct" in r.fields]
    assert [r.fields["battery_pct"] for r in batteries] == [80, 79]
    assert any(r.measurement == "coverage" for r in stored)
