"""Aligning IMU streams that arrive at different or jittery rates onto one time grid.

Each stream's samples carry their UTC times (from the collector's clock fit). Grid
point ``k`` is at ``origin_ns + round(k * 1e9 / sample_rate_hz)``, the origin being the
first sample of the reference stream. A grid point takes, from every stream, the linear
interpolation between the two samples around it, but only if they are at most
``max_gap_s`` apart; otherwise the point is missing (NaN) and never interpolated across.
A grid point is output once every stream has a sample at or after it, so the result
does not depend on how the streams were chunked into frames.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.types import NS_PER_S

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class StreamAligner:
    """Resample several streams of 3-axis samples onto a common uniform grid.

    Parameters
    ----------
    n_streams : int
        Number of streams; stream 0 is the reference whose first sample fixes the grid.
    sample_rate_hz : float
        Grid rate, Hz.
    max_gap_s : float
        Longest spacing between two samples of a stream that is still interpolated
        across, s (default: three nominal periods).
    """

    def __init__(self, n_streams: int, sample_rate_hz: float, max_gap_s: float | None = None):
        if n_streams < 1:
            raise ValueError(f"n_streams must be >= 1, got {n_streams}")
        if not sample_rate_hz > 0:
            raise ValueError(f"sample_rate_hz must be > 0, got {sample_rate_hz}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.max_gap_ns = round((max_gap_s or 3.0 / sample_rate_hz) * NS_PER_S)
        self.origin_ns: int | None = None
        self._times: list[IntArray] = [np.empty(0, np.int64) for _ in range(n_streams)]
        self._values: list[FloatArray] = [np.empty((0, 3)) for _ in range(n_streams)]
        self._next_k = 0

    def grid_time_ns(self, k: npt.ArrayLike) -> IntArray:
        """UTC time of grid points ``k``, ns."""
        if self.origin_ns is None:
            raise ValueError("the grid has no origin until the reference stream has data")
        kk = np.asarray(k, dtype=np.int64)
        return self.origin_ns + np.round(kk * (NS_PER_S / self.sample_rate_hz)).astype(np.int64)

    def push(self, stream: int, times_ns: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Add samples of one stream (times strictly increasing after earlier ones)."""
        t = np.asarray(times_ns, dtype=np.int64)
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != 3 or t.shape != (v.shape[0],):
            raise ValueError(f"expected times (n,) and values (n, 3), got {t.shape}, {v.shape}")
        if t.size == 0:
            return
        if stream == 0 and self.origin_ns is None:
            self.origin_ns = int(t[0])
        self._times[stream] = np.concatenate([self._times[stream], t])
        self._values[stream] = np.concatenate([self._values[stream], v])

    def pull(self, final: bool = False) -> tuple[int, list[FloatArray]]:
        """Grid points ready so far: (index of the first, one (m, 3) array per stream).

        With ``final``, also the points after the last sample of a stream that ended
        (they come out missing for that stream) up to the reference stream's last sample.
        """
        first = self._next_k
        if self.origin_ns is None or any(t.size == 0 for t in self._times):
            return first, [np.empty((0, 3)) for _ in self._times]
        horizon = min(int(t[-1]) for t in self._times)
        if final:
            horizon = int(self._times[0][-1])
        span = (horizon - self.origin_ns) * self.sample_rate_hz / NS_PER_S
        last_k = int(np.floor(span + 1e-9))
        while last_k >= 0 and int(self.grid_time_ns(last_k)) > horizon:
            last_k -= 1
        ks = np.arange(first, last_k + 1)
        grid = self.grid_time_ns(ks)
        out = [self._interpolate(i, grid) for i in range(len(self._times))]
        self._next_k = max(first, last_k + 1)
        if grid.size:
            self._drop_before(int(grid[-1]))
        return first, out

    def _interpolate(self, stream: int, grid: IntArray) -> FloatArray:
        t, v = self._times[stream], self._values[stream]
        out = np.full((grid.size, 3), np.nan)
        if grid.size == 0 or t.size == 0:
            return out
        right = np.searchsorted(t, grid, side="left")
        exact = (right < t.size) & (t[np.minimum(right, t.size - 1)] == grid)
        out[exact] = v[right[exact]]
        inside = ~exact & (right > 0) & (right < t.size)
        r = right[inside]
        gap = t[r] - t[r - 1]
        ok = gap <= self.max_gap_ns
        rows = np.flatnonzero(inside)[ok]
        r = r[ok]
        w = ((grid[rows] - t[r - 1]) / (t[r] - t[r - 1]))[:, None]
        out[rows] = v[r - 1] + w * (v[r] - v[r - 1])
        return out

    def _drop_before(self, time_ns: int) -> None:
        # Keep the last sample at or before the newest grid point: it brackets the next.
        for i, t in enumerate(self._times):
            keep = max(int(np.searchsorted(t, time_ns, side="right")) - 1, 0)
            self._times[i] = t[keep:]
            self._values[i] = self._values[i][keep:]
