"""Sensor-to-segment calibration of a hinge joint: neutral pose plus functional axis.

The IMUs sit on the limb at unknown angles (a strap is never put on twice the same
way). Two facts fix the joint angle regardless:

- **Neutral pose.** While the patient holds the neutral pose (angle 0), the relative
  orientation of the distal IMU in the proximal IMU's frame is ``q_rel_neutral``.
- **Functional axis.** For a hinge, every later relative orientation differs from the
  neutral one by a rotation about one fixed axis in the proximal IMU frame:
  ``q_rel(t) ⊗ q_rel_neutral* = rotation(axis_prox, angle(t))``. A few flexions
  reveal that axis as the principal direction of the rotation vectors (Seel, Raisch &
  Schauer 2014, Sensors 14:6891, find it from gyroscopes; using the relative
  orientation also works while the proximal segment stays still).

Without magnetometers the two IMUs' headings drift apart during the flexions (by the
part of the gyroscope bias about the vertical that each filter has not yet learnt), and
that drift is a relative rotation about the earth vertical: unchecked, it tilts the
principal direction towards the vertical (with imufusion, which learns the bias only
after 3 s at rest, that made 50-85° of joint-angle RMSE on recordings with 5 °/s of
gyroscope bias). So the axis is
found from the horizontal part of the rotation vectors, and its vertical component is
then fitted against the flexion angle beside a drift linear in time; a hinge that moves
observably only about the vertical keeps the plain estimate.

Only the sign of the axis needs prior knowledge: the nominal mounting, in which each
IMU's +y axis lies along the hinge, oriented so that the joint's positive motion
(see :mod:`.joints`) is a right-hand rotation. Misalignment up to tens of degrees is
then absorbed by the calibration.

Samples missing from the window (NaN rows: a BLE drop, a garbage frame) are left out,
since a single one makes the eigen-decompositions fail ("Eigenvalues did not converge");
too little neutral pose left is a :class:`CalibrationError`.

A calibration travels as a ``calibration`` record (``docs/schema.md``):
:func:`calibration_fields` writes its numbers, :func:`calibration_from_fields` reads them back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu import quaternion as quat
from monitor.types import FieldValue

FloatArray = npt.NDArray[np.float64]

# The nominal hinge axis in the proximal IMU frame (the mounting instruction).
NOMINAL_AXIS = (0.0, 1.0, 0.0)

# Below this much rotation during the calibration flexions the axis is not observable,
# and the nominal axis is used, degrees.
MIN_CALIBRATION_ROTATION_DEG = 15.0

# The orientation filter settles during its start-up ramp (OrientationParams.initial_s);
# the neutral pose is averaged after it, s.
_SETTLE_S = 2.0
# At least this much of the neutral pose must have samples (the rest may be a BLE drop), s.
_MIN_NEUTRAL_S = 0.5


class CalibrationError(ValueError):
    """The window cannot calibrate the joint (too short, or its neutral pose missing)."""


@dataclass(frozen=True, slots=True)
class JointCalibration:
    """The result of calibrating one two-IMU joint.

    Attributes
    ----------
    axis_prox : ndarray, shape (3,)
        Unit hinge axis in the proximal IMU frame.
    q_rel_neutral : ndarray, shape (4,)
        Relative orientation (w, x, y, z) of the distal IMU in the proximal IMU frame in
        the neutral pose.
    functional : bool
        False when the calibration motion was too small and the nominal axis was used.
    flexion_deg : float
        Largest rotation of the joint away from the neutral pose during the calibration
        motion, degrees (NaN when unknown).
    neutral_spread_deg : float
        Largest rotation away from the mean neutral pose while it was held, degrees: a
        limb that moved during the neutral pose shows here (NaN when unknown).
    calibrated_ns : int
        UTC time of the calibration's neutral pose, ns (0 when unknown).
    """

    axis_prox: FloatArray
    q_rel_neutral: FloatArray
    functional: bool = True
    flexion_deg: float = math.nan
    neutral_spread_deg: float = math.nan
    calibrated_ns: int = 0

    def __post_init__(self) -> None:
        if self.axis_prox.shape != (3,) or self.q_rel_neutral.shape != (4,):
            raise ValueError(
                "JointCalibration expects axis_prox shape (3,) and q_rel_neutral shape (4,),"
                f" got {self.axis_prox.shape} and {self.q_rel_neutral.shape}"
            )
        if not (np.isfinite(self.axis_prox).all() and np.isfinite(self.q_rel_neutral).all()):
            raise ValueError("JointCalibration axis_prox and q_rel_neutral must be finite")


def relative_orientation(q_prox: FloatArray, q_dist: FloatArray) -> FloatArray:
    """Orientation of the distal IMU in the proximal IMU frame, q_prox* ⊗ q_dist, (n, 4)."""
    return quat.multiply(quat.conjugate(q_prox), q_dist)


def calibrate_joint(
    q_prox: npt.ArrayLike,
    q_dist: npt.ArrayLike,
    sample_rate_hz: float,
    *,
    neutral_s: float = 3.0,
    calibration_s: float = 14.0,
    axis_hint: npt.ArrayLike = NOMINAL_AXIS,
) -> JointCalibration:
    """Calibrate a hinge joint from the opening seconds of a recording.

    The recording must open with ``neutral_s`` seconds in the neutral pose, followed by
    a few flexion-extension movements before ``calibration_s``.

    Parameters
    ----------
    q_prox, q_dist : array_like, shape (n, 4)
        Sensor-to-earth orientations of the proximal and distal IMU, (w, x, y, z);
        ``n`` must cover at least ``calibration_s``.
    sample_rate_hz : float
        Sample rate, Hz.
    neutral_s : float
        Length of the opening neutral pose, s.
    calibration_s : float
        End of the calibration flexions, s.
    axis_hint : array_like, shape (3,)
        Nominal hinge axis in the proximal IMU frame; fixes the sign of the angle.

    Returns
    -------
    JointCalibration

    Raises
    ------
    CalibrationError
        The window is shorter than ``calibration_s``, or less than 0.5 s of its neutral
        pose (after the filter's 2 s settling) has samples.
    """
    qp = np.asarray(q_prox, dtype=np.float64)
    qd = np.asarray(q_dist, dtype=np.float64)
    hint = np.asarray(axis_hint, dtype=np.float64)
    if qp.ndim != 2 or qp.shape[1] != 4 or qp.shape != qd.shape:
        raise ValueError(f"q_prox and q_dist must both have shape (n, 4), got {qp.shape} and {qd.shape}")
    if not _SETTLE_S + 0.5 <= neutral_s < calibration_s:
        raise ValueError(
            f"need {_SETTLE_S + 0.5} <= neutral_s < calibration_s, got {neutral_s}, {calibration_s}"
        )
    n_cal = round(calibration_s * sample_rate_hz)
    if qp.shape[0] < n_cal:
        raise CalibrationError(
            f"calibration needs the first {calibration_s} s ({n_cal} samples), got {qp.shape[0]}"
        )
    if hint.shape != (3,) or not np.linalg.norm(hint) > 0:
        raise ValueError(f"axis_hint must be a non-zero vector of shape (3,), got {hint}")
    hint = hint / np.linalg.norm(hint)

    rel = relative_orientation(qp[:n_cal], qd[:n_cal])
    # A missing sample (NaN) would make every eigen-decomposition below fail: left out.
    present: npt.NDArray[np.bool_] = np.asarray(np.isfinite(rel).all(axis=1), dtype=bool)
    start = round(neutral_s * sample_rate_hz)
    settle = round(_SETTLE_S * sample_rate_hz)
    held = rel[settle:start][present[settle:start]]
    if held.shape[0] < _MIN_NEUTRAL_S * sample_rate_hz:
        raise CalibrationError(
            f"the neutral pose ({_SETTLE_S:g}-{neutral_s:g} s into the window) has only"
            f" {held.shape[0] / sample_rate_hz:.2f} s of samples, {_MIN_NEUTRAL_S:g} s needed"
        )
    neutral = quat.mean(held)
    spread_deg = _max_rotation_deg(quat.multiply(held, quat.conjugate(neutral))[:, 1:])
    index = np.flatnonzero(present[start:]) + start  # sample numbers of the motion kept
    motion = quat.multiply(rel[index], quat.conjugate(neutral))
    # The vector part of each relative rotation is sin(angle/2) times the hinge axis.
    vectors = motion[:, 1:] * np.sign(motion[:, :1] + 1e-12)
    flexion_deg = _max_rotation_deg(vectors)
    if flexion_deg < MIN_CALIBRATION_ROTATION_DEG:
        return JointCalibration(
            hint, neutral, functional=False, flexion_deg=flexion_deg, neutral_spread_deg=spread_deg
        )
    # Split off the part about the earth vertical (seen from the proximal IMU), where a
    # relative heading drift of the two IMUs lands.
    up = quat.rotate(quat.conjugate(qp[index]), np.array([0.0, 0.0, 1.0]))
    vertical = np.sum(vectors * up, axis=1)
    horizontal = vectors - vertical[:, None] * up
    if _max_rotation_deg(horizontal) < MIN_CALIBRATION_ROTATION_DEG:
        return JointCalibration(
            _principal_axis(vectors, hint), neutral, flexion_deg=flexion_deg, neutral_spread_deg=spread_deg
        )
    axis = _principal_axis(horizontal, hint)
    # vertical ≈ drift_rate · t + tan(elevation) · (horizontal flexion), t from the
    # middle of the neutral pose, where both are zero.
    t = index / sample_rate_hz - 0.5 * (_SETTLE_S + neutral_s)
    design = np.stack([t, horizontal @ axis], axis=1)
    (_, tan_elevation), *_ = np.linalg.lstsq(design, vertical, rcond=None)
    mean_up = up.mean(axis=0)
    axis = axis + tan_elevation * mean_up / np.linalg.norm(mean_up)
    axis /= np.linalg.norm(axis)
    return JointCalibration(
        axis if axis @ hint >= 0 else -axis, neutral, flexion_deg=flexion_deg, neutral_spread_deg=spread_deg
    )


def calibration_fields(calibration: JointCalibration) -> dict[str, FieldValue]:
    """The numbers of a calibration as ``calibration`` record fields (``docs/schema.md``)."""
    axis, q = calibration.axis_prox, calibration.q_rel_neutral
    fields: dict[str, FieldValue] = {
        "axis_x": float(axis[0]),
        "axis_y": float(axis[1]),
        "axis_z": float(axis[2]),
        "q_w": float(q[0]),
        "q_x": float(q[1]),
        "q_y": float(q[2]),
        "q_z": float(q[3]),
        "functional": bool(calibration.functional),
    }
    # NaN cannot travel in line protocol: an unknown diagnostic is simply absent.
    if math.isfinite(calibration.flexion_deg):
        fields["flexion_deg"] = float(calibration.flexion_deg)
    if math.isfinite(calibration.neutral_spread_deg):
        fields["neutral_spread_deg"] = float(calibration.neutral_spread_deg)
    return fields


def calibration_from_fields(fields: dict[str, FieldValue], calibrated_ns: int = 0) -> JointCalibration:
    """A calibration back from the fields :func:`calibration_fields` wrote.

    Raises
    ------
    CalibrationError
        A field is missing or not a finite number.
    """
    try:
        axis = np.array([float(fields[k]) for k in ("axis_x", "axis_y", "axis_z")])
        q = np.array([float(fields[k]) for k in ("q_w", "q_x", "q_y", "q_z")])
        return JointCalibration(
            axis / np.linalg.norm(axis),
            q / np.linalg.norm(q),
            functional=bool(fields.get("functional", True)),
            flexion_deg=float(fields.get("flexion_deg", math.nan)),
            neutral_spread_deg=float(fields.get("neutral_spread_deg", math.nan)),
            calibrated_ns=int(calibrated_ns),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CalibrationError(f"not a stored calibration: {type(error).__name__}: {error}") from None


def _max_rotation_deg(vectors: FloatArray) -> float:
    """Largest rotation angle among rotation vectors of length sin(angle/2), degrees."""
    half_sine = np.linalg.norm(vectors, axis=1).max(initial=0.0)
    return float(2 * np.degrees(np.arcsin(np.clip(half_sine, 0.0, 1.0))))


def _principal_axis(vectors: FloatArray, hint: FloatArray) -> FloatArray:
    """Unit principal direction of rotation vectors (n, 3), on the side of ``hint``."""
    _, eigenvectors = np.linalg.eigh(vectors.T @ vectors)
    axis: FloatArray = eigenvectors[:, -1]
    return axis if axis @ hint >= 0 else -axis
