"""Orientation peers for the IMU benchmarks: imufusion (Fusion's C core) and ahrs' Madgwick.

Both are driven the way their documentation shows, one sample per Python call, and
their quaternions are brought to this project's convention (w, x, y, z, sensor to
earth, z up) so the same joint-angle step can consume them. Both start from the first
gravity reading, as our filter does.

Fairness of the setup
---------------------
imufusion. Since imufusion 1.3 ``AhrsSettings.rejection_timeout`` is in seconds (it
was a sample count, ``recovery_trigger_period``, before); 5 s is used. An earlier
version of this file passed ``5 * sample_rate`` (250-500 s), so once the tilt error
passed the 10° acceleration rejection the accelerometer stayed ignored for the rest of
a 300 s recording and the tilt ran away (all nine "high" recordings: tilt error up to
110-180°, joint-angle RMSE 90-120°). The ``Bias`` (gyroscope offset) module only
learns while every axis of the *uncorrected* gyroscope is below
``stationary_threshold``; Fusion's default 3 °/s is below the offsets of the "high"
noise level (up to 5 °/s), so an IMU with one axis beyond it never learnt any offset.
10 °/s is used, the same prior as our filter's ``OrientationParams.max_bias_dps``.

What remains is the filters' own (documented, not tuned away):

- imufusion learns the offset only after ``stationary_period`` (3 s) at rest and then
  with a 0.02 Hz filter (8 s), so during the opening calibration (0-14 s) the offset
  is still mostly uncorrected: a few degrees of tilt and up to tens of degrees of
  relative heading drift, hence its higher median and its worst "high" recordings
  (12-14° RMSE). The heading drift used to wreck the hinge-axis calibration too
  (50-85° RMSE on three "high" recordings), until ``calibrate_joint`` learnt to
  separate it from the hinge.
- ahrs' ``Madgwick.updateIMU`` has no gyroscope-bias estimate, and its normalised
  gradient step limits the accelerometer correction to ``gain`` rad/s (default 0.033,
  1.9 °/s; Madgwick's rule gain = √(3/4)·ω_err puts 0.033 at 2.2 °/s of gyroscope
  error). A bias above that on a horizontal axis is never cancelled, so the tilt
  integrates it without bound: eight of the nine "high" recordings (offsets up to
  5 °/s) diverge, tilt error up to 94-180°, joint-angle RMSE 28-117°; some "typical"
  ones (up to 2 °/s) reach 10-25° of tilt error. With gain 0.076 (the rule for 5 °/s)
  five of those eight come within 1-5° RMSE, and the three with 4.7-4.9 °/s offsets,
  above 0.076 rad/s (4.4 °/s), still drift (7-22°). The default gain is kept.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu import quaternion as quat
from monitor.synth.motion import STANDARD_GRAVITY_M_S2

FloatArray = npt.NDArray[np.float64]


def imufusion_orientation(acc_g: FloatArray, gyr_dps: FloatArray, sample_rate_hz: float) -> FloatArray:
    """imufusion ``Ahrs`` with its ``Bias`` (gyro offset at rest), NWU, gain 0.5, 5 s rejection timeout."""
    import imufusion

    settings = imufusion.AhrsSettings()
    settings.convention = imufusion.CONVENTION_NWU
    settings.gain = 0.5
    settings.gyroscope_range = 2000.0
    settings.acceleration_rejection = 10.0
    settings.sample_rate = round(sample_rate_hz)
    settings.rejection_timeout = 5.0  # seconds (imufusion >= 1.3), not samples
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(settings)
    bias = imufusion.Bias()
    bias_settings = imufusion.BiasSettings()
    bias_settings.sample_rate = round(sample_rate_hz)
    # Rest is judged on the uncorrected gyroscope, so the threshold must exceed the offset.
    bias_settings.stationary_threshold = 10.0
    bias.set_settings(bias_settings)
    # Start from the first gravity reading, as our filter and the Madgwick peer do;
    # Fusion's own start-up from identity turns the heading unpredictably.
    ahrs.set_quaternion(_tilt_quaternion(acc_g[0]))
    ahrs.skip_startup()
    out = np.empty((len(acc_g), 4))
    for i in range(len(acc_g)):
        gyr = bias.update(gyr_dps[i])
        ahrs.update_no_magnetometer(gyr, acc_g[i])
        out[i] = ahrs.get_quaternion()
    return _to_sensor_to_earth(out, acc_g)


def ahrs_madgwick_orientation(acc_g: FloatArray, gyr_dps: FloatArray, sample_rate_hz: float) -> FloatArray:
    """ahrs' ``Madgwick.updateIMU`` (default gain), initialised from the first gravity reading."""
    from ahrs.filters import Madgwick  # type: ignore[import-untyped]

    madgwick = Madgwick(frequency=sample_rate_hz)
    gyr_rad_s = np.radians(gyr_dps)
    acc_m_s2 = acc_g * STANDARD_GRAVITY_M_S2
    out = np.empty((len(acc_g), 4))
    q = _tilt_quaternion(acc_g[0])
    for i in range(len(acc_g)):
        q = madgwick.updateIMU(q, gyr=gyr_rad_s[i], acc=acc_m_s2[i])
        out[i] = q
    return _to_sensor_to_earth(out, acc_g)


def _tilt_quaternion(acc_g: FloatArray) -> FloatArray:
    up = acc_g / np.linalg.norm(acc_g)
    q = np.array([1.0 + up[2], up[1], -up[0], 0.0])
    tilt: FloatArray = q / np.linalg.norm(q)
    return tilt


def _to_sensor_to_earth(q: FloatArray, acc_g: FloatArray) -> FloatArray:
    """Conjugate if the peer's quaternions rotate earth to sensor (judged on gravity)."""
    n = min(len(q), 200)
    up = acc_g[:n] / np.linalg.norm(acc_g[:n], axis=1, keepdims=True)
    direct = np.mean(quat.rotate(q[:n], up)[:, 2])
    inverse = np.mean(quat.rotate(quat.conjugate(q[:n]), up)[:, 2])
    return q if direct >= inverse else quat.conjugate(q)
