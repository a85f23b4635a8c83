"""Calibration as a step of its own (issue 13.9): failed calibrations never mis-stamp angles,
ROM survives BLE drops and garbage frames, and a guided calibration stored in a real spool is
what a new run's pipeline uses, with no implicit calibration."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from monitor.commands.calibrate import calibration_record, find_pair
from monitor.config import AppConfig, parse_config
from monitor.dsp.imu import JointAngleProcessor, calibrate_joint, orientation
from monitor.dsp.imu.calibration_step import GuidedCalibration, Phase
from monitor.dsp.imu.streaming import SegmentStreams
from monitor.pipeline import Pipeline
from monitor.store import Spool
from monitor.store.calibrations import stored_calibrations
from monitor.synth.motion import MotionRecording, generate_motion
from monitor.types import Frame, Record, SensorKind, StreamId

RATE_HZ = 50.0
THIGH, SHANK = "F1:00:00:00:00:02", "F1:00:00:00:00:03"
PROX = SegmentStreams(StreamId(THIGH, "acc"), StreamId(THIGH, "gyr"))
DIST = SegmentStreams(StreamId(SHANK, "acc"), StreamId(SHANK, "gyr"))
REC = generate_motion("knee", duration_s=90, sample_rate_hz=RATE_HZ, noise="typical", seed=21)


def _frames(
    rec: MotionRecording, size: int = 25, skip: range = range(0), garbage: int | None = None
) -> list[Frame]:
    """The four streams in frames of ``size``, interleaved; frames starting in ``skip`` are lost
    (a BLE drop); the distal accelerometer frame starting at ``garbage`` holds inf and NaN."""
    streams = [
        (PROX.gyr, SensorKind.GYR, rec.gyr_prox_dps),
        (PROX.acc, SensorKind.ACC, rec.acc_prox_g),
        (DIST.gyr, SensorKind.GYR, rec.gyr_dist_dps),
        (DIST.acc, SensorKind.ACC, rec.acc_dist_g),
    ]
    frames = []
    for start in range(0, rec.n_samples, size):
        if start in skip:
            continue
        for sid, kind, data in streams:
            samples = data[start : start + size].copy()
            if start == garbage and sid == DIST.acc:
                samples[: size // 2] = np.inf
                samples[size // 2 :] = np.nan
            last = start + samples.shape[0] - 1
            frames.append(Frame(sid, kind, rec.sample_rate_hz, int(rec.time_ns[start]), start, last, samples))
    return frames


def _run(processor: JointAngleProcessor | Pipeline, frames: list[Frame]) -> list[Record]:
    records: list[Record] = []
    for frame in frames:
        records += processor.process(frame)
    return records + processor.flush()


def _angle_error_deg(records: list[Record], rec: MotionRecording) -> np.ndarray:
    """Each joint_angle record against the true angle at its own timestamp, degrees."""
    angles = [r for r in records if r.measurement == "joint_angle"]
    truth = np.interp([r.time_ns for r in angles], rec.time_ns, rec.angle_deg)
    return np.array([r.fields["angle_deg"] for r in angles]) - truth


def _calibrations(records: list[Record]) -> list[str]:
    return [str(r.fields["status"]) for r in records if r.measurement == "calibration"]


def test_failed_calibration_window_is_skipped_and_every_angle_keeps_its_true_time() -> None:
    # A BLE drop of 1.5 s takes the whole neutral pose (2-3 s) of the first window: it cannot
    # calibrate ("Eigenvalues did not converge" before the fix, raised out of process()).
    drop = range(90, 165)
    processor = JointAngleProcessor(PROX, DIST, RATE_HZ)
    records = _run(processor, _frames(REC, skip=drop))
    assert _calibrations(records) == ["missing", "failed", "implicit"]
    assert processor.calibration_failures == 1
    # Each outcome is stamped when its window closes (its last sample, 14 s later less one
    # sample), so no two calibration records share a time and a store keeps them all.
    last_sample_ns = 14 * 10**9 - round(10**9 / RATE_HZ)
    failed = next(r for r in records if r.fields.get("status") == "failed")
    assert failed.time_ns == REC.t0_ns + last_sample_ns
    assert "neutral pose" in str(failed.fields["message"])
    implicit = next(r for r in records if r.fields.get("status") == "implicit")
    angles = [r for r in records if r.measurement == "joint_angle"]
    # The second window (from 14 s) calibrated, and its angles are stamped from 14 s, not 0.
    assert angles[0].time_ns == REC.t0_ns + 14 * 10**9
    assert implicit.time_ns == angles[0].time_ns + last_sample_ns
    calibration_times = [r.time_ns for r in records if r.measurement == "calibration"]
    assert len(set(calibration_times)) == len(calibration_times)
    error = _angle_error_deg(records, REC)
    assert len(error) > 700
    assert np.sqrt(np.mean(error**2)) < 3.0  # 9.6 when stamped 14 s early
    # ROM starts with the first angle too: the first minute holds 46 s of angles at most.
    first_minute = next(r for r in records if r.measurement == "rom" and r.tags["period"] == "window")
    assert first_minute.time_ns == REC.t0_ns
    assert int(first_minute.fields["samples"]) <= 46 * RATE_HZ + 1


def test_short_drop_inside_the_calibration_window_does_not_stop_calibration() -> None:
    # 0.3 s lost during the calibration flexions: the window calibrates from what it has.
    processor = JointAngleProcessor(PROX, DIST, RATE_HZ)
    records = _run(processor, _frames(REC, size=5, skip=range(400, 415)))
    assert _calibrations(records) == ["missing", "implicit"]
    assert processor.calibration_failures == 0
    assert [r.measurement for r in records].count("imu_gap") == 1
    error = _angle_error_deg(records, REC)
    assert np.sqrt(np.mean(error**2)) < 3.0
    assert sum(r.measurement == "rom" and r.tags["period"] == "window" for r in records) == 2


def test_garbage_frame_after_calibration_is_a_gap_and_rom_goes_on() -> None:
    # One distal accelerometer frame of inf and NaN at 30 s (a corrupt frame after a drop):
    # before the fix the orientation filter refused it with a ValueError out of process().
    processor = JointAngleProcessor(PROX, DIST, RATE_HZ)
    records = _run(processor, _frames(REC, garbage=1500))
    gaps = [r for r in records if r.measurement == "imu_gap"]
    assert len(gaps) == 1
    assert gaps[0].fields["duration_s"] == pytest.approx(0.5, abs=0.1)
    late = [r for r in records if r.measurement == "joint_angle" and r.time_ns > REC.time_ns[1600]]
    assert len(late) > 400  # angles resume after the gap...
    assert np.sqrt(np.mean(_angle_error_deg(records, REC) ** 2)) < 3.0
    windows = [r for r in records if r.measurement == "rom" and r.tags["period"] == "window"]
    assert len(windows) == 2  # ...and so does ROM (one per minute of the 90 s)


# --- the guided calibration, stored and used by the next run ---------------------------------


def _config() -> AppConfig:
    devices = [
        {"profile": "reference", "address": THIGH, "placement": "thigh", "side": "left", "joint": "knee"},
        {"profile": "reference", "address": SHANK, "placement": "shank", "side": "left", "joint": "knee"},
    ]
    return parse_config({"patient": {"id": "p09"}, "device": devices}, environ={})


def _guided(rec: MotionRecording) -> GuidedCalibration:
    # The recording opens as the prompts ask: still (3 s: 2 s of filter settling, 1 s held),
    # then three flexions to 40 deg.
    step = GuidedCalibration(PROX, DIST, RATE_HZ, "knee", hold_s=1.0)
    for frame in _frames(rec):
        step.process(frame)
    return step


def test_guided_calibration_finds_the_implicit_calibration_of_the_same_routine() -> None:
    step = _guided(REC)
    assert step.phase is Phase.DONE
    assert step.flexions_seen == 3
    assert step.restarts == 0
    assert step.result is not None
    assert step.result.functional
    assert step.result.calibrated_ns == REC.t0_ns + 2 * 10**9  # the held neutral pose
    qp = orientation(REC.acc_prox_g, REC.gyr_prox_dps, RATE_HZ)
    qd = orientation(REC.acc_dist_g, REC.gyr_dist_dps, RATE_HZ)
    implicit = calibrate_joint(qp, qd, RATE_HZ)
    axis_deg = np.degrees(np.arccos(np.clip(step.result.axis_prox @ implicit.axis_prox, -1, 1)))
    assert axis_deg < 3.0
    assert step.result.flexion_deg == pytest.approx(40.0, abs=6.0)


def test_guided_calibration_restarts_after_a_drop_and_gives_up_without_flexions() -> None:
    drop_in_neutral = _frames(REC, skip=range(125, 135))  # 0.2 s lost while holding still
    step = GuidedCalibration(PROX, DIST, RATE_HZ, "knee", hold_s=1.0, phase_timeout_s=10.0)
    for frame in drop_in_neutral:
        step.process(frame)
    assert step.restarts == 1  # started over from the neutral pose after the drop
    assert step.phase in (Phase.DONE, Phase.FAILED)
    still = generate_motion(
        "knee", duration_s=60, sample_rate_hz=RATE_HZ, n_sets=0, n_spasms=0, walking=False, seed=5
    )
    quiet = [f for f in _frames(still) if f.seq_first >= 20 * RATE_HZ]  # rest only: no flexions
    step = GuidedCalibration(PROX, DIST, RATE_HZ, "knee", phase_timeout_s=10.0)
    for frame in quiet:
        step.process(frame)
    assert step.phase is Phase.FAILED
    assert step.result is None
    assert "flexions" in (step.error or "")


def test_stored_calibration_survives_a_restart_through_a_real_spool(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config()
    pair = find_pair(config, "knee", "left")
    step = _guided(REC)
    assert step.result is not None
    spool_path = tmp_path / "spool.sqlite"
    with Spool(spool_path) as spool:
        with caplog.at_level(logging.WARNING):
            assert stored_calibrations(spool, config) == {}
        assert "no stored calibration for the left knee" in caplog.text
        spool.append([calibration_record(config, pair, step.result)])
    # A later run (a new process: a new Spool, a new Pipeline) reads it back.
    with Spool(spool_path) as spool:
        stored = stored_calibrations(spool, config)
    assert set(stored) == {("left", "knee")}
    np.testing.assert_allclose(stored["left", "knee"].axis_prox, step.result.axis_prox, atol=1e-12)
    # The run starts mid-activity at 20 s, with no neutral pose to calibrate from.
    later = [f for f in _frames(REC) if f.seq_first >= 20 * RATE_HZ]
    records = _run(Pipeline(config, calibrations=stored), later)
    assert _calibrations(records) == ["stored"]
    opening = next(r for r in records if r.measurement == "calibration")
    assert {"patient": "p09", "joint": "knee", "side": "left"}.items() <= opening.tags.items()
    assert opening.fields["calibrated_ns"] == step.result.calibrated_ns
    angles = [r for r in records if r.measurement == "joint_angle"]
    assert angles[0].time_ns == REC.time_ns[1000]  # from the first sample, no 14 s wait
    assert np.sqrt(np.mean(_angle_error_deg(records, REC) ** 2)) < 3.0
    # Without it the same run would take 20-34 s as its neutral pose and flexions.
    implicit = _run(Pipeline(config), later)
    assert _calibrations(implicit) == ["missing", "implicit"]


def test_a_calibration_of_other_wearables_is_not_used(tmp_path: Path) -> None:
    config = _config()
    step = _guided(REC)
    assert step.result is not None
    record = calibration_record(config, find_pair(config, "knee", "left"), step.result)
    record.fields["distal"] = "F1:00:00:00:00:09"  # taken with another shank wearable
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append([record])
        assert stored_calibrations(spool, config) == {}
