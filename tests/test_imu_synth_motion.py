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
