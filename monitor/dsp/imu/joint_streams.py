"""A joint's four IMU streams on one time grid, and where on it both IMUs are plausible.

Every processor of a joint (:class:`~monitor.dsp.imu.streaming.JointAngleProcessor`, the
guided calibration and the guided Tardieu test) pairs its frames the same way: gyroscope
and accelerometer, proximal then distal, resampled onto one grid by a
:class:`~monitor.dsp.imu.alignment.StreamAligner`, then split into runs of grid points
where both IMUs read what an IMU can measure, and runs where they do not (a gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu.alignment import StreamAligner
from monitor.types import NS_PER_S, Frame, SensorKind, StreamId

FloatArray = npt.NDArray[np.float64]

# Beyond these no body-worn IMU measures (the widest full scales sold are ±30 g and
# ±4000 deg/s, e.g. TDK ICM-20649's datasheet): such a value is a corrupt frame.
MAX_PLAUSIBLE_ACC_G = 64.0
MAX_PLAUSIBLE_GYR_DPS = 8000.0


@dataclass(frozen=True, slots=True)
class SegmentStreams:
    """The accelerometer and gyroscope streams of the IMU on one segment."""

    acc: StreamId
    gyr: StreamId


class JointAligner(StreamAligner):
    """A :class:`StreamAligner` of a joint's IMU streams, fed whole frames.

    Its columns are, in order: proximal gyroscope, proximal accelerometer, distal
    gyroscope, distal accelerometer.

    Parameters
    ----------
    proximal, distal : SegmentStreams
        Streams of the IMU on the proximal and on the distal segment.
    sample_rate_hz : float
        Grid rate, Hz.
    max_gap_s : float, optional
        As for :class:`StreamAligner`.
    """

    def __init__(
        self,
        proximal: SegmentStreams,
        distal: SegmentStreams,
        sample_rate_hz: float,
        max_gap_s: float | None = None,
    ) -> None:
        super().__init__(4, sample_rate_hz, max_gap_s)
        self._columns = {
            (proximal.gyr, SensorKind.GYR): 0,
            (proximal.acc, SensorKind.ACC): 1,
            (distal.gyr, SensorKind.GYR): 2,
            (distal.acc, SensorKind.ACC): 3,
        }

    def takes(self, frame: Frame) -> bool:
        """Whether ``frame`` is of one of the four streams."""
        return (frame.stream, frame.kind) in self._columns

    def push_frame(self, frame: Frame) -> None:
        """Add one frame's samples at their UTC times; ValueError for another stream or shape."""
        column = self._columns.get((frame.stream, frame.kind))
        if column is None:
            raise ValueError(f"frame of unexpected stream {frame.stream} ({frame.kind})")
        if frame.channels != 3:
            raise ValueError(f"IMU frames must have 3 channels, got {frame.channels}")
        offsets_ns = np.round(np.arange(frame.n_samples) * (NS_PER_S / frame.sample_rate_hz))
        self.push(column, frame.t0_ns + offsets_ns.astype(np.int64), frame.samples)


def plausible_imu(gyr_dps: FloatArray, acc_g: FloatArray) -> npt.NDArray[np.bool_]:
    """Per grid point: every axis finite and within what an IMU can measure."""
    with np.errstate(invalid="ignore"):  # NaN compares False: missing, as it should
        gyr_ok = (np.abs(gyr_dps) <= MAX_PLAUSIBLE_GYR_DPS).all(axis=1)
        acc_ok = (np.abs(acc_g) <= MAX_PLAUSIBLE_ACC_G).all(axis=1)
    return np.asarray(gyr_ok & acc_ok, dtype=bool)


def plausible_runs(columns: list[FloatArray]) -> list[tuple[int, int, bool]]:
    """The runs ``[lo, hi)`` of grid points, in order, where both IMUs are plausible or not.

    Parameters
    ----------
    columns : list of ndarray, each shape (n, 3)
        The columns of a :class:`JointAligner`'s ``pull``.

    Returns
    -------
    list of (int, int, bool)
        ``(lo, hi, plausible)`` for each non-empty run.
    """
    gyr_p, acc_p, gyr_d, acc_d = columns
    valid = plausible_imu(gyr_p, acc_p) & plausible_imu(gyr_d, acc_d)
    edges = np.flatnonzero(np.diff(valid.astype(np.int8))) + 1
    return [
        (int(lo), int(hi), bool(valid[lo]))
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, valid.size], strict=True)
        if hi > lo
    ]
