"""Joint angle against generated ground truth, and the calibration it rests on."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from monitor.dsp.imu import calibrate_joint, joint_angle_deg
from monitor.synth.motion import generate_motion


@pytest.mark.parametrize(
    ("joint", "rate_hz", "noise"),
    [
        ("knee", 100.0, "typical"),
        ("knee", 52.0, "high"),
        ("elbow", 50.0, "typical"),
        ("ankle", 100.0, "high"),
    ],
)
def test_joint_angle_rmse_is_below_two_degrees(joint: str, rate_hz: float, noise: str) -> None:
    rec = generate_motion(joint, duration_s=120, sample_rate_hz=rate_hz, noise=noise, seed=11)  # type: ignore[arg-type]
    angle = joint_angle_deg(
        rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g, rec.gyr_dist_dps, rate_hz, joint
    )
    assert angle.shape == rec.angle_deg.shape
    assert np.sqrt(np.mean((angle - rec.angle_deg) ** 2)) < 2.0


def test_calibration_absorbs_a_strap_put_on_askew() -> None:
    # Turning both IMUs 30 deg on their segments (beyond the 15 deg the generator
    # already applies) must not change the measured angle.
    rec = generate_motion("knee", duration_s=90, noise="typical", seed=12)
    args = (rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g, rec.gyr_dist_dps)
    straight = joint_angle_deg(*args, rec.sample_rate_hz, "knee")
    askew_prox = Rotation.from_euler("xz", [30.0, 20.0], degrees=True)
    askew_dist = Rotation.from_euler("zy", [-30.0, 10.0], degrees=True)
    remounted = [(askew_prox if k < 2 else askew_dist).inv().apply(values) for k, values in enumerate(args)]
    askew = joint_angle_deg(*remounted, rec.sample_rate_hz, "knee")
    assert np.sqrt(np.mean((askew - rec.angle_deg) ** 2)) < 2.0
    assert np.sqrt(np.mean((askew - straight) ** 2)) < 1.5


def test_angle_is_zero_in_the_neutral_pose_and_flexion_is_positive() -> None:
    rec = generate_motion("elbow", duration_s=34, noise="low", seed=13)
    angle = joint_angle_deg(
        rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g, rec.gyr_dist_dps, 100.0, "elbow"
    )
    neutral = slice(200, 300)
    assert abs(angle[neutral].mean()) < 0.5
    peak = int(np.argmax(rec.angle_deg[:1400]))
    assert angle[peak] == pytest.approx(rec.angle_deg[peak], abs=2.0)
    assert angle[peak] > 30


def test_still_calibration_falls_back_to_the_nominal_axis() -> None:
    n = 1500
    q = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    calibration = calibrate_joint(q, q, 100.0)
    assert not calibration.functional
    np.testing.assert_array_equal(calibration.axis_prox, [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"joint": "hip"}, "joint must be one of"),
        ({"sample_rate_hz": 0.0}, "sample_rate_hz"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    rec = generate_motion("knee", duration_s=34, seed=1)
    args: dict[str, object] = {"sample_rate_hz": 100.0, "joint": "knee"} | kwargs
    with pytest.raises(ValueError, match=message):
        joint_angle_deg(
            rec.acc_prox_g,
            rec.gyr_prox_dps,
            rec.acc_dist_g,
            rec.gyr_dist_dps,
            **args,  # type: ignore[arg-type]
        )


# The hard conditions of bench/imu_accuracy.py (HARD_CONDITIONS), with a seed of its own.
_HARD = {
    "mount_misalignment_deg": 15.0,
    "gyro_bias_dps": 5.0,
    "gyro_bias_wander_dps": 1.0,
    "gyro_scale_error": 0.03,
    "accel_scale_error": 0.03,
    "sway_amplitude_deg": 3.0,
    "n_twitches": 12,
}


@pytest.mark.parametrize(("joint", "rate_hz"), [("knee", 52.0), ("elbow", 100.0)])
def test_joint_angle_meets_the_target_under_hard_conditions(joint: str, rate_hz: float) -> None:
    # The target is a median RMSE <= 2 deg over a set and <= 3 deg for its worst
    # recording; one recording is held to the worst-case bound. (Before the filter
    # learnt the horizontal bias from gravity, the knee scenario measured 4.2 deg.)
    rec = generate_motion(
        joint,  # type: ignore[arg-type]
        duration_s=300,
        sample_rate_hz=rate_hz,
        n_sets=4,
        n_spasms=5,
        seed=61,
        **_HARD,  # type: ignore[arg-type]
    )
    angle = joint_angle_deg(
        rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g, rec.gyr_dist_dps, rate_hz, joint
    )
    assert np.sqrt(np.mean((angle - rec.angle_deg) ** 2)) <= 3.0
