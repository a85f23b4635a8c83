"""Orientation of one IMU from its accelerometer and gyroscope (no magnetometer).

A Mahony-style complementary filter (Mahony, Hamel & Pflimlin 2008, IEEE Trans Autom
Control 53:1203): the gyroscope is integrated, and the accelerometer pulls the estimate
of "up" back towards gravity with a proportional gain. Two additions, as in Fusion
(xioTechnologies): the accelerometer is ignored while its magnitude departs from 1 g
(the limb is accelerating, so it does not measure gravity), and the gyroscope bias is
learnt whenever the sensor rests: about the horizontal axes by Mahony's integral term
(the tilt error against gravity), which postural sway does not disturb, and about the
vertical from the gyroscope's slow average.

Convention: quaternions are (w, x, y, z), Hamilton, and rotate vectors from the sensor
frame into the earth frame. The earth frame has z up; an IMU lying flat at rest reads
acc = (0, 0, +1) g. Heading (rotation about earth z) starts at 0 and is unobserved, so
it drifts with the residual gyroscope bias; inclination does not drift.

The per-sample recursion runs in a numba kernel; its whole state lives in a small
array, so a stream processed in chunks gives bit-identical output to one batch call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from monitor.bounds import check_bounds

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OrientationParams:
    """Tuning of the orientation filter.

    Attributes
    ----------
    gain : float
        Accelerometer correction gain, rad/s per unit error; the inclination settles
        with a time constant of about 1/gain s.
    acc_rejection_g : float
        The accelerometer is used only while | |acc| - 1 g | is below this, g.
    rest_threshold_dps : float
        Largest departure of each gyroscope axis from its slow average at rest, deg/s.
        Rest includes a standing or sitting body's postural sway, which turns the limbs
        by a few degrees at 0.1-0.5 Hz: up to about 10 °/s, of which 2-4 °/s depart from
        a 0.25 s average. Above that, and above gyroscope noise (4σ of the noisiest
        strap, 0.4 °/s RMS, is 1.6 °/s), lie voluntary movements, whose departures are
        tens of °/s.
    rest_time_s : float
        How long the gyroscope must look at rest before its bias is learnt, s.
    bias_time_constant_s : float
        Time constant of learning the bias about the vertical at rest, s (the horizontal
        part settles in 2 / rest_gain s, the same 1 s by default).
    max_bias_dps : float
        A "rest" reading larger than this on any axis is slow motion, not bias, deg/s.
    initial_gain : float
        Gain right after start-up, ramped down to ``gain`` over ``initial_s``, so the
        first inclination comes from the accelerometer, not from an unlearnt bias.
    initial_s : float
        Length of that start-up ramp, s.
    rest_gain : float
        Gain while the IMU rests (the accelerometer then reads pure gravity), so tilt
        error collected during movement is shed within a few tenths of a second.
    """

    gain: float = 0.5
    acc_rejection_g: float = 0.1
    rest_threshold_dps: float = 4.0
    rest_time_s: float = 0.5
    bias_time_constant_s: float = 1.0
    max_bias_dps: float = 10.0
    initial_gain: float = 10.0
    initial_s: float = 2.0
    rest_gain: float = 2.0

    def __post_init__(self) -> None:
        positive = (
            "gain", "acc_rejection_g", "rest_threshold_dps", "rest_time_s", "bias_time_constant_s",
            "max_bias_dps", "initial_gain", "initial_s", "rest_gain",
        )  # fmt: skip
        check_bounds(self, positive, above=0, prefix="OrientationParams.")

    def as_array(self, sample_rate_hz: float) -> FloatArray:
        return np.array(
            [
                1.0 / sample_rate_hz,
                self.gain,
                self.acc_rejection_g,
                self.rest_threshold_dps,
                self.rest_time_s,
                self.bias_time_constant_s,
                self.max_bias_dps,
                self.initial_gain,
                self.initial_s,
                self.rest_gain,
            ]
        )


def orientation(
    acc_g: npt.ArrayLike,
    gyr_dps: npt.ArrayLike,
    sample_rate_hz: float,
    params: OrientationParams | None = None,
) -> FloatArray:
    """Estimate the orientation of one IMU at every sample.

    Parameters
    ----------
    acc_g : array_like, shape (n, 3)
        Accelerometer, g (specific force: (0, 0, +1) lying flat at rest).
    gyr_dps : array_like, shape (n, 3)
        Gyroscope, deg/s, same sample instants as ``acc_g``.
    sample_rate_hz : float
        Sample rate of both, Hz.
    params : OrientationParams, optional
        Filter tuning; the defaults suit body-worn IMUs at 25-200 Hz.

    Returns
    -------
    ndarray, shape (n, 4)
        Unit quaternions (w, x, y, z) rotating sensor-frame vectors into the earth frame
        (z up, heading starting at 0).

    Examples
    --------
    >>> import numpy as np
    >>> acc = np.tile([0.0, 0.0, 1.0], (100, 1))
    >>> q = orientation(acc, np.zeros((100, 3)), 100.0)
    >>> np.allclose(q[-1], [1, 0, 0, 0])
    True
    """
    return OrientationFilter(sample_rate_hz, params).update(acc_g, gyr_dps)


class OrientationFilter:
    """The orientation filter as a stateful object, for streams.

    ``update`` on consecutive chunks returns exactly what :func:`orientation` returns
    on their concatenation.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate, Hz.
    params : OrientationParams, optional
        Filter tuning.
    """

    def __init__(self, sample_rate_hz: float, params: OrientationParams | None = None) -> None:
        if not sample_rate_hz > 0:
            raise ValueError(f"sample_rate_hz must be > 0, got {sample_rate_hz}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.params = params or OrientationParams()
        self._params = self.params.as_array(self.sample_rate_hz)
        self._state = np.zeros(_STATE_SIZE)

    @property
    def bias_dps(self) -> FloatArray:
        """Current gyroscope bias estimate, deg/s, shape (3,)."""
        return self._state[_BIAS : _BIAS + 3].copy()

    def reset(self) -> None:
        """Forget everything (after a long gap): re-initialize from the next sample."""
        self._state[:] = 0.0

    def update(self, acc_g: npt.ArrayLike, gyr_dps: npt.ArrayLike) -> FloatArray:
        """Filter the next samples; returns their quaternions, shape (n, 4)."""
        acc = _as_xyz(acc_g, "acc_g")
        gyr = _as_xyz(gyr_dps, "gyr_dps")
        if acc.shape != gyr.shape:
            raise ValueError(
                f"acc_g and gyr_dps must have the same shape (n, 3), got {acc.shape} and {gyr.shape}"
            )
        out = np.empty((acc.shape[0], 4))
        _filter_kernel(acc, gyr, self._params, self._state, out)
        return out


def _as_xyz(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"{name} must have shape (n, 3), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; gaps must be cut out, not filled with NaN")
    return array


# Layout of the state array.
_Q = 0  # quaternion w, x, y, z
_BIAS = 4  # gyroscope bias, deg/s
_GYR_SLOW = 7  # slow average of the raw gyroscope, deg/s
_REST_S = 10  # time the gyroscope has looked at rest, s
_INITIALIZED = 11
_ELAPSED_S = 12  # time since start-up, s (saturates after the start-up ramp)
_REJECTED_S = 13  # acceleration-rejection trigger, s (Fusion's accelerationRecoveryTrigger)
_STATE_SIZE = 14

# Time constant of the slow gyroscope average that rest is judged against, s.
_GYR_SLOW_TIME_CONSTANT_S = 0.25
# An accelerometer reading under half a g holds no usable direction of gravity.
_MIN_GRAVITY_G = 0.5
# Rejecting the accelerometer more than a tenth of the time for this long means it is not
# the body accelerating but the sensor reading off (a gain error, a stuck axis): correct
# towards it anyway rather than drift on the gyroscope alone (Fusion's recovery, 5 s).
_RECOVERY_TRIGGER_S = 5.0


@numba.njit(cache=True, nogil=True)
def _filter_kernel(
    acc: FloatArray, gyr: FloatArray, params: FloatArray, state: FloatArray, out: FloatArray
) -> None:  # pragma: no cover - compiled
    dt = params[0]
    gain = params[1]
    acc_rejection = params[2]
    rest_threshold = params[3]
    rest_time = params[4]
    bias_alpha = min(1.0, dt / params[5])
    max_bias = params[6]
    initial_gain = params[7]
    initial_s = params[8]
    rest_gain = params[9]
    slow_alpha = min(1.0, dt / _GYR_SLOW_TIME_CONSTANT_S)
    deg = math.pi / 180.0
    qw, qx, qy, qz = state[0], state[1], state[2], state[3]
    for i in range(acc.shape[0]):
        ax, ay, az = acc[i, 0], acc[i, 1], acc[i, 2]
        norm = math.sqrt(ax * ax + ay * ay + az * az)
        if state[_INITIALIZED] == 0.0:
            if norm < _MIN_GRAVITY_G:
                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = 1.0, 0.0, 0.0, 0.0
                continue
            # Shortest rotation taking the measured "up" onto earth z, heading 0.
            ux, uy, uz = ax / norm, ay / norm, az / norm
            if uz < -0.999999:
                qw, qx, qy, qz = 0.0, 1.0, 0.0, 0.0
            else:
                qw, qx, qy, qz = 1.0 + uz, uy, -ux, 0.0
                n = math.sqrt(qw * qw + qx * qx + qy * qy)
                qw, qx, qy = qw / n, qx / n, qy / n
            for k in range(3):
                state[_GYR_SLOW + k] = gyr[i, k]
            state[_INITIALIZED] = 1.0

        # Rest: every gyroscope axis stays near its slow average (slow motion such as
        # postural sway passes this test too, so the bias is not read off it directly).
        at_rest = True
        for k in range(3):
            state[_GYR_SLOW + k] += slow_alpha * (gyr[i, k] - state[_GYR_SLOW + k])
            slow = state[_GYR_SLOW + k]
            if abs(gyr[i, k] - slow) > rest_threshold or abs(slow) > max_bias:
                at_rest = False
        state[_REST_S] = state[_REST_S] + dt if at_rest else 0.0
        resting = state[_REST_S] >= rest_time

        # The gain ramps down from initial_gain to the one for the present state.
        k_p = rest_gain if resting else gain
        if state[_ELAPSED_S] < initial_s:
            k_p = initial_gain + (k_p - initial_gain) * state[_ELAPSED_S] / initial_s
            state[_ELAPSED_S] += dt
        # Estimated "up" in the sensor frame, and its error against the measured one.
        vx = 2.0 * (qx * qz - qw * qy)
        vy = 2.0 * (qw * qx + qy * qz)
        vz = qw * qw - qx * qx - qy * qy + qz * qz
        ex, ey, ez = 0.0, 0.0, 0.0
        # Below half a g the accelerometer is in free fall, saturated to zero or reads
        # an all-zero frame: no direction of gravity to correct towards (Fusion skips it).
        rejected = abs(norm - 1.0) >= acc_rejection and k_p <= gain
        recovering = state[_REJECTED_S] >= _RECOVERY_TRIGGER_S
        state[_REJECTED_S] += 9.0 * dt if rejected else -dt
        state[_REJECTED_S] = min(max(state[_REJECTED_S], 0.0), _RECOVERY_TRIGGER_S)
        if norm >= _MIN_GRAVITY_G and (not rejected or recovering):
            ax, ay, az = ax / norm, ay / norm, az / norm
            ex = ay * vz - az * vy
            ey = az * vx - ax * vz
            ez = ax * vy - ay * vx

        if resting:
            # Bias about the vertical: the gyroscope's slow average, since sway and
            # other slow motion of a resting body turn it about horizontal axes.
            along = 0.0
            for k in range(3):
                along += (state[_GYR_SLOW + k] - state[_BIAS + k]) * (vx, vy, vz)[k]
            # Bias about the horizontal axes: the integral term of Mahony et al. (2008),
            # driven by the tilt error against gravity. The gyroscope and accelerometer
            # agree on any real rotation, so only the bias drives it, with or without
            # sway. Its gain k_p²/4 makes the tilt-bias loop s² + k_p·s + k_i critically
            # damped, settling with time constant 2/k_p (1 s at rest_gain).
            k_i = 0.25 * k_p * k_p
            state[_BIAS] += bias_alpha * along * vx - k_i * dt * ex / deg
            state[_BIAS + 1] += bias_alpha * along * vy - k_i * dt * ey / deg
            state[_BIAS + 2] += bias_alpha * along * vz - k_i * dt * ez / deg

        gx = (gyr[i, 0] - state[_BIAS]) * deg + k_p * ex
        gy = (gyr[i, 1] - state[_BIAS + 1]) * deg + k_p * ey
        gz = (gyr[i, 2] - state[_BIAS + 2]) * deg + k_p * ez

        h = 0.5 * dt
        dw = -qx * gx - qy * gy - qz * gz
        dx = qw * gx + qy * gz - qz * gy
        dy = qw * gy - qx * gz + qz * gx
        dz = qw * gz + qx * gy - qy * gx
        qw += h * dw
        qx += h * dx
        qy += h * dy
        qz += h * dz
        n = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
        qw, qx, qy, qz = qw / n, qx / n, qy / n, qz / n
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = qw, qx, qy, qz
    state[0], state[1], state[2], state[3] = qw, qx, qy, qz
