"""The orientation filter: closed-form cases, an oracle, bias learning and chunking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from monitor.dsp.imu import OrientationFilter, orientation
from monitor.dsp.imu import quaternion as quat
from monitor.synth.motion import generate_motion


def _up_in_sensor(q: np.ndarray) -> np.ndarray:
    return Rotation.from_quat(q, scalar_first=True).inv().apply([0.0, 0.0, 1.0])


def test_flat_still_imu_is_identity() -> None:
    acc = np.tile([0.0, 0.0, 1.0], (200, 1))
    q = orientation(acc, np.zeros((200, 3)), 100.0)
    np.testing.assert_allclose(q, np.tile([1.0, 0.0, 0.0, 0.0], (200, 1)), atol=1e-12)


def test_first_sample_sets_inclination_from_gravity() -> None:
    tilted = Rotation.from_euler("xy", [30.0, -50.0], degrees=True)
    acc = np.tile(tilted.inv().apply([0.0, 0.0, 1.0]), (10, 1))
    q = orientation(acc, np.zeros((10, 3)), 100.0)
    np.testing.assert_allclose(_up_in_sensor(q), acc, atol=1e-9)


def test_rotation_about_gravity_matches_scipy_oracle() -> None:
    # Turning flat at 90 deg/s for 2 s: the accelerometer cannot see heading, so the
    # filter must reproduce pure gyroscope integration, which scipy computes exactly.
    rate_hz, n = 100.0, 200
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    gyr = np.tile([0.0, 0.0, 90.0], (n, 1))
    q = orientation(acc, gyr, rate_hz)
    expected = Rotation.from_euler("z", 90.0 * np.arange(1, n + 1)[:, None] / rate_hz, degrees=True)
    error_deg = (Rotation.from_quat(q, scalar_first=True) * expected.inv()).magnitude()
    assert np.degrees(error_deg).max() < 0.01


def test_gyroscope_bias_is_learnt_at_rest() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    bias = np.array([3.0, -2.0, 1.5])
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 0.005, (n, 3))
    gyr = bias + rng.normal(0, 0.2, (n, 3))
    f = OrientationFilter(100.0)
    q = f.update(acc, gyr)
    np.testing.assert_allclose(f.bias_dps, bias, atol=0.1)
    # With the bias learnt, inclination stays within a fraction of a degree.
    tilt_deg = np.degrees(np.arccos(np.clip(_up_in_sensor(q[-100:])[:, 2], -1, 1)))
    assert tilt_deg.max() < 0.5


@pytest.mark.parametrize("rate_hz", [100.0, 52.0])
def test_inclination_tracks_ground_truth_during_motion(rate_hz: float) -> None:
    rec = generate_motion("knee", duration_s=90, sample_rate_hz=rate_hz, seed=4)
    for acc, gyr, truth in (
        (rec.acc_prox_g, rec.gyr_prox_dps, rec.quat_prox),
        (rec.acc_dist_g, rec.gyr_dist_dps, rec.quat_dist),
    ):
        q = orientation(acc, gyr, rate_hz)
        cos = np.sum(_up_in_sensor(q) * _up_in_sensor(truth), axis=1)
        tilt_error_deg = np.degrees(np.arccos(np.clip(cos, -1, 1)))
        assert np.sqrt(np.mean(tilt_error_deg**2)) < 2.5


def test_output_is_unit_quaternions() -> None:
    rec = generate_motion("elbow", duration_s=40, seed=5)
    q = orientation(rec.acc_dist_g, rec.gyr_dist_dps, rec.sample_rate_hz)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    assert quat.multiply(q[:1], quat.conjugate(q[:1]))[0, 0] == pytest.approx(1.0)


_REC = generate_motion("ankle", duration_s=34, sample_rate_hz=50, noise="high", seed=6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30))
def test_chunked_stream_equals_batch(chunk_sizes: list[int]) -> None:
    acc, gyr = _REC.acc_dist_g, _REC.gyr_dist_dps
    batch = orientation(acc, gyr, _REC.sample_rate_hz)
    f = OrientationFilter(_REC.sample_rate_hz)
    parts, start = [], 0
    for size in chunk_sizes * (len(acc) // max(sum(chunk_sizes), 1) + 1):
        if start >= len(acc):
            break
        parts.append(f.update(acc[start : start + size], gyr[start : start + size]))
        start += size
    np.testing.assert_array_equal(np.concatenate(parts), batch)


@pytest.mark.parametrize(
    ("acc", "gyr", "message"),
    [
        (np.zeros((5, 2)), np.zeros((5, 3)), r"acc_g must have shape \(n, 3\)"),
        (np.zeros((5, 3)), np.zeros((4, 3)), "same shape"),
        (np.full((5, 3), np.nan), np.zeros((5, 3)), "finite"),
    ],
)
def test_bad_input_is_named(acc: np.ndarray, gyr: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        orientation(acc, gyr, 100.0)


def test_bias_is_learnt_while_the_body_sways() -> None:
    # Standing still but swaying 3 degrees: the sway is real rotation, seen alike by the
    # gyroscope and the accelerometer, so it must not be read as gyroscope bias.
    rec = generate_motion(
        "knee",
        duration_s=40,
        n_sets=0,
        n_spasms=0,
        walking=False,
        seed=62,
        gyro_bias_dps=5.0,
        sway_amplitude_deg=3.0,
    )
    for acc, gyr, bias in (
        (rec.acc_prox_g, rec.gyr_prox_dps, rec.gyr_bias_prox_dps),
        (rec.acc_dist_g, rec.gyr_dist_dps, rec.gyr_bias_dist_dps),
    ):
        f = OrientationFilter(rec.sample_rate_hz)
        errors = []
        for start in range(int(20 * rec.sample_rate_hz), rec.n_samples, 100):
            f.update(acc[start - 100 if errors else 0 : start], gyr[start - 100 if errors else 0 : start])
            errors.append(np.abs(f.bias_dps - bias[start - 1]).max())
        assert max(errors) < 0.5


def test_an_all_zero_accelerometer_frame_skips_the_correction_instead_of_dividing_by_zero() -> None:
    """Issue 13: one all-zero sample (a glitching IMU) ended all processing."""
    rec = generate_motion("knee", duration_s=40.0, sample_rate_hz=100.0, seed=4)
    acc = rec.acc_prox_g.copy()
    reference = orientation(acc, rec.gyr_prox_dps, 100.0)
    for start in (5, 500):  # during the start-up ramp (high gain) and after it
        glitched = acc.copy()
        glitched[start : start + 3] = 0.0
        q = orientation(glitched, rec.gyr_prox_dps, 100.0)
        assert np.isfinite(q).all()
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)
        relative = quat.multiply(quat.conjugate(reference[-1:]), q[-1:])
        assert np.degrees(2 * np.arccos(min(1.0, abs(float(relative[0, 0]))))) < 1.0


def test_an_accelerometer_reading_off_for_good_is_followed_again_after_the_recovery_period() -> None:
    """Fusion's acceleration recovery: a sensor reading 1.3 g for good, on a limb that keeps
    turning (so never at rest), is not rejected for ever: the gyroscope's bias would tilt
    the estimate without bound."""
    rate_hz, tilt_deg = 100.0, 30.0
    t = np.arange(int(60 * rate_hz)) / rate_hz
    heading_rate_dps = 40.0 * np.cos(2 * np.pi * 0.5 * t)  # turning about the vertical
    mount = Rotation.from_euler("x", tilt_deg, degrees=True)
    gyr = mount.inv().apply(np.column_stack([np.zeros_like(t), np.zeros_like(t), heading_rate_dps]))
    gyr[:, 0] += 2.0  # bias, deg/s
    acc = np.tile(mount.inv().apply([0.0, 0.0, 1.0]) * 1.3, (t.size, 1))
    q = orientation(acc, gyr, rate_hz)
    up = Rotation.from_quat(q[:, [1, 2, 3, 0]]).inv().apply([0.0, 0.0, 1.0])  # earth up, sensor frame
    true_up = mount.inv().apply([0.0, 0.0, 1.0])
    error_deg = np.degrees(np.arccos(np.clip(up @ true_up, -1.0, 1.0)))
    assert error_deg[-1000:].max() < 5.0
