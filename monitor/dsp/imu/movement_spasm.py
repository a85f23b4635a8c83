"""Movement spasms from one IMU: sudden involuntary jerks of a limb.

Voluntary movement is smooth: even brisk exercise or walking changes the limb's angular
velocity by a few thousand deg/s². A spasm jerk starts abruptly, reaching hundreds of
deg/s within tens of milliseconds. Granat and Edmond (1999) separated spasms from
voluntary activity the same way, by the accelerometer's abruptness. The detector
thresholds the angular acceleration (the rate of change of the gyroscope vector) with
hysteresis:

- an event starts when the angular acceleration exceeds ``onset_dps2``; its onset is
  the last quiet sample before that (at most ``max_lead_s`` earlier);
- it ends once the angular acceleration has stayed below ``quiet_dps2`` for
  ``quiet_s``;
- events closer than ``merge_s`` are one jerk with its rebound;
- an event whose peak angular speed stays under ``min_peak_dps`` is dropped.

The recursion runs in a numba kernel with its state in a small array, so any chunking
of a stream gives exactly the batch events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from monitor.bounds import check_bounds
from monitor.types import MOVEMENT_KIND, NS_PER_S, SpasmEvent

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MovementSpasmParams:
    """Tuning of the movement-spasm detector (see the module docstring)."""

    onset_dps2: float = 6500.0
    quiet_dps2: float = 2000.0
    quiet_s: float = 0.15
    max_lead_s: float = 0.2
    merge_s: float = 0.5
    min_peak_dps: float = 100.0

    def __post_init__(self) -> None:
        if not 0 < self.quiet_dps2 < self.onset_dps2:
            raise ValueError(f"need 0 < quiet_dps2 < onset_dps2, got {self.quiet_dps2}, {self.onset_dps2}")
        names = ("quiet_s", "max_lead_s", "merge_s", "min_peak_dps")
        check_bounds(self, names, at_least=0, prefix="MovementSpasmParams.")


def detect_movement_spasms(
    acc_g: npt.ArrayLike,
    gyr_dps: npt.ArrayLike,
    sample_rate_hz: float,
    t0_ns: int = 0,
    *,
    location: str = "",
    params: MovementSpasmParams | None = None,
) -> list[SpasmEvent]:
    """Detect sudden involuntary jerks in one IMU's recording.

    Parameters
    ----------
    acc_g : array_like, shape (n, 3)
        Accelerometer, g. Checked for shape only: the gyroscope alone decides, because
        it needs no gravity removal and is not affected by where on the limb the IMU sits.
    gyr_dps : array_like, shape (n, 3)
        Gyroscope, deg/s.
    sample_rate_hz : float
        Rate of both, Hz (25 Hz or more: a jerk lasts about 100-300 ms).
    t0_ns : int
        UTC time of the first sample, ns.
    location : str
        Body location for the events (for example "left knee").
    params : MovementSpasmParams, optional

    Returns
    -------
    list of SpasmEvent
        Kind ``"movement"`` (no EMG to classify it by), ``imu_peak_dps`` the peak angular speed,
        EMG fields None.

    Examples
    --------
    >>> from monitor.synth.motion import generate_motion
    >>> rec = generate_motion("knee", duration_s=120, n_spasms=3, seed=4)
    >>> found = detect_movement_spasms(rec.acc_dist_g, rec.gyr_dist_dps, 100.0, rec.t0_ns)
    >>> len(found)
    3
    """
    acc = np.asarray(acc_g, dtype=np.float64)
    detector = MovementSpasmDetector(sample_rate_hz, t0_ns, location=location, params=params)
    if acc.shape != np.shape(gyr_dps):
        raise ValueError(
            f"acc_g and gyr_dps must have the same shape (n, 3), got {acc.shape} and {np.shape(gyr_dps)}"
        )
    return detector.update(gyr_dps) + detector.flush()


class MovementSpasmDetector:
    """Streaming movement-spasm detector over one gyroscope on a uniform grid.

    Sample ``k`` (counted from the first ever passed) is at
    ``t0_ns + round(k * 1e9 / sample_rate_hz)``.
    """

    def __init__(
        self,
        sample_rate_hz: float,
        t0_ns: int = 0,
        *,
        location: str = "",
        params: MovementSpasmParams | None = None,
    ) -> None:
        if not sample_rate_hz >= 20:
            raise ValueError(f"sample_rate_hz must be >= 20 Hz, got {sample_rate_hz}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.t0_ns = int(t0_ns)
        self.location = location
        p = self.params = params or MovementSpasmParams()
        self._params = np.array(
            [
                self.sample_rate_hz,
                p.onset_dps2,
                p.quiet_dps2,
                max(1, round(p.quiet_s * sample_rate_hz)),
                round(p.max_lead_s * sample_rate_hz),
                round(p.merge_s * sample_rate_hz),
            ]
        )
        self._state = np.zeros(_STATE_SIZE)
        self._n_seen = 0

    def update(self, gyr_dps: npt.ArrayLike) -> list[SpasmEvent]:
        """Take the next gyroscope samples (deg/s, shape (n, 3)); return finished events."""
        gyr = np.ascontiguousarray(gyr_dps, dtype=np.float64)
        if gyr.ndim != 2 or gyr.shape[1] != 3:
            raise ValueError(f"gyr_dps must have shape (n, 3), got {gyr.shape}")
        out = np.zeros((gyr.shape[0] // 2 + 2, 3))
        count = _jerk_kernel(gyr, self._n_seen, self._params, self._state, out)
        self._n_seen += gyr.shape[0]
        return self._events(out[:count])

    def flush(self) -> list[SpasmEvent]:
        """End of stream: close the event in progress and the one awaiting a merge."""
        out = np.zeros((2, 3))
        count = _jerk_flush(self._n_seen - 1, self._state, out)
        return self._events(out[:count])

    def _events(self, rows: FloatArray) -> list[SpasmEvent]:
        ns_per_sample = NS_PER_S / self.sample_rate_hz
        return [
            SpasmEvent(
                onset_ns=self.t0_ns + round(onset * ns_per_sample),
                offset_ns=self.t0_ns + round(offset * ns_per_sample),
                kind=MOVEMENT_KIND,
                channel=0,
                location=self.location,
                imu_peak_dps=float(peak),
            )
            for onset, offset, peak in rows
            if peak >= self.params.min_peak_dps
        ]


# Layout of the state array.
_IN_EVENT, _ONSET, _LAST_QUIET, _PEAK, _QUIET_RUN = 0, 1, 2, 3, 4
_PEND, _PEND_ON, _PEND_OFF, _PEND_PEAK = 5, 6, 7, 8
_PREV, _STARTED, _PEAK_SINCE_QUIET = 9, 12, 13  # _PREV takes three slots
_STATE_SIZE = 14


@numba.njit(cache=True, nogil=True)
def _jerk_kernel(
    gyr: FloatArray, first: int, params: FloatArray, st: FloatArray, out: FloatArray
) -> int:  # pragma: no cover - compiled
    rate, onset_level, quiet_level = params[0], params[1], params[2]
    quiet_n, lead_n, merge_n = params[3], params[4], params[5]
    count = 0
    for i in range(gyr.shape[0]):
        g = first + i
        wx, wy, wz = gyr[i, 0], gyr[i, 1], gyr[i, 2]
        speed = np.sqrt(wx * wx + wy * wy + wz * wz)
        if st[_STARTED] == 0.0:
            st[_STARTED] = 1.0
            accel = 0.0
            st[_LAST_QUIET] = g
        else:
            dx, dy, dz = wx - st[_PREV], wy - st[_PREV + 1], wz - st[_PREV + 2]
            accel = np.sqrt(dx * dx + dy * dy + dz * dz) * rate
        st[_PREV], st[_PREV + 1], st[_PREV + 2] = wx, wy, wz
        if st[_IN_EVENT] == 0.0:
            if accel <= quiet_level:
                st[_LAST_QUIET] = g
                st[_PEAK_SINCE_QUIET] = speed
            else:
                st[_PEAK_SINCE_QUIET] = max(st[_PEAK_SINCE_QUIET], speed)
            if accel > onset_level:
                st[_IN_EVENT] = 1.0
                st[_ONSET] = max(st[_LAST_QUIET] + 1.0, g - lead_n)
                st[_PEAK] = st[_PEAK_SINCE_QUIET]
                st[_QUIET_RUN] = 0.0
        else:
            st[_PEAK] = max(st[_PEAK], speed)
            st[_QUIET_RUN] = st[_QUIET_RUN] + 1.0 if accel <= quiet_level else 0.0
            if st[_QUIET_RUN] >= quiet_n:
                count = _end_event(g - quiet_n + 1.0, merge_n, st, out, count)
                st[_LAST_QUIET] = g
                st[_PEAK_SINCE_QUIET] = speed
        if st[_PEND] == 1.0 and st[_IN_EVENT] == 0.0 and g - st[_PEND_OFF] > merge_n:
            out[count, 0], out[count, 1], out[count, 2] = st[_PEND_ON], st[_PEND_OFF], st[_PEND_PEAK]
            count += 1
            st[_PEND] = 0.0
    return count


@numba.njit(cache=True, nogil=True)
def _end_event(
    offset: float, merge_n: float, st: FloatArray, out: FloatArray, count: int
) -> int:  # pragma: no cover - compiled
    st[_IN_EVENT] = 0.0
    if st[_PEND] == 1.0 and st[_ONSET] - st[_PEND_OFF] <= merge_n:
        st[_PEND_OFF] = offset
        st[_PEND_PEAK] = max(st[_PEND_PEAK], st[_PEAK])
        return count
    if st[_PEND] == 1.0:
        out[count, 0], out[count, 1], out[count, 2] = st[_PEND_ON], st[_PEND_OFF], st[_PEND_PEAK]
        count += 1
    st[_PEND], st[_PEND_ON], st[_PEND_OFF], st[_PEND_PEAK] = 1.0, st[_ONSET], offset, st[_PEAK]
    return count


@numba.njit(cache=True, nogil=True)
def _jerk_flush(last: int, st: FloatArray, out: FloatArray) -> int:  # pragma: no cover - compiled
    count = 0
    if st[_IN_EVENT] == 1.0:
        count = _end_event(float(last), 0.0, st, out, count)
    if st[_PEND] == 1.0:
        out[count, 0], out[count, 1], out[count, 2] = st[_PEND_ON], st[_PEND_OFF], st[_PEND_PEAK]
        count += 1
        st[_PEND] = 0.0
    return count
