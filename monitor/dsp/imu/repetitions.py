"""Counting physical-therapy repetitions and grouping them into exercise sets.

A repetition is an excursion of the joint from its rest pose to an extreme and back.
The angle is low-passed (a voluntary repetition lasts seconds; a spasm jerk lasts a
fraction of one and is smoothed away), then a zig-zag turning-point detector with
hysteresis finds its extremes. A swing between turning points counts toward a set when
it is large enough (``min_amplitude_deg``) and neither too fast to be voluntary (walking
swings the knee in about half a second) nor too slow. A set ends at a long pause. Its
repetitions are its turning points on the far side of the rest pose it started from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
import numpy.typing as npt
from scipy import signal

from monitor.bounds import check_bounds

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RepetitionParams:
    """Tuning of the repetition counter.

    Attributes
    ----------
    min_amplitude_deg : float
        Smallest excursion that counts as a repetition, degrees (also the hysteresis of
        the turning-point detector).
    cutoff_hz : float
        Low-pass cutoff applied before counting, Hz.
    min_swing_s, max_swing_s : float
        Shortest and longest time a voluntary swing takes from halfway to its extreme,
        s (a 2 s repetition takes about 0.5 s; walking swings take under 0.35 s).
    max_pause_s : float
        A pause longer than this at a turning point ends a set, s.
    set_gap_s : float
        A set with no new turning point for this long is over, s.
    max_set_s : float
        Longest set whose range of motion is measured in full, s (bounds memory).
    min_reps : int
        Fewest repetitions that make a set; a lone swing is more often a step, a
        reach or a posture change than exercise.
    """

    min_amplitude_deg: float = 15.0
    cutoff_hz: float = 1.0
    min_swing_s: float = 0.45
    max_swing_s: float = 10.0
    max_pause_s: float = 2.5
    set_gap_s: float = 8.0
    max_set_s: float = 900.0
    min_reps: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.min_swing_s < self.max_swing_s:
            raise ValueError(
                f"need 0 < min_swing_s < max_swing_s, got {self.min_swing_s}, {self.max_swing_s}"
            )
        positive = ("min_amplitude_deg", "cutoff_hz", "max_pause_s", "set_gap_s", "max_set_s")
        check_bounds(self, positive, above=0, prefix="RepetitionParams.")


@dataclass(frozen=True, slots=True)
class ExerciseSetSummary:
    """One detected exercise set; indices are sample indices since the stream began.

    Attributes
    ----------
    start_index, end_index : int
        First and last sample of the set (the return of the last repetition is
        estimated as long as its way out).
    opened_index : int
        Sample at which the set was recognised (its first repetition's extreme was
        confirmed).
    reps : int
        Repetitions counted.
    min_deg, max_deg : float
        Extremes of the (unfiltered) joint angle over the set, degrees.
    """

    start_index: int
    end_index: int
    opened_index: int
    reps: int
    min_deg: float
    max_deg: float


@dataclass(slots=True)
class _TurningPoint:
    extreme_index: int
    leave_index: int
    value_deg: float
    confirm_index: int
    far: bool = False


@dataclass(slots=True)
class _OpenSet:
    start: _TurningPoint
    points: list[_TurningPoint] = field(default_factory=list)
    opened_index: int = 0


class RepetitionCounter:
    """Streaming repetition counter over a uniformly sampled joint angle.

    ``update`` over consecutive chunks returns, in total, exactly the sets that one
    call over their concatenation returns (and ``flush`` the set still open).

    Parameters
    ----------
    sample_rate_hz : float
        Rate of the angle samples, Hz.
    params : RepetitionParams, optional
    """

    def __init__(self, sample_rate_hz: float, params: RepetitionParams | None = None) -> None:
        if not sample_rate_hz > 2 * (params or RepetitionParams()).cutoff_hz:
            raise ValueError(f"sample_rate_hz must exceed twice the cutoff, got {sample_rate_hz}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.params = p = params or RepetitionParams()
        self._sos = signal.butter(2, p.cutoff_hz, fs=self.sample_rate_hz, output="sos")
        self._zi: FloatArray | None = None
        # Zig-zag state: direction, extreme value, extreme index, leave index, initialised,
        # running min value, min index, running max value, max index.
        self._zz = np.zeros(9)
        self._n_seen = 0
        ring_size = round((p.max_set_s + p.set_gap_s + 2 * p.max_swing_s) * sample_rate_hz)
        self._ring = np.full(ring_size, np.nan)
        self._smooth_ring = np.full(ring_size, np.nan)
        self._prev: _TurningPoint | None = None
        self._open: _OpenSet | None = None

    @property
    def open_set_index(self) -> int | None:
        """Sample at which the currently open set was recognised, if one is open."""
        return None if self._open is None else self._open.opened_index

    def update(self, angle_deg: npt.ArrayLike) -> list[ExerciseSetSummary]:
        """Count repetitions in the next angle samples (degrees, shape (n,))."""
        angle = np.asarray(angle_deg, dtype=np.float64)
        if angle.ndim != 1:
            raise ValueError(f"angle_deg must have shape (n,), got {angle.shape}")
        if angle.size == 0:
            return []
        if self._zi is None:
            self._zi = signal.sosfilt_zi(self._sos) * angle[0]
        smooth, self._zi = signal.sosfilt(self._sos, angle, zi=self._zi)
        first = self._n_seen
        self._store(self._ring, angle)
        self._store(self._smooth_ring, smooth)
        p = self.params
        h = p.min_amplitude_deg
        out = np.zeros((angle.size + 2, 5))
        count = _zigzag_kernel(smooth, first, h, 0.15 * h, self._zz, out)
        self._n_seen += angle.size
        done: list[ExerciseSetSummary] = []
        for row in out[:count]:
            point = _TurningPoint(int(row[0]), int(row[1]), float(row[2]), int(row[3]))
            self._close_if_timed_out(point.confirm_index, done)
            self._take(point, done)
        self._close_if_timed_out(self._n_seen, done)
        return done

    def flush(self) -> list[ExerciseSetSummary]:
        """Close and return the set still open at the end of the stream."""
        done: list[ExerciseSetSummary] = []
        if self._open is not None:
            self._close(done)
        return done

    # --- set grouping (once per turning point, so a Python loop is cheap) -------------

    def _take(self, point: _TurningPoint, done: list[ExerciseSetSummary]) -> None:
        p, rate = self.params, self.sample_rate_hz
        prev, self._prev = self._prev, point
        if prev is None:
            return
        halfway = self._halfway_index(prev, point)
        swing_s = (point.extreme_index - halfway) / rate
        # Leaving the previous extreme takes about as long as arriving at this one.
        pause_s = (halfway - prev.extreme_index) / rate - swing_s
        qualifies = (
            abs(point.value_deg - prev.value_deg) >= p.min_amplitude_deg
            and p.min_swing_s <= swing_s <= p.max_swing_s
        )
        if self._open is not None:
            last = self._open.points[-1] if self._open.points else self._open.start
            if qualifies and last is prev and pause_s <= p.max_pause_s:
                self._open.points.append(point)
                return
            self._close(done)
        if qualifies and not prev.far:
            self._open = _OpenSet(prev, [point], point.confirm_index)

    def _close_if_timed_out(self, index: int, done: list[ExerciseSetSummary]) -> None:
        if self._open is None:
            return
        last = self._open.points[-1]
        if index - last.confirm_index > self.params.set_gap_s * self.sample_rate_hz:
            self._close(done)

    def _close(self, done: list[ExerciseSetSummary]) -> None:
        assert self._open is not None
        open_set, self._open = self._open, None
        rest = open_set.start.value_deg
        reach = max(abs(pt.value_deg - rest) for pt in open_set.points)
        far = [pt for pt in open_set.points if abs(pt.value_deg - rest) >= 0.5 * reach]
        last = open_set.points[-1]
        before = open_set.points[-2] if len(open_set.points) > 1 else open_set.start
        first = open_set.points[0]
        start = max(
            open_set.start.extreme_index, 2 * self._halfway_index(open_set.start, first) - first.extreme_index
        )
        end = last.extreme_index
        if last.far:  # the way back is not seen as a turning point; assume it mirrors
            end += last.extreme_index - self._halfway_index(before, last)
        end = min(end, self._n_seen - 1)
        start = max(start, self._n_seen - len(self._ring), end - len(self._ring) + 1)
        span = self._ring[np.arange(start, end + 1) % len(self._ring)]
        if len(far) < self.params.min_reps:
            return
        for pt in far:  # a set's far extremes never start another set
            pt.far = True
        summary = ExerciseSetSummary(
            start_index=start,
            end_index=end,
            opened_index=open_set.opened_index,
            reps=len(far),
            min_deg=float(np.nanmin(span)),
            max_deg=float(np.nanmax(span)),
        )
        done.append(summary)

    def _halfway_index(self, prev: _TurningPoint, point: _TurningPoint) -> int:
        """Last sample before ``point``'s extreme still on ``prev``'s side of halfway."""
        lookback = min(
            point.extreme_index - prev.extreme_index,
            round(2 * self.params.max_swing_s * self.sample_rate_hz),
        )
        idx = np.arange(point.extreme_index - lookback, point.extreme_index + 1)
        smooth = self._smooth_ring[idx % len(self._smooth_ring)]
        direction = np.sign(point.value_deg - prev.value_deg)
        midpoint = 0.5 * (point.value_deg + prev.value_deg)
        before = np.flatnonzero(direction * (smooth - midpoint) <= 0)
        return int(idx[before[-1]]) if before.size else int(idx[0])

    def _store(self, ring: FloatArray, values: FloatArray) -> None:
        size = len(ring)
        tail = values[-size:]
        idx = np.arange(self._n_seen + values.size - tail.size, self._n_seen + values.size) % size
        ring[idx] = tail


def count_repetitions(
    angle_deg: npt.ArrayLike, sample_rate_hz: float, params: RepetitionParams | None = None
) -> list[ExerciseSetSummary]:
    """Exercise sets and their repetition counts in a joint-angle recording.

    Parameters
    ----------
    angle_deg : array_like, shape (n,)
        Joint angle, degrees, uniformly sampled.
    sample_rate_hz : float
        Its rate, Hz.
    params : RepetitionParams, optional

    Returns
    -------
    list of ExerciseSetSummary
        In time order.
    """
    counter = RepetitionCounter(sample_rate_hz, params)
    return counter.update(angle_deg) + counter.flush()


@numba.njit(cache=True, nogil=True)
def _zigzag_kernel(
    x: FloatArray, first: int, h: float, tol: float, st: FloatArray, out: FloatArray
) -> int:  # pragma: no cover - compiled
    """Turning points with hysteresis ``h``: rows (extreme, leave, value, confirm, kind).

    ``leave`` is the last sample still within ``tol`` of the extreme, so a pause at a
    turning point does not count as part of the next swing.
    """
    count = 0
    for i in range(x.shape[0]):
        g = first + i
        v = x[i]
        if st[4] == 0.0:
            st[0] = 0.0
            st[5], st[6], st[7], st[8] = v, g, v, g
            st[4] = 1.0
            continue
        if st[0] == 0.0:
            if v < st[5]:
                st[5], st[6] = v, g
            if v > st[7]:
                st[7], st[8] = v, g
            if v - st[5] >= h:
                st[0], st[1], st[2], st[3] = 1.0, st[5], st[6], st[6]
                # The starting minimum becomes the first turning point.
                out[count, 0], out[count, 1], out[count, 2] = st[6], st[6], st[5]
                out[count, 3], out[count, 4] = g, -1.0
                count += 1
                st[1], st[2], st[3] = v, g, g
            elif st[7] - v >= h:
                out[count, 0], out[count, 1], out[count, 2] = st[8], st[8], st[7]
                out[count, 3], out[count, 4] = g, 1.0
                count += 1
                st[0], st[1], st[2], st[3] = -1.0, v, g, g
            continue
        d = st[0]
        if d * (v - st[1]) >= 0.0:
            st[1], st[2], st[3] = v, g, g
        elif d * (st[1] - v) <= tol:
            st[3] = g
        if d * (st[1] - v) >= h:
            out[count, 0], out[count, 1], out[count, 2] = st[2], st[3], st[1]
            out[count, 3], out[count, 4] = g, d
            count += 1
            st[0], st[1], st[2], st[3] = -d, v, g, g
    return count
