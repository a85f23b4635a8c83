"""Synthetic limb motion with ground truth: two segments on a hinge, one IMU on each.

The model is a proximal segment (thigh, upper arm, shank) and a distal segment (shank,
forearm, foot) joined by a hinge. The true joint angle follows a scripted day in
miniature: a neutral pose and a short calibration routine, rest, physical-therapy
exercise sets, walking-like cycles, and sudden involuntary spasm jerks. One IMU is
strapped on each segment with realistic errors: white noise, gyroscope bias and bias
random walk, scale error, and a mounting misalignment of up to 15°.

Harder conditions are explicit options of :func:`generate_motion` (all off, or at the
noise level's values, by default, so a default recording is unchanged): the mounting
misalignment, constant gyroscope bias, its random walk and a slow warm-up wander,
per-axis scale errors of gyroscope and accelerometer set separately, whole-body sway
in pitch and roll throughout the recording (standing and sitting), and brief spasm
twitches besides the large jerks. Their random draws come from a second generator
seeded from ``seed``, so switching one on changes nothing else in the recording.

Conventions
-----------
- Earth frame: z up, x and y horizontal (heading is arbitrary; there is no magnetometer).
- Segment frame: x along the segment towards its distal end, y along the hinge axis,
  oriented so that flexion (knee, elbow) or dorsiflexion (ankle) is a positive
  right-hand rotation of the distal segment about it.
- An IMU's nominal mounting has its axes on the segment's axes; the true mounting is
  that rotated by up to ``misalignment_deg``.
- Accelerometers read specific force in g, so a sensor at rest with z up reads
  (0, 0, +1). Gyroscopes read angular velocity of the sensor in its own frame, deg/s.
- Orientation quaternions are (w, x, y, z), Hamilton, and rotate sensor-frame vectors
  into the earth frame.

Everything is computed analytically or by finite differences at an internal rate of
about 1 kHz, then sampled at the sensor rate, so the sampled signals are instants of a
continuous motion and not integrals of it (as a real IMU delivers them).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from monitor.types import NS_PER_S, SpasmEvent

Joint = Literal["knee", "elbow", "ankle"]
JOINTS: tuple[Joint, ...] = ("knee", "elbow", "ankle")
NoiseLevel = Literal["low", "typical", "high"]
KneePosture = Literal["either", "standing", "seated"]
KNEE_POSTURES: tuple[KneePosture, ...] = ("either", "standing", "seated")

# Standard gravity, m/s² (CGPM 1901; ISO 80000-3).
STANDARD_GRAVITY_M_S2 = 9.80665

# Segment lengths in m, rounded from Winter, Biomechanics and Motor Control of Human
# Movement (4th ed., 2009), Table 4.1, for a 1.75 m adult.
_SEGMENT_LENGTHS_M: dict[Joint, tuple[float, float]] = {
    "knee": (0.43, 0.43),
    "elbow": (0.33, 0.27),
    "ankle": (0.43, 0.20),
}

# Height of the proximal joint (hip, shoulder, knee) above the ankles, the pivot of
# postural sway in the ankle strategy (Winter 1995, Gait Posture 3:193), m: segment
# lengths above, and the shoulder at 0.818 of body height (Winter 2009, Fig. 4.1).
_SWAY_PIVOT_HEIGHT_M: dict[Joint, float] = {"knee": 0.86, "elbow": 1.43, "ankle": 0.43}

# Internal simulation rate before sampling at the sensor rate, Hz.
_INTERNAL_RATE_HZ = 1000.0

# Key of the second random stream (``[seed, key]``) that the added conditions draw from.
_EXTRA_STREAM = 0x5EED

# The bias wander passes through a new random value this often, s: a strapped-on IMU
# warms from room to skin temperature over minutes, and MEMS gyroscope offsets move
# with temperature (the BMI160 datasheet that sets NOISE_LEVELS gives ±0.05 °/s/K; 10 K
# of warm-up is then 0.5 °/s).
_BIAS_WANDER_KNOT_S = 60.0


@dataclass(frozen=True, slots=True)
class ImuErrorModel:
    """The error budget of one simulated IMU.

    Attributes
    ----------
    gyr_noise_dps : float
        White noise on each gyroscope axis, deg/s RMS per sample.
    acc_noise_g : float
        White noise on each accelerometer axis, g RMS per sample.
    gyr_bias_dps : float
        Largest initial gyroscope bias per axis, deg/s (drawn uniformly in ±).
    gyr_bias_walk_dps_per_sqrt_s : float
        Random walk of the gyroscope bias, deg/s per √s.
    scale_error : float
        Largest scale-factor error per axis, as a fraction (0.01 is 1 %).
    misalignment_deg : float
        Largest mounting misalignment of the IMU on its segment, degrees: a rotation by
        an angle drawn uniformly in [0.5, 1] times this, about a uniformly random axis.
    acc_scale_error : float or None
        Largest accelerometer scale-factor error per axis, as a fraction; ``None`` is a
        third of ``scale_error`` (accelerometers are trimmed more tightly).
    gyr_bias_wander_dps : float
        Largest slow wander of the gyroscope bias per axis, deg/s: a smooth curve from 0
        at the start through random values every ``_BIAS_WANDER_KNOT_S``, as the sensor
        warms from room to skin temperature after being strapped on.
    """

    gyr_noise_dps: float
    acc_noise_g: float
    gyr_bias_dps: float
    gyr_bias_walk_dps_per_sqrt_s: float
    scale_error: float
    misalignment_deg: float
    acc_scale_error: float | None = None
    gyr_bias_wander_dps: float = 0.0


# Noise levels bracket consumer MEMS IMUs (for example the BMI160 datasheet: gyro noise
# 0.007 °/s/√Hz, zero-rate offset ±3 °/s, sensitivity tolerance ±1 %; accelerometer
# noise 180 µg/√Hz), then "high" doubles the worst case for a loose strap.
NOISE_LEVELS: dict[NoiseLevel, ImuErrorModel] = {
    "low": ImuErrorModel(0.05, 0.002, 0.5, 0.002, 0.005, 5.0),
    "typical": ImuErrorModel(0.15, 0.005, 2.0, 0.01, 0.015, 15.0),
    "high": ImuErrorModel(0.4, 0.015, 5.0, 0.03, 0.03, 15.0),
}


@dataclass(frozen=True, slots=True)
class Repetition:
    """One true exercise repetition: out from the rest pose to an extreme and back."""

    start_ns: int
    end_ns: int
    extreme_deg: float


@dataclass(frozen=True, slots=True)
class ExerciseSet:
    """One true exercise set: consecutive repetitions with the joint-angle range."""

    start_ns: int
    end_ns: int
    reps: tuple[Repetition, ...]
    min_deg: float
    max_deg: float

    @property
    def n_reps(self) -> int:
        return len(self.reps)


@dataclass(frozen=True, slots=True, eq=False)
class MotionRecording:
    """A generated recording and its ground truth.

    Attributes
    ----------
    joint : {"knee", "elbow", "ankle"}
    sample_rate_hz : float
        Rate of both IMUs, Hz.
    t0_ns : int
        UTC time of the first sample, ns.
    angle_deg : ndarray, shape (n,)
        True joint angle (flexion, or dorsiflexion for the ankle), degrees.
    acc_prox_g, acc_dist_g : ndarray, shape (n, 3)
        Accelerometer readings of the proximal and distal IMU, g.
    gyr_prox_dps, gyr_dist_dps : ndarray, shape (n, 3)
        Gyroscope readings of the proximal and distal IMU, deg/s.
    quat_prox, quat_dist : ndarray, shape (n, 4)
        True sensor-to-earth orientation of each IMU, (w, x, y, z).
    sets : tuple of ExerciseSet
        True exercise sets (the calibration flexions are the first set).
    spasms : tuple of SpasmEvent
        True spasm jerks, with ``imu_peak_dps`` the true peak angular speed of the
        distal IMU and the EMG fields ``None``.
    calibration_s : float
        Length of the opening neutral pose and calibration flexions, s.
    neutral_s : float
        Length of the opening neutral pose (joint angle 0), s.
    mount_prox, mount_dist : ndarray, shape (4,)
        True mounting of each IMU on its segment, (w, x, y, z), rotating sensor-frame
        vectors into the segment frame (identity for a perfectly aligned strap).
    gyr_bias_prox_dps, gyr_bias_dist_dps : ndarray, shape (n, 3)
        True gyroscope bias of each IMU at every sample, deg/s (constant part, random
        walk and wander; the scale error and noise are not included).
    """

    joint: Joint
    sample_rate_hz: float
    t0_ns: int
    angle_deg: npt.NDArray[np.float64]
    acc_prox_g: npt.NDArray[np.float64]
    gyr_prox_dps: npt.NDArray[np.float64]
    acc_dist_g: npt.NDArray[np.float64]
    gyr_dist_dps: npt.NDArray[np.float64]
    quat_prox: npt.NDArray[np.float64]
    quat_dist: npt.NDArray[np.float64]
    sets: tuple[ExerciseSet, ...]
    spasms: tuple[SpasmEvent, ...]
    calibration_s: float
    neutral_s: float
    mount_prox: npt.NDArray[np.float64]
    mount_dist: npt.NDArray[np.float64]
    gyr_bias_prox_dps: npt.NDArray[np.float64]
    gyr_bias_dist_dps: npt.NDArray[np.float64]

    @property
    def n_samples(self) -> int:
        return int(self.angle_deg.shape[0])

    @property
    def time_ns(self) -> npt.NDArray[np.int64]:
        """UTC time of every sample, ns, shape (n,)."""
        k = np.arange(self.n_samples, dtype=np.int64)
        return self.t0_ns + np.round(k * (NS_PER_S / self.sample_rate_hz)).astype(np.int64)


def generate_motion(
    joint: Joint = "knee",
    *,
    duration_s: float = 240.0,
    sample_rate_hz: float = 100.0,
    noise: NoiseLevel = "typical",
    n_sets: int = 3,
    n_spasms: int = 4,
    walking: bool = True,
    seed: int = 0,
    t0_ns: int = 1_764_000_000 * NS_PER_S,
    range_scale: float = 1.0,
    knee_posture: KneePosture = "either",
    mount_misalignment_deg: float | None = None,
    gyro_bias_dps: float | None = None,
    gyro_bias_walk_dps_per_sqrt_s: float | None = None,
    gyro_bias_wander_dps: float | None = None,
    gyro_scale_error: float | None = None,
    accel_scale_error: float | None = None,
    sway_amplitude_deg: float = 0.0,
    n_twitches: int = 0,
) -> MotionRecording:
    """Generate a two-IMU recording of one joint with ground truth.

    Parameters
    ----------
    joint : {"knee", "elbow", "ankle"}
        Joint simulated; fixes segment lengths, postures and exercise ranges.
    duration_s : float
        Length of the recording, s; at least the opening calibration plus 20 s.
    sample_rate_hz : float
        IMU rate, Hz: 100 for the reference wearable, 52 for Polar Verity Sense, 50
        for Myo.
    noise : {"low", "typical", "high"}
        IMU error model, see :data:`NOISE_LEVELS`.
    n_sets : int
        Exercise sets after the calibration routine (fewer if they do not fit).
    n_spasms : int
        Spasm jerks placed in rest and walking periods (never inside a set).
    walking : bool
        Whether walking-like cycles (arm swing for the elbow) appear.
    seed : int
        Seed of the random generator; equal arguments give equal recordings.
    t0_ns : int
        UTC time of the first sample, ns.
    range_scale : float
        Fraction (0, 1.5] of the usual exercise excursion the patient reaches: below 1
        for a joint restricted by spasticity or contracture (the calibration flexions are
        not scaled). The random draws do not depend on it, so only the ranges change.
    knee_posture : {"either", "standing", "seated"}
        Knee exercise sets as standing hamstring curls, seated knee extensions (sitting
        down flexes the knee to 90° between sets), or either at random.
    mount_misalignment_deg : float, optional
        Largest mounting misalignment of each IMU on its segment, degrees, in [0, 45]:
        each IMU is turned by an angle drawn uniformly in [0.5, 1] times this about its
        own uniformly random axis (the true mountings are ``mount_prox`` and
        ``mount_dist``). Default: the noise level's.
    gyro_bias_dps : float, optional
        Largest constant gyroscope bias per axis, deg/s (drawn uniformly in ±). Default:
        the noise level's.
    gyro_bias_walk_dps_per_sqrt_s : float, optional
        Random walk of the gyroscope bias, deg/s per √s. Default: the noise level's.
    gyro_bias_wander_dps : float, optional
        Largest slow wander of the gyroscope bias per axis, deg/s, on top of the constant
        bias and the random walk: a smooth curve from 0 through a random value every
        minute (warm-up on the skin). Default: the noise level's (0 for all three).
    gyro_scale_error, accel_scale_error : float, optional
        Largest per-axis scale-factor error of the gyroscope and the accelerometer, as a
        fraction in [0, 0.2] (0.03 is ±3 %). Default: the noise level's, the
        accelerometer's a third of the gyroscope's.
    sway_amplitude_deg : float
        Peak whole-body sway, degrees, in [0, 10]: both segments tilt together in pitch
        (forward-back) and roll (side to side) throughout the recording, standing or
        sitting, as a sum of slow sinusoids in the 0.1-0.5 Hz band of postural sway.
        It adds to the small sagittal sway of rest periods that every recording has.
    n_twitches : int
        Brief spasm twitches (3-10°, rising within 15-30 ms) placed besides the
        ``n_spasms`` jerks in rest and walking periods; they are spasms too and appear
        in ``spasms``.

    Returns
    -------
    MotionRecording

    Examples
    --------
    >>> rec = generate_motion("elbow", duration_s=60, sample_rate_hz=50, seed=1)
    >>> rec.acc_prox_g.shape
    (3000, 3)
    """
    if joint not in JOINTS:
        raise ValueError(f"joint must be one of {JOINTS}, got {joint!r}")
    if noise not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {tuple(NOISE_LEVELS)}, got {noise!r}")
    if not 10.0 <= sample_rate_hz <= 1000.0:
        raise ValueError(f"sample_rate_hz must be in [10, 1000] Hz, got {sample_rate_hz}")
    if duration_s < _CALIBRATION_S + 20.0:
        raise ValueError(f"duration_s must be >= {_CALIBRATION_S + 20.0} s, got {duration_s}")
    if n_sets < 0 or n_spasms < 0:
        raise ValueError(f"n_sets and n_spasms must be >= 0, got {n_sets}, {n_spasms}")
    if not 0.0 < range_scale <= 1.5:
        raise ValueError(f"range_scale must be in (0, 1.5], got {range_scale}")
    if knee_posture not in KNEE_POSTURES:
        raise ValueError(f"knee_posture must be one of {KNEE_POSTURES}, got {knee_posture!r}")
    if not 0.0 <= sway_amplitude_deg <= 10.0:
        raise ValueError(f"sway_amplitude_deg must be in [0, 10] degrees, got {sway_amplitude_deg}")
    if n_twitches < 0:
        raise ValueError(f"n_twitches must be >= 0, got {n_twitches}")
    error_model = _error_model(
        NOISE_LEVELS[noise],
        mount_misalignment_deg=mount_misalignment_deg,
        gyro_bias_dps=gyro_bias_dps,
        gyro_bias_walk_dps_per_sqrt_s=gyro_bias_walk_dps_per_sqrt_s,
        gyro_bias_wander_dps=gyro_bias_wander_dps,
        gyro_scale_error=gyro_scale_error,
        accel_scale_error=accel_scale_error,
    )

    rng = np.random.default_rng(seed)
    # The added conditions draw from their own stream, so that switching one on leaves
    # every other draw (and the default recording) as it was.
    extra_rng = np.random.default_rng([seed, _EXTRA_STREAM])
    decimation = max(1, math.ceil(_INTERNAL_RATE_HZ / sample_rate_hz))
    internal_rate_hz = sample_rate_hz * decimation
    script = _Script(joint, internal_rate_hz, rng, range_scale, knee_posture, extra_rng)
    script.write(duration_s, n_sets, n_spasms, walking, n_twitches, sway_amplitude_deg)

    theta_deg = script.theta_deg()
    phi_deg = script.phi_deg()
    psi_deg = script.psi_deg()
    kin = _kinematics(joint, theta_deg, phi_deg, psi_deg, internal_rate_hz, script.sway_deg())

    imus = _strap(kin, decimation, sample_rate_hz, error_model, rng, extra_rng)

    t_of = script.ns_of(t0_ns)
    omega_dist_speed = np.linalg.norm(kin.omega_dist_dps, axis=1)
    spasms = tuple(
        SpasmEvent(
            onset_ns=t_of(j.onset_i),
            offset_ns=t_of(j.offset_i),
            kind="myoclonic",
            channel=0,
            location=joint,
            imu_peak_dps=float(omega_dist_speed[j.onset_i : j.offset_i + 1].max()),
        )
        for j in sorted(script.jerks, key=lambda j: j.onset_i)
    )
    sets = tuple(
        ExerciseSet(
            start_ns=t_of(s.reps[0].start_i),
            end_ns=t_of(s.reps[-1].end_i),
            reps=tuple(Repetition(t_of(r.start_i), t_of(r.end_i), r.extreme_deg) for r in s.reps),
            min_deg=float(theta_deg[s.reps[0].start_i : s.reps[-1].end_i + 1].min()),
            max_deg=float(theta_deg[s.reps[0].start_i : s.reps[-1].end_i + 1].max()),
        )
        for s in script.sets
    )
    (acc_p, gyr_p, q_p, mount_p, bias_p), (acc_d, gyr_d, q_d, mount_d, bias_d) = (
        (i.acc_g, i.gyr_dps, i.quat, i.mount, i.gyr_bias_dps) for i in imus
    )
    return MotionRecording(
        joint=joint,
        sample_rate_hz=float(sample_rate_hz),
        t0_ns=t0_ns,
        angle_deg=theta_deg[::decimation].copy(),
        acc_prox_g=acc_p,
        gyr_prox_dps=gyr_p,
        acc_dist_g=acc_d,
        gyr_dist_dps=gyr_d,
        quat_prox=q_p,
        quat_dist=q_d,
        sets=sets,
        spasms=spasms,
        calibration_s=_CALIBRATION_S,
        neutral_s=_NEUTRAL_S,
        mount_prox=mount_p,
        mount_dist=mount_d,
        gyr_bias_prox_dps=bias_p,
        gyr_bias_dist_dps=bias_d,
    )


@dataclass(frozen=True, slots=True, eq=False)
class StrappedImu:
    """The readings of one simulated IMU strapped on a segment.

    Attributes
    ----------
    acc_g : ndarray, shape (n, 3)
        Accelerometer, g.
    gyr_dps : ndarray, shape (n, 3)
        Gyroscope, deg/s.
    quat : ndarray, shape (n, 4)
        True sensor-to-earth orientation, (w, x, y, z).
    mount : ndarray, shape (4,)
        True mounting on the segment, (w, x, y, z), sensor frame to segment frame.
    gyr_bias_dps : ndarray, shape (n, 3)
        True gyroscope bias at every sample, deg/s.
    """

    acc_g: npt.NDArray[np.float64]
    gyr_dps: npt.NDArray[np.float64]
    quat: npt.NDArray[np.float64]
    mount: npt.NDArray[np.float64]
    gyr_bias_dps: npt.NDArray[np.float64]


def strap_imus(
    joint: Joint,
    theta_deg: npt.NDArray[np.float64],
    phi_deg: npt.NDArray[np.float64],
    internal_rate_hz: float,
    decimation: int,
    error_model: ImuErrorModel,
    rng: np.random.Generator,
    extra_rng: np.random.Generator | None = None,
) -> tuple[StrappedImu, StrappedImu]:
    """The two IMUs of a hinge whose motion is scripted at an internal rate.

    The same kinematics and sensor errors as :func:`generate_motion`, for other
    generators that script their own joint angle (for example the Tardieu stretches of
    :mod:`monitor.synth.tardieu`).

    Parameters
    ----------
    joint : {"knee", "elbow", "ankle"}
    theta_deg : ndarray, shape (m,)
        True joint angle at ``internal_rate_hz``, degrees (see the module conventions).
    phi_deg : ndarray, shape (m,)
        Pitch of the proximal segment forward from hanging straight down, degrees.
    internal_rate_hz : float
        Rate of ``theta_deg``, Hz (about 1 kHz, so finite differences are accurate).
    decimation : int
        Every ``decimation``-th internal sample is a sensor sample.
    error_model : ImuErrorModel
    rng : numpy.random.Generator
        Draws the mountings, biases, scale errors and noise.
    extra_rng : numpy.random.Generator, optional
        Draws the bias wander (only used when the error model has one).

    Returns
    -------
    tuple of StrappedImu
        The proximal and the distal IMU, ``ceil(m / decimation)`` samples each.
    """
    theta = np.asarray(theta_deg, dtype=np.float64)
    kin = _kinematics(
        joint, theta, np.asarray(phi_deg, dtype=np.float64), np.zeros_like(theta), internal_rate_hz
    )
    extra = extra_rng if extra_rng is not None else np.random.default_rng()
    prox, dist = _strap(kin, decimation, internal_rate_hz / decimation, error_model, rng, extra)
    return prox, dist


def _strap(
    kin: _Kinematics,
    decimation: int,
    sample_rate_hz: float,
    error_model: ImuErrorModel,
    rng: np.random.Generator,
    extra_rng: np.random.Generator,
) -> list[StrappedImu]:
    """Mount an IMU on each segment and add its errors (the draws in a fixed order)."""
    n_out = len(kin.acc_prox_g[::decimation])
    dt_s = 1.0 / sample_rate_hz
    imus: list[StrappedImu] = []
    for rot_seg, omega_seg_dps, acc_seg_g in (
        (kin.rot_prox, kin.omega_prox_dps, kin.acc_prox_g),
        (kin.rot_dist, kin.omega_dist_dps, kin.acc_dist_g),
    ):
        mount = _random_rotation(rng, error_model.misalignment_deg)
        rot_sensor = _compose(rot_seg[::decimation], mount)
        gyr_true = mount.inv().apply(omega_seg_dps[::decimation])
        acc_true = mount.inv().apply(acc_seg_g[::decimation])
        gyr_scale = 1.0 + rng.uniform(-1, 1, 3) * error_model.scale_error
        acc_draw = rng.uniform(-1, 1, 3)
        if error_model.acc_scale_error is None:
            acc_scale = 1.0 + acc_draw * error_model.scale_error / 3.0
        else:
            acc_scale = 1.0 + acc_draw * error_model.acc_scale_error
        bias = rng.uniform(-1, 1, 3) * error_model.gyr_bias_dps + np.cumsum(
            rng.normal(0.0, error_model.gyr_bias_walk_dps_per_sqrt_s * math.sqrt(dt_s), (n_out, 3)),
            axis=0,
        )
        if error_model.gyr_bias_wander_dps > 0:
            bias = bias + _bias_wander(extra_rng, n_out, sample_rate_hz, error_model.gyr_bias_wander_dps)
        gyr = gyr_true * gyr_scale + bias + rng.normal(0, error_model.gyr_noise_dps, (n_out, 3))
        acc = acc_true * acc_scale + rng.normal(0, error_model.acc_noise_g, (n_out, 3))
        quat = rot_sensor.as_quat(scalar_first=True)
        imus.append(StrappedImu(acc, gyr, quat, mount.as_quat(scalar_first=True), bias))

    return imus


def _error_model(
    level: ImuErrorModel,
    *,
    mount_misalignment_deg: float | None,
    gyro_bias_dps: float | None,
    gyro_bias_walk_dps_per_sqrt_s: float | None,
    gyro_bias_wander_dps: float | None,
    gyro_scale_error: float | None,
    accel_scale_error: float | None,
) -> ImuErrorModel:
    """The noise level's error model with the explicitly given values in its place."""
    checks = (
        ("mount_misalignment_deg", mount_misalignment_deg, 45.0),
        ("gyro_bias_dps", gyro_bias_dps, 50.0),
        ("gyro_bias_walk_dps_per_sqrt_s", gyro_bias_walk_dps_per_sqrt_s, 1.0),
        ("gyro_bias_wander_dps", gyro_bias_wander_dps, 50.0),
        ("gyro_scale_error", gyro_scale_error, 0.2),
        ("accel_scale_error", accel_scale_error, 0.2),
    )
    for name, value, largest in checks:
        if value is not None and not 0.0 <= value <= largest:
            raise ValueError(f"{name} must be in [0, {largest}], got {value}")
    changes: dict[str, float] = {}
    for field, value in (
        ("misalignment_deg", mount_misalignment_deg),
        ("gyr_bias_dps", gyro_bias_dps),
        ("gyr_bias_walk_dps_per_sqrt_s", gyro_bias_walk_dps_per_sqrt_s),
        ("gyr_bias_wander_dps", gyro_bias_wander_dps),
        ("scale_error", gyro_scale_error),
        ("acc_scale_error", accel_scale_error),
    ):
        if value is not None:
            changes[field] = float(value)
    if gyro_scale_error is not None and accel_scale_error is None and level.acc_scale_error is None:
        changes["acc_scale_error"] = level.scale_error / 3.0  # only the gyroscope's changes
    return dataclasses.replace(level, **changes)


# The opening routine a patient is asked to do: stand (or hang the arm) still in the
# neutral pose, then flex the joint three times. The calibration uses it.
_NEUTRAL_S = 3.0
_CALIBRATION_S = 14.0


@dataclass(slots=True)
class _Rep:
    start_i: int
    end_i: int
    extreme_deg: float


@dataclass(slots=True)
class _Set:
    reps: list[_Rep]


@dataclass(slots=True)
class _Jerk:
    onset_i: int
    offset_i: int


@dataclass(frozen=True, slots=True)
class _Posture:
    """Rest joint angle and proximal pitch of a posture, degrees."""

    theta_deg: float
    phi_deg: float


_STANDING = _Posture(0.0, 0.0)
_SEATED = _Posture(90.0, 90.0)  # knee only: thigh horizontal, shank hanging


class _Script:
    """Writes the joint angle (theta), proximal pitch (phi) and heading (psi) over time."""

    def __init__(
        self,
        joint: Joint,
        rate_hz: float,
        rng: np.random.Generator,
        range_scale: float = 1.0,
        knee_posture: KneePosture = "either",
        extra_rng: np.random.Generator | None = None,
    ) -> None:
        self.joint = joint
        self.extra_rng = extra_rng if extra_rng is not None else np.random.default_rng()
        self.range_scale = range_scale
        self.knee_posture = knee_posture
        self.rate_hz = rate_hz
        self.rng = rng
        self._theta: list[npt.NDArray[np.float64]] = []
        self._phi: list[npt.NDArray[np.float64]] = []
        self._psi_rate_dps: list[npt.NDArray[np.float64]] = []
        self.sets: list[_Set] = []
        self.jerks: list[_Jerk] = []
        self._free: list[tuple[int, int]] = []  # sample ranges where jerks may go
        self._n = 0
        self._posture = _STANDING

    def ns_of(self, t0_ns: int) -> _NsOf:
        return _NsOf(t0_ns, self.rate_hz)

    def theta_deg(self) -> npt.NDArray[np.float64]:
        return self._theta_full

    def phi_deg(self) -> npt.NDArray[np.float64]:
        return self._phi_full

    def psi_deg(self) -> npt.NDArray[np.float64]:
        return np.cumsum(np.concatenate(self._psi_rate_dps)) / self.rate_hz

    def sway_deg(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        """Whole-body sway (pitch, already inside phi; roll), degrees, or None."""
        return self._sway

    def write(
        self,
        duration_s: float,
        n_sets: int,
        n_spasms: int,
        walking: bool,
        n_twitches: int = 0,
        sway_amplitude_deg: float = 0.0,
    ) -> None:
        total = round(duration_s * self.rate_hz)
        self._hold(_NEUTRAL_S, sway=False)
        calib_deg = {"knee": 40.0, "elbow": 45.0, "ankle": -25.0}[self.joint]
        self._exercise_set(3, calib_deg, rep_s=(3.0, 3.6), pause_s=(0.2, 0.5))
        self._hold(_CALIBRATION_S - self._n / self.rate_hz, sway=False)
        sets_left = n_sets
        blocks_since_walk = 0
        while True:
            left_s = (total - self._n) / self.rate_hz
            want_walk = walking and blocks_since_walk >= 1 and self.rng.random() < 0.5
            if sets_left and left_s > 50.0 and not want_walk:
                self._rest(self.rng.uniform(12.0, 20.0))
                self._exercise_block()
                sets_left -= 1
                blocks_since_walk += 1
            elif walking and left_s > 40.0:
                self._rest(self.rng.uniform(6.0, 12.0))
                self._walk(self.rng.uniform(15.0, 25.0))
                blocks_since_walk = 0
            else:
                break
        self._rest(max(0.0, (total - self._n) / self.rate_hz) + 1.0)
        theta = np.concatenate(self._theta)[:total]
        phi = np.concatenate(self._phi)[:total]
        self._psi_rate_dps = [np.concatenate(self._psi_rate_dps)[:total]]
        self._free = [(a, min(b, total)) for a, b in self._free if min(b, total) - a > 0]
        self._theta_full, self._phi_full = self._add_jerks(theta, phi, n_spasms, n_twitches)
        self._sway: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
        if sway_amplitude_deg > 0:
            pitch = _body_sway(self.extra_rng, total, self.rate_hz, sway_amplitude_deg)
            roll = _body_sway(self.extra_rng, total, self.rate_hz, sway_amplitude_deg)
            self._sway = (pitch, roll)
            self._phi_full = self._phi_full + pitch

    # --- blocks -----------------------------------------------------------------------

    def _append(
        self,
        theta: npt.NDArray[np.float64],
        phi: npt.NDArray[np.float64],
        psi_rate_dps: npt.NDArray[np.float64] | None = None,
        free: bool = False,
    ) -> None:
        n = len(theta)
        if free:
            self._free.append((self._n, self._n + n))
        self._theta.append(theta)
        self._phi.append(phi)
        self._psi_rate_dps.append(np.zeros(n) if psi_rate_dps is None else psi_rate_dps)
        self._n += n

    def _samples(self, seconds: float) -> int:
        return max(1, round(seconds * self.rate_hz))

    def _hold(self, seconds: float, sway: bool) -> None:
        n = self._samples(seconds)
        theta = np.full(n, self._posture.theta_deg)
        phi = np.full(n, self._posture.phi_deg)
        if sway:
            # Postural sway: a fraction of a degree at about 0.2 Hz.
            t = np.arange(n) / self.rate_hz
            fade = np.clip(np.minimum(t, seconds - t), 0.0, 1.0)
            fade = fade * fade * (3 - 2 * fade)  # smoothstep: sway starts and ends at rest
            sign = self.rng.choice([-1.0, 1.0])
            phi = phi + sign * 0.8 * fade * np.sin(2 * np.pi * 0.2 * t)
            theta = theta + 0.5 * fade * np.sin(2 * np.pi * 0.13 * t)
        self._append(theta, phi, free=sway)

    def _rest(self, seconds: float) -> None:
        self._hold(seconds, sway=True)

    def _move_to(self, posture: _Posture) -> None:
        if posture == self._posture:
            return
        # Patients settle for a few seconds before and after changing posture.
        self._hold(3.0, sway=False)
        n = self._samples(2.5)
        theta = _min_jerk(self._posture.theta_deg, posture.theta_deg, n)
        phi = _min_jerk(self._posture.phi_deg, posture.phi_deg, n)
        self._append(theta, phi)
        self._posture = posture
        self._hold(3.0, sway=False)

    def _exercise_block(self) -> None:
        rng = self.rng
        n_reps = int(rng.integers(5, 13))
        k = self.range_scale
        if self.joint == "knee":
            seated = rng.random() < 0.5  # drawn in every mode, so the other draws stay the same
            if self.knee_posture != "either":
                seated = self.knee_posture == "seated"
            if seated:
                self._move_to(_SEATED)
                extreme = 90.0 - k * rng.uniform(55.0, 85.0)  # seated knee extension
            else:
                self._move_to(_STANDING)
                extreme = k * rng.uniform(60.0, 100.0)  # standing hamstring curl
        elif self.joint == "elbow":
            extreme = k * rng.uniform(90.0, 135.0)  # biceps curl
        else:
            extreme = -k * rng.uniform(20.0, 40.0)  # ankle pumps into plantarflexion
        self._exercise_set(n_reps, extreme, rep_s=(2.5, 5.0), pause_s=(0.0, 1.0))
        self._move_to(_STANDING)

    def _exercise_set(
        self,
        n_reps: int,
        extreme_deg: float,
        rep_s: tuple[float, float],
        pause_s: tuple[float, float],
    ) -> None:
        rng = self.rng
        rest = self._posture.theta_deg
        reps = []
        for k in range(n_reps):
            if k:
                self._hold(rng.uniform(*pause_s), sway=False)
            extreme = rest + (extreme_deg - rest) * rng.uniform(0.9, 1.05)
            duration = rng.uniform(*rep_s)
            n_out = self._samples(duration * rng.uniform(0.4, 0.5))
            n_hold = self._samples(rng.uniform(0.0, 0.4))
            n_back = self._samples(duration) - n_out - n_hold
            theta = np.concatenate(
                [
                    _min_jerk(rest, extreme, n_out),
                    np.full(n_hold, extreme),
                    _min_jerk(extreme, rest, n_back),
                ]
            )
            start = self._n
            self._append(theta, np.full(len(theta), self._posture.phi_deg))
            reps.append(_Rep(start, self._n - 1, float(extreme)))
        self.sets.append(_Set(reps))

    def _walk(self, seconds: float) -> None:
        self._move_to(_STANDING)
        rng = self.rng
        n = self._samples(seconds)
        stride_s = rng.uniform(1.0, 1.2)
        t = np.arange(n) / self.rate_hz
        phase = (t / stride_s) % 1.0
        # Joint and hip angles over one gait cycle, heel strike at phase 0, after the
        # normative sagittal curves in Winter (2009), Fig. 4.20 (simplified).
        knots = np.array([0.0, 0.15, 0.4, 0.62, 0.73, 0.9, 1.0])
        if self.joint == "knee":
            theta_knots = [5.0, 18.0, 5.0, 40.0, 60.0, 25.0, 5.0]
            phi_knots = [25.0, 20.0, 0.0, -10.0, 15.0, 28.0, 25.0]
        elif self.joint == "ankle":
            theta_knots = [0.0, -5.0, 10.0, -15.0, -5.0, 0.0, 0.0]
            phi_knots = [0.0, 10.0, 25.0, 35.0, 10.0, -10.0, 0.0]
        else:  # arm swing with a slightly flexed elbow
            theta_knots = [20.0, 25.0, 30.0, 35.0, 30.0, 25.0, 20.0]
            phi_knots = [-15.0, -10.0, 5.0, 15.0, 10.0, -5.0, -15.0]
        theta = CubicSpline(knots, theta_knots, bc_type="periodic")(phase)
        phi = CubicSpline(knots, phi_knots, bc_type="periodic")(phase)
        # Fade the gait in and out over one stride so speeds stay continuous.
        fade = np.clip(np.minimum(t, seconds - t) / stride_s, 0.0, 1.0)
        fade = fade * fade * (3 - 2 * fade)
        theta = self._posture.theta_deg + fade * (theta - theta_knots[0])
        phi = self._posture.phi_deg + fade * (phi - phi_knots[0])
        # Walk a gentle curve so that heading changes too.
        psi_rate = fade * rng.uniform(-15.0, 15.0)
        self._append(theta, phi, psi_rate_dps=psi_rate, free=True)

    def _add_jerks(
        self,
        theta: npt.NDArray[np.float64],
        phi: npt.NDArray[np.float64],
        n_jerks: int,
        n_twitches: int = 0,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        margin = self._samples(1.5)
        candidates = [(a + margin, b - margin) for a, b in self._free if b - a > 2 * margin + 1]
        if not candidates:
            return theta, phi
        jerks = self._place(self.rng, candidates, n_jerks, [])
        theta = theta.copy()
        phi = phi.copy()
        for at in jerks:
            # A sudden jerk: a gamma-shaped excursion (fast rise, slower return).
            # Involuntary jerks of spastic limbs peak within ~50-100 ms (Granat & Edmond
            # 1999, Med Eng Phys 21:103 report accelerations far above voluntary movement).
            rng = self.rng
            rise_s = rng.uniform(0.04, 0.08)
            if self.joint == "ankle":
                amplitude = rng.uniform(10.0, 25.0) * rng.choice([-1.0, 1.0])
            else:
                amplitude = rng.uniform(15.0, 40.0) * rng.choice([-1.0, 1.0])
            self._add_pulse(theta, phi, at, rise_s, amplitude)
        for at in self._place(self.extra_rng, candidates, n_twitches, jerks):
            # A brief twitch: the same shape, smaller and faster. Myoclonic EMG bursts
            # last 10-50 ms (Shibasaki & Hallett 2005, Mov Disord 20 Suppl 11:S5), so the
            # limb's twitch peaks within tens of ms.
            rng = self.extra_rng
            rise_s = rng.uniform(0.015, 0.03)
            amplitude = rng.uniform(3.0, 10.0) * rng.choice([-1.0, 1.0])
            self._add_pulse(theta, phi, at, rise_s, amplitude)
        return theta, phi

    def _place(
        self, rng: np.random.Generator, candidates: list[tuple[int, int]], n: int, taken: list[int]
    ) -> list[int]:
        """Up to ``n`` random onsets in ``candidates``, 3 s from each other and ``taken``."""
        spacing = self._samples(3.0)
        weights = np.array([b - a for a, b in candidates], dtype=float)
        placed: list[int] = []
        for _ in range(50 * n):
            if len(placed) == n:
                break
            a, b = candidates[rng.choice(len(candidates), p=weights / weights.sum())]
            at = int(rng.integers(a, b))
            if all(abs(at - p) > spacing for p in placed + taken):
                placed.append(at)
        return placed

    def _add_pulse(
        self,
        theta: npt.NDArray[np.float64],
        phi: npt.NDArray[np.float64],
        at: int,
        rise_s: float,
        amplitude: float,
    ) -> None:
        """Add a gamma-shaped excursion at ``at`` in place, and its label."""
        if self.joint != "ankle" and theta[at] < 20.0:
            amplitude = abs(amplitude)  # a straight joint can only flex
        n = self._samples(rise_s * 8)
        u = np.arange(n) / (rise_s * self.rate_hz)
        pulse = u * u * np.exp(2.0 * (1.0 - u))
        end = min(at + n, len(theta))
        theta[at:end] += amplitude * pulse[: end - at]
        phi[at:end] += 0.4 * amplitude * pulse[: end - at]
        above = np.flatnonzero(pulse[: end - at] >= 0.05)
        self.jerks.append(_Jerk(at + int(above[0]), at + int(above[-1])))


@dataclass(frozen=True, slots=True)
class _NsOf:
    t0_ns: int
    rate_hz: float

    def __call__(self, index: int) -> int:
        return self.t0_ns + round(index * NS_PER_S / self.rate_hz)


def _min_jerk(x0: float, x1: float, n: int) -> npt.NDArray[np.float64]:
    """Minimum-jerk path from x0 to x1 in n samples (Flash & Hogan 1985, J Neurosci 5:1688)."""
    s = np.arange(n) / max(n - 1, 1)
    return x0 + (x1 - x0) * (10 * s**3 - 15 * s**4 + 6 * s**5)


def _compose(a: Rotation, b: Rotation) -> Rotation:
    """``a * b`` as one vectorized Hamilton product: scipy's own composition costs about
    50 ms per 160,000 rotations, which made it most of the cost of a recording."""
    ax, ay, az, aw = np.atleast_2d(a.as_quat()).T  # scipy quaternions are (x, y, z, w)
    bx, by, bz, bw = np.atleast_2d(b.as_quat()).T
    product = np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )
    return Rotation.from_quat(product)


def _body_sway(rng: np.random.Generator, n: int, rate_hz: float, peak_deg: float) -> npt.NDArray[np.float64]:
    """One axis of postural sway, degrees, shape (n,), peaking at ``peak_deg``.

    Four sinusoids with random frequencies in 0.1-0.5 Hz and random phases, their
    amplitudes falling as 1/frequency: the centre of pressure of quiet standing has most
    of its power below 0.5 Hz, with mean frequencies of 0.2-0.4 Hz and a spectrum that
    falls steeply above (Prieto et al. 1996, IEEE Trans Biomed Eng 43:956).
    """
    t = np.arange(n) / rate_hz
    freqs_hz = rng.uniform(0.1, 0.5, 4)
    phases = rng.uniform(0.0, 2 * np.pi, 4)
    weights = rng.uniform(0.5, 1.0, 4) * 0.1 / freqs_hz
    sway: npt.NDArray[np.float64] = (
        weights[:, None] * np.sin(2 * np.pi * freqs_hz[:, None] * t + phases[:, None])
    ).sum(axis=0)
    peak = float(np.abs(sway).max(initial=0.0))
    return sway * (peak_deg / peak) if peak > 0 else sway


def _bias_wander(
    rng: np.random.Generator, n: int, rate_hz: float, largest_dps: float
) -> npt.NDArray[np.float64]:
    """Slow gyroscope bias wander, deg/s, shape (n, 3): 0 at the start, then a smooth
    curve through a random value in ±``largest_dps`` every ``_BIAS_WANDER_KNOT_S``."""
    duration_s = n / rate_hz
    n_knots = max(2, math.ceil(duration_s / _BIAS_WANDER_KNOT_S) + 1)
    knots_s = np.arange(n_knots) * _BIAS_WANDER_KNOT_S
    values = rng.uniform(-1.0, 1.0, (n_knots, 3)) * largest_dps
    values[0] = 0.0
    # Clamped ends (zero slope at start): the warm-up starts smoothly.
    curve = CubicSpline(knots_s, values, bc_type="clamped")(np.arange(n) / rate_hz)
    wander: npt.NDArray[np.float64] = np.clip(curve, -largest_dps, largest_dps)
    return wander


def _random_rotation(rng: np.random.Generator, max_deg: float) -> Rotation:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    return Rotation.from_rotvec(axis * math.radians(rng.uniform(0.5, 1.0) * max_deg))


@dataclass(frozen=True, slots=True)
class _Kinematics:
    rot_prox: Rotation
    rot_dist: Rotation
    omega_prox_dps: npt.NDArray[np.float64]
    omega_dist_dps: npt.NDArray[np.float64]
    acc_prox_g: npt.NDArray[np.float64]
    acc_dist_g: npt.NDArray[np.float64]


def _kinematics(
    joint: Joint,
    theta_deg: npt.NDArray[np.float64],
    phi_deg: npt.NDArray[np.float64],
    psi_deg: npt.NDArray[np.float64],
    rate_hz: float,
    sway_deg: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> _Kinematics:
    """Segment orientations, body-frame angular velocities and specific forces.

    R_prox = Rz(psi) · Rx(roll) · B · Ry(phi) and R_dist = R_prox · Ry(theta) · D, where
    B points the proximal segment (its x axis) straight down and D is the neutral
    relative pose (the foot sits at 90° to the shank). The proximal joint (hip,
    shoulder, knee) stays put, except in whole-body sway (pitch, already inside phi, and
    roll), where the body tilts as one inverted pendulum about the ankles and carries
    the proximal joint with it.
    """
    roll_deg = None if sway_deg is None else sway_deg[1]
    dt = 1.0 / rate_hz
    base = Rotation.from_euler("y", 90.0, degrees=True)  # segment x axis to earth -z
    neutral = Rotation.from_euler("y", -90.0 if joint == "ankle" else 0.0, degrees=True)
    r_psi = Rotation.from_euler("z", psi_deg[:, None], degrees=True)
    r_phi = Rotation.from_euler("y", -phi_deg[:, None], degrees=True)  # hip/shoulder flexion forward
    r_theta = Rotation.from_euler("y", theta_deg[:, None], degrees=True)
    if roll_deg is not None:
        r_psi = _compose(r_psi, Rotation.from_euler("x", roll_deg[:, None], degrees=True))
    rot_prox = _compose(_compose(r_psi, base), r_phi)
    rot_dist = _compose(_compose(rot_prox, r_theta), neutral)

    z = np.zeros_like(theta_deg)
    dpsi = np.stack([z, z, np.gradient(psi_deg, dt)], axis=1)
    dphi = np.stack([z, -np.gradient(phi_deg, dt), z], axis=1)
    dtheta = np.stack([z, np.gradient(theta_deg, dt), z], axis=1)
    if roll_deg is not None:
        # Body rate of Rz(psi) · Rx(roll): Rx(roll)ᵀ (0, 0, psi') + (roll', 0, 0).
        r_roll = Rotation.from_euler("x", roll_deg[:, None], degrees=True)
        droll = np.stack([np.gradient(roll_deg, dt), z, z], axis=1)
        dpsi = r_roll.inv().apply(dpsi) + droll
    omega_prox = _compose(base, r_phi).inv().apply(dpsi) + dphi
    omega_dist = neutral.inv().apply(r_theta.inv().apply(omega_prox) + dtheta)

    len_prox, len_dist = _SEGMENT_LENGTHS_M[joint]
    # Sensors sit mid-segment, 5 cm off the bone axis on the skin.
    hip = np.zeros((len(theta_deg), 3))
    if sway_deg is not None:
        pitch_deg = sway_deg[0]
        body = _compose(r_psi, Rotation.from_euler("y", -pitch_deg[:, None], degrees=True))
        height_m = _SWAY_PIVOT_HEIGHT_M[joint]
        hip = body.apply([0.0, 0.0, height_m]) - [0.0, 0.0, height_m]
    pos_prox = hip + rot_prox.apply([len_prox / 2, 0.0, 0.05])
    joint_pos = hip + rot_prox.apply([len_prox, 0.0, 0.0])
    pos_dist = joint_pos + rot_dist.apply([len_dist / 2, 0.0, 0.05])
    up = np.array([0.0, 0.0, 1.0])
    accs = []
    for rot, pos in ((rot_prox, pos_prox), (rot_dist, pos_dist)):
        lin = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0) / STANDARD_GRAVITY_M_S2
        accs.append(rot.inv().apply(lin + up))
    return _Kinematics(rot_prox, rot_dist, omega_prox, omega_dist, accs[0], accs[1])
