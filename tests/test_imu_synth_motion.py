"""The motion generator is physically consistent and its labels describe its signals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from monitor.synth.motion import NOISE_LEVELS, ImuErrorModel, generate_motion


@pytest.fixture
def noiseless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(NOISE_LEVELS, "low", ImuErrorModel(0.0, 0.0, 0.0, 0.0, 0.0, 15.0))


@pytest.mark.usefixtures("noiseless")
@pytest.mark.parametrize("joint", ["knee", "elbow", "ankle"])
def test_gyroscope_integrates_to_the_true_orientation(joint: str) -> None:
    rec = generate_motion(joint, duration_s=60, sample_rate_hz=100, noise="low", seed=1)  # type: ignore[arg-type]
    for quat, gyr in ((rec.quat_prox, rec.gyr_prox_dps), (rec.quat_dist, rec.gyr_dist_dps)):
        rot = Rotation.from_quat(quat, scalar_first=True)
        rate_dps = (rot[:-1].inv() * rot[1:]).as_rotvec(degrees=True) * rec.sample_rate_hz
        mismatch = np.linalg.norm(rate_dps - (gyr[:-1] + gyr[1:]) / 2, axis=1)
        # Sampling a 40 ms jerk at 100 Hz is inexact; everything else agrees closely.
        assert np.percentile(mismatch, 99) < 1.0


@pytest.mark.usefixtures("noiseless")
def test_accelerometer_reads_gravity_at_rest() -> None:
    rec = generate_motion("knee", duration_s=40, sample_rate_hz=52, noise="low", seed=2)
    rest = slice(0, int(2 * rec.sample_rate_hz))
    up_in_sensor = Rotation.from_quat(rec.quat_dist[rest], scalar_first=True).inv().apply([0, 0, 1])
    np.testing.assert_allclose(rec.acc_dist_g[rest], up_in_sensor, atol=1e-6)


def test_labels_match_the_true_angle() -> None:
    rec = generate_motion("elbow", duration_s=200, sample_rate_hz=50, n_sets=2, seed=3)
    t = rec.time_ns
    assert rec.sets[0].n_reps == 3  # the calibration flexions
    assert len(rec.sets) == 3
    for exercise in rec.sets:
        inside = (t >= exercise.start_ns) & (t <= exercise.end_ns)
        assert rec.angle_deg[inside].max() == pytest.approx(exercise.max_deg, abs=1.0)
        assert 5 <= exercise.n_reps <= 12 or exercise is rec.sets[0]
    assert len(rec.spasms) == 4
    for spasm in rec.spasms:
        assert spasm.imu_peak_dps is not None
        assert spasm.imu_peak_dps > 100
        assert spasm.peak_mv is None
        assert not any(s.start_ns <= spasm.onset_ns <= s.end_ns for s in rec.sets)


def test_same_seed_gives_same_recording() -> None:
    a = generate_motion("ankle", duration_s=40, seed=9)
    b = generate_motion("ankle", duration_s=40, seed=9)
    np.testing.assert_array_equal(a.gyr_dist_dps, b.gyr_dist_dps)
    assert a.spasms == b.spasms


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"joint": "hip"}, "joint must be one of"),
        ({"sample_rate_hz": 5.0}, "sample_rate_hz"),
        ({"duration_s": 10.0}, "duration_s"),
        ({"noise": "extreme"}, "noise"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_motion(**kwargs)  # type: ignore[arg-type]


# --- the added conditions -----------------------------------------------------------


def _angle_deg(q: np.ndarray) -> np.ndarray:
    return np.asarray(Rotation.from_quat(q, scalar_first=True).magnitude(), dtype=float) * 180 / np.pi


@pytest.mark.parametrize("misalignment_deg", [0.0, 8.0, 15.0])
def test_misalignment_rotates_the_sensor_frame_by_the_stated_angle(misalignment_deg: float) -> None:
    rec = generate_motion("knee", duration_s=40, seed=51, mount_misalignment_deg=misalignment_deg)
    aligned = generate_motion("knee", duration_s=40, seed=51, mount_misalignment_deg=0.0)
    for mount, quat, quat_aligned in (
        (rec.mount_prox, rec.quat_prox, aligned.quat_prox),
        (rec.mount_dist, rec.quat_dist, aligned.quat_dist),
    ):
        assert 0.5 * misalignment_deg - 1e-9 <= _angle_deg(mount) <= misalignment_deg + 1e-9
        # Same motion, same draws: the sensor frame is the segment frame turned by the mount.
        segment = Rotation.from_quat(quat_aligned, scalar_first=True)
        expected = segment * Rotation.from_quat(mount, scalar_first=True)
        error_deg = np.degrees((Rotation.from_quat(quat, scalar_first=True) * expected.inv()).magnitude())
        assert error_deg.max() < 1e-6
        between_deg = np.degrees((Rotation.from_quat(quat, scalar_first=True) * segment.inv()).magnitude())
        np.testing.assert_allclose(between_deg, _angle_deg(mount), atol=1e-6)


def test_gyroscope_bias_appears_in_the_gyroscope_at_rest() -> None:
    rec = generate_motion("elbow", duration_s=40, seed=52, gyro_bias_dps=4.0, gyro_bias_wander_dps=0.0)
    neutral = slice(0, int(rec.neutral_s * rec.sample_rate_hz))  # the arm hangs still
    for gyr, bias in ((rec.gyr_prox_dps, rec.gyr_bias_prox_dps), (rec.gyr_dist_dps, rec.gyr_bias_dist_dps)):
        assert np.abs(bias[0]).max() <= 4.0
        assert np.abs(bias[0]).max() > 0.5
        # 0.15 °/s of white noise averages to < 0.05 °/s over 300 samples.
        np.testing.assert_allclose(gyr[neutral].mean(axis=0), bias[neutral].mean(axis=0), atol=0.05)


def test_bias_wander_starts_at_zero_and_moves_slowly_within_its_bound() -> None:
    calm = generate_motion("knee", duration_s=300, seed=53, gyro_bias_walk_dps_per_sqrt_s=0.0)
    rec = generate_motion(
        "knee", duration_s=300, seed=53, gyro_bias_walk_dps_per_sqrt_s=0.0, gyro_bias_wander_dps=1.5
    )
    wander = rec.gyr_bias_prox_dps - calm.gyr_bias_prox_dps
    np.testing.assert_allclose(wander[0], 0.0, atol=1e-12)
    assert np.abs(wander).max() <= 1.5
    assert np.abs(wander).max() > 0.5
    step_dps = np.abs(np.diff(wander, axis=0)).max() * rec.sample_rate_hz
    assert step_dps < 0.2  # deg/s per s: a drift over minutes, not a jump


@pytest.mark.usefixtures("noiseless")
def test_scale_errors_are_per_axis_and_within_their_bounds() -> None:
    kwargs = {"duration_s": 60.0, "noise": "low", "seed": 54}  # mounted askew: signal on every axis
    exact = generate_motion("elbow", **kwargs)  # type: ignore[arg-type]
    scaled = generate_motion("elbow", gyro_scale_error=0.03, accel_scale_error=0.02, **kwargs)  # type: ignore[arg-type]
    for got, true, bound in (
        (scaled.gyr_dist_dps, exact.gyr_dist_dps, 0.03),
        (scaled.acc_dist_g, exact.acc_dist_g, 0.02),
    ):
        moving = np.abs(true) > 0.2
        ratios = [np.median(got[moving[:, k], k] / true[moving[:, k], k]) for k in range(3)]
        assert all(abs(r - 1.0) <= bound + 1e-9 for r in ratios)
        assert max(abs(r - 1.0) for r in ratios) > bound / 10
        assert len({round(r, 6) for r in ratios}) == 3  # one factor per axis


def test_body_sway_tilts_both_segments_together_in_pitch_and_roll() -> None:
    still = generate_motion("knee", duration_s=40, seed=55, noise="low")
    rec = generate_motion("knee", duration_s=40, seed=55, noise="low", sway_amplitude_deg=3.0)
    np.testing.assert_array_equal(rec.angle_deg, still.angle_deg)  # the joint does not move
    neutral = slice(0, int(rec.neutral_s * rec.sample_rate_hz))
    for quat, quat_still in ((rec.quat_prox, still.quat_prox), (rec.quat_dist, still.quat_dist)):
        up = Rotation.from_quat(quat, scalar_first=True).apply([1.0, 0.0, 0.0])  # segment long axis
        up_still = Rotation.from_quat(quat_still, scalar_first=True).apply([1.0, 0.0, 0.0])
        tilt_deg = np.degrees(np.arccos(np.clip(np.sum(up * up_still, axis=1), -1, 1)))
        assert 0.5 < tilt_deg.max() <= 3.0 * np.sqrt(2) + 0.1
        assert tilt_deg[neutral].max() > 0.1  # sway also during the neutral pose
    # Side to side as well as forward-back: the long axis leaves the sagittal (x-z) plane.
    long_axis = Rotation.from_quat(rec.quat_prox, scalar_first=True).apply([1.0, 0.0, 0.0])
    assert np.degrees(np.abs(np.arcsin(long_axis[:, 1]))).max() > 0.5


@pytest.mark.usefixtures("noiseless")
def test_gyroscope_integrates_to_the_true_orientation_under_sway() -> None:
    rec = generate_motion("ankle", duration_s=60, noise="low", seed=56, sway_amplitude_deg=3.0)
    for quat, gyr in ((rec.quat_prox, rec.gyr_prox_dps), (rec.quat_dist, rec.gyr_dist_dps)):
        rot = Rotation.from_quat(quat, scalar_first=True)
        rate_dps = (rot[:-1].inv() * rot[1:]).as_rotvec(degrees=True) * rec.sample_rate_hz
        assert np.percentile(np.linalg.norm(rate_dps - (gyr[:-1] + gyr[1:]) / 2, axis=1), 99) < 1.0


def test_twitches_are_brief_small_spasms_outside_exercise() -> None:
    base = generate_motion("knee", duration_s=120, seed=57, n_spasms=2)
    rec = generate_motion("knee", duration_s=120, seed=57, n_spasms=2, n_twitches=5)
    assert len(base.spasms) == 2
    assert len(rec.spasms) == 7
    twitches = [s for s in rec.spasms if s not in base.spasms]
    assert len(twitches) == 5
    t = rec.time_ns
    for spasm in twitches:
        assert spasm.offset_ns - spasm.onset_ns < 300_000_000  # 8 rise times of <= 30 ms
        inside = (t >= spasm.onset_ns) & (t <= spasm.offset_ns)
        excursion = np.abs(rec.angle_deg[inside] - base.angle_deg[inside]).max()
        assert 2.5 < excursion <= 10.0
        assert not any(s.start_ns <= spasm.onset_ns <= s.end_ns for s in rec.sets)


def test_added_conditions_leave_the_default_recording_unchanged() -> None:
    a = generate_motion("elbow", duration_s=40, seed=58)
    b = generate_motion("elbow", duration_s=40, seed=58, sway_amplitude_deg=0.0, n_twitches=0)
    np.testing.assert_array_equal(a.gyr_dist_dps, b.gyr_dist_dps)
    np.testing.assert_array_equal(a.acc_prox_g, b.acc_prox_g)
    # Switching sway on changes no other draw: sets and spasms stay where they were.
    c = generate_motion("elbow", duration_s=40, seed=58, sway_amplitude_deg=2.0)
    assert c.sets == a.sets
    assert [(s.onset_ns, s.offset_ns) for s in c.spasms] == [(s.onset_ns, s.offset_ns) for s in a.spasms]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mount_misalignment_deg": 60.0}, "mount_misalignment_deg"),
        ({"gyro_bias_dps": -1.0}, "gyro_bias_dps"),
        ({"gyro_scale_error": 0.5}, "gyro_scale_error"),
        ({"accel_scale_error": -0.1}, "accel_scale_error"),
        ({"sway_amplitude_deg": 20.0}, "sway_amplitude_deg"),
        ({"n_twitches": -1}, "n_twitches"),
    ],
)
def test_bad_condition_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_motion(**kwargs)  # type: ignore[arg-type]
