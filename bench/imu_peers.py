"""Orientation peers for the IMU benchmarks: imufusion (Fusion's C core) and ahrs' Madgwick.

Both are driven the way their documentation shows, one sample per Python call, and
their quaternions are brought to this project's convention (w, x, y, z, sensor to
earth, z up) so the same joint-angle step can consume them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu import quaternion as quat
from monitor.synth.motion import STANDARD_GRAVITY_M_S2

FloatArray = npt.NDArray[np.float64]


def imufusion_orientation(acc_g: FloatArray, gyr_dps: FloatArray, sample_rate_hz: float) -> FloatArray:
    """imufusion ``Ahrs`` with its ``Bias`` (gyro offset at rest), NWU, gain 0.5."""
    import imufusion

    settings = imufusion.AhrsSettings()
    settings.convention = imufusion.CONVENTION_NWU
    settings.gain = 0.5
    settings.gyroscope_range = 2000.0
    settings.acceleration_rejection = 10.0
    settings.sample_rate = round(sample_rate_hz)
    settings.rejection_timeout = round(5 * sample_rate_hz)
    ahrs = imufusion.Ahrs()
    ahrs.set_settings(settings)
    bias = imufusion.Bias()
    bias_settings = imufusion.BiasSettings()
    bias_settings.sample_rate = round(sample_rate_hz)
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
    from ahrs.filters import Madgwick

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
    return q / np.linalg.norm(q)


def _to_sensor_to_earth(q: FloatArray, acc_g: FloatArray) -> FloatArray:
    """Conjugate if the peer's quaternions rotate earth to sensor (judged on gravity)."""
    n = min(len(q), 200)
    up = acc_g[:n] / np.linalg.norm(acc_g[:n], axis=1, keepdims=True)
    direct = np.mean(quat.rotate(q[:n], up)[:, 2])
    inverse = np.mean(quat.rotate(quat.conjugate(q[:n]), up)[:, 2])
    return q if direct >= inverse else quat.conjugate(q)
