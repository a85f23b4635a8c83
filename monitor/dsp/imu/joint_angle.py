"""Joint angle of a hinge joint from two IMUs: flexion about the calibrated axis."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu import quaternion as quat
from monitor.dsp.imu.calibration import JointCalibration, calibrate_joint, relative_orientation
from monitor.dsp.imu.joints import joint_spec
from monitor.dsp.imu.orientation import OrientationParams, orientation

FloatArray = npt.NDArray[np.float64]


def joint_angle_deg(
    acc_prox_g: npt.ArrayLike,
    gyr_prox_dps: npt.ArrayLike,
    acc_dist_g: npt.ArrayLike,
    gyr_dist_dps: npt.ArrayLike,
    sample_rate_hz: float,
    joint: str = "knee",
    *,
    calibration: JointCalibration | None = None,
    neutral_s: float = 3.0,
    calibration_s: float = 14.0,
    params: OrientationParams | None = None,
) -> FloatArray:
    """Joint angle of a hinge joint from an IMU on each segment.

    Each IMU's orientation comes from :func:`orientation`; the angle is the twist of the
    distal IMU relative to the proximal one about the hinge axis, measured from the
    neutral pose (see :mod:`monitor.dsp.imu.calibration`). Because only the twist about
    the hinge counts, heading drift of the two IMUs (no magnetometer) barely enters
    while the hinge axis is near horizontal.

    Parameters
    ----------
    acc_prox_g, acc_dist_g : array_like, shape (n, 3)
        Accelerometers of the proximal (thigh, upper arm, shank) and distal (shank,
        forearm, foot) IMU, g, sampled at the same instants.
    gyr_prox_dps, gyr_dist_dps : array_like, shape (n, 3)
        Their gyroscopes, deg/s.
    sample_rate_hz : float
        Common sample rate, Hz (align two streams first, see :mod:`.alignment`).
    joint : {"knee", "elbow", "ankle"}
        The joint; the angle is flexion (knee, elbow) or dorsiflexion (ankle), 0 in the
        neutral pose, positive in that direction.
    calibration : JointCalibration, optional
        A calibration from an earlier session; by default the recording's own opening
        ``neutral_s`` seconds of neutral pose and flexions up to ``calibration_s``.
    neutral_s, calibration_s : float
        Length of the opening neutral pose and end of the calibration flexions, s.
    params : OrientationParams, optional
        Orientation filter tuning.

    Returns
    -------
    ndarray, shape (n,)
        Joint angle, degrees, in (-180, 180].

    Examples
    --------
    >>> from monitor.synth.motion import generate_motion
    >>> rec = generate_motion("knee", duration_s=60, seed=2)
    >>> angle = joint_angle_deg(rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g,
    ...                         rec.gyr_dist_dps, rec.sample_rate_hz, "knee")
    >>> bool(np.sqrt(np.mean((angle - rec.angle_deg) ** 2)) < 3.0)
    True
    """
    joint_spec(joint)
    q_prox = orientation(acc_prox_g, gyr_prox_dps, sample_rate_hz, params)
    q_dist = orientation(acc_dist_g, gyr_dist_dps, sample_rate_hz, params)
    if q_prox.shape != q_dist.shape:
        raise ValueError(
            f"proximal and distal IMU must have the same number of samples, got "
            f"{q_prox.shape[0]} and {q_dist.shape[0]}"
        )
    if calibration is None:
        calibration = calibrate_joint(
            q_prox, q_dist, sample_rate_hz, neutral_s=neutral_s, calibration_s=calibration_s
        )
    return joint_angle_from_orientations(q_prox, q_dist, calibration)


def joint_angle_from_orientations(
    q_prox: npt.ArrayLike, q_dist: npt.ArrayLike, calibration: JointCalibration
) -> FloatArray:
    """Joint angle from two IMU orientations and a calibration.

    Parameters
    ----------
    q_prox, q_dist : array_like, shape (n, 4)
        Sensor-to-earth orientations (w, x, y, z) of the proximal and distal IMU, from
        any filter that follows that convention (z up; headings may differ).
    calibration : JointCalibration

    Returns
    -------
    ndarray, shape (n,)
        Joint angle, degrees, in (-180, 180].
    """
    return HingeAngle(calibration).update(q_prox, q_dist)


class HingeAngle:
    """Joint angle from orientation pairs, as a stateful object for streams.

    Without magnetometers the two IMUs' headings are unrelated and drift apart. The
    hinge fixes them: its axis, seen from the proximal IMU and from the distal IMU,
    is one line in space, so the heading offset that makes the two coincide is applied
    to the distal orientation at every sample (the kinematic constraint of Laidig,
    Müller & Seel 2017, Sensors 17:1946). While the axis is near vertical that offset
    is unobservable and the last observed one is held.

    Parameters
    ----------
    calibration : JointCalibration
    """

    def __init__(self, calibration: JointCalibration) -> None:
        self.calibration = calibration
        self._axis_prox = calibration.axis_prox
        self._axis_dist = quat.rotate(quat.conjugate(calibration.q_rel_neutral), calibration.axis_prox)
        self._neutral_inv = quat.conjugate(calibration.q_rel_neutral)
        self._heading_offset_rad = 0.0

    def update(self, q_prox: npt.ArrayLike, q_dist: npt.ArrayLike) -> FloatArray:
        """Joint angle of the next orientation pairs, degrees, shape (n,)."""
        qp = np.asarray(q_prox, dtype=np.float64)
        qd = np.asarray(q_dist, dtype=np.float64)
        if qp.ndim != 2 or qp.shape[1] != 4 or qp.shape != qd.shape:
            raise ValueError(f"q_prox and q_dist must both have shape (n, 4), got {qp.shape} and {qd.shape}")
        if qp.shape[0] == 0:
            return np.empty(0)
        axis_p = quat.rotate(qp, self._axis_prox)[:, :2]
        axis_d = quat.rotate(qd, self._axis_dist)[:, :2]
        cross = axis_d[:, 0] * axis_p[:, 1] - axis_d[:, 1] * axis_p[:, 0]
        dot = np.sum(axis_d * axis_p, axis=1)
        observable = np.hypot(cross, dot) > _MIN_HORIZONTAL_AXIS**2
        offset = np.arctan2(cross, dot)
        # Hold the last observable offset through samples where the axis is vertical.
        index = np.where(observable, np.arange(len(offset)), -1)
        np.maximum.accumulate(index, out=index)
        held = np.where(index >= 0, offset[np.maximum(index, 0)], self._heading_offset_rad)
        self._heading_offset_rad = float(held[-1])
        qd_aligned = quat.multiply(quat.about_z(held), qd)
        relative = relative_orientation(qp, qd_aligned)
        return quat.twist_angle_deg(quat.multiply(relative, self._neutral_inv), self._axis_prox)


# The heading offset is used only while the hinge axis is at least this far from
# vertical (as the sine of its elevation from vertical): sin(30°).
_MIN_HORIZONTAL_AXIS = 0.5
