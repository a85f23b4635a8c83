"""Range of motion per window, per exercise set, per hour and per day, with rep counts.

Records are measurement ``rom`` with tags ``joint`` and ``period`` (``window``, ``set``,
``hour`` or ``day``) and fields ``min_deg``, ``max_deg``, ``range_deg`` and ``reps``;
windows, hours and days are aligned to UTC multiples of their length and stamped at
their start, sets at their first repetition. A set's repetitions count in the window,
hour and day in which the set was recognised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu.joints import joint_spec
from monitor.dsp.imu.repetitions import ExerciseSetSummary, RepetitionCounter, RepetitionParams
from monitor.store.schema import ROM
from monitor.types import NS_PER_S, FieldValue, Record

FloatArray = npt.NDArray[np.float64]

_HOUR_NS = 3600 * NS_PER_S
_DAY_NS = 24 * _HOUR_NS
_PERIOD_RANK = {"day": 0, "hour": 1, "window": 2, "set": 3}


def range_of_motion(
    angle_deg: npt.ArrayLike,
    sample_rate_hz: float,
    t0_ns: int = 0,
    window_s: float = 60.0,
    *,
    joint: str = "knee",
    tags: dict[str, str] | None = None,
    params: RepetitionParams | None = None,
) -> list[Record]:
    """Range of motion and repetition counts of a joint-angle recording.

    Parameters
    ----------
    angle_deg : array_like, shape (n,)
        Joint angle, degrees, uniformly sampled (NaN marks missing samples).
    sample_rate_hz : float
        Its rate, Hz.
    t0_ns : int
        UTC time of the first sample, ns.
    window_s : float
        Length of the fixed windows, s; must divide an hour.
    joint : {"knee", "elbow", "ankle"}
        Joint, for the ``joint`` tag.
    tags : dict, optional
        Further low-cardinality tags (side, location, patient).
    params : RepetitionParams, optional
        Tuning of the repetition counter.

    Returns
    -------
    list of Record
        ``rom`` records sorted by time, then day, hour, window, set.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 120, 0.1)
    >>> angle = 5 + 20 * (1 - np.cos(2 * np.pi * t / 4)) * (t < 40)
    >>> sets = [r for r in range_of_motion(angle, 10.0) if r.tags["period"] == "set"]
    >>> sets[0].fields["reps"]
    10
    """
    processor = RomProcessor(sample_rate_hz, t0_ns, window_s, joint=joint, tags=tags, params=params)
    records = processor.update(angle_deg) + processor.flush()
    return sorted(records, key=lambda r: (r.time_ns, _PERIOD_RANK[r.tags["period"]]))


class RomProcessor:
    """Streaming range of motion over a joint angle sampled on a uniform grid.

    Sample ``k`` (counted from the first ever passed to ``update``) is at
    ``t0_ns + round(k * 1e9 / sample_rate_hz)``. Any chunking yields the same records;
    memory is bounded by the longest set (``RepetitionParams.max_set_s``).
    """

    def __init__(
        self,
        sample_rate_hz: float,
        t0_ns: int = 0,
        window_s: float = 60.0,
        *,
        joint: str = "knee",
        tags: dict[str, str] | None = None,
        params: RepetitionParams | None = None,
    ) -> None:
        joint_spec(joint)
        if not sample_rate_hz > 0:
            raise ValueError(f"sample_rate_hz must be > 0, got {sample_rate_hz}")
        window_ns = round(window_s * NS_PER_S)
        if not window_s > 0 or _HOUR_NS % window_ns:
            raise ValueError(f"window_s must be > 0 and divide an hour, got {window_s}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.t0_ns = int(t0_ns)
        self._tags = {"joint": joint} | (tags or {})
        self._periods = {"window": window_ns, "hour": _HOUR_NS, "day": _DAY_NS}
        self._pending: dict[str, dict[int, list[float]]] = {k: {} for k in self._periods}
        self._counter = RepetitionCounter(sample_rate_hz, params)
        self._n_seen = 0
        self._last_angle = 0.0

    def time_ns(self, index: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """UTC time of grid samples ``index``, ns."""
        k = np.asarray(index, dtype=np.int64)
        return self.t0_ns + np.round(k * (NS_PER_S / self.sample_rate_hz)).astype(np.int64)

    def update(self, angle_deg: npt.ArrayLike) -> list[Record]:
        """Take the next angle samples (degrees, shape (n,)); return finished records."""
        angle = np.asarray(angle_deg, dtype=np.float64)
        if angle.ndim != 1:
            raise ValueError(f"angle_deg must have shape (n,), got {angle.shape}")
        if angle.size == 0:
            return []
        times = self.time_ns(np.arange(self._n_seen, self._n_seen + angle.size))
        self._n_seen += angle.size
        for name, period_ns in self._periods.items():
            self._accumulate(self._pending[name], times // period_ns, angle)
        filled = np.where(np.isnan(angle), _last_finite(angle, self._last_angle), angle)
        self._last_angle = float(filled[-1]) if np.isfinite(filled[-1]) else self._last_angle
        records = [self._set_record(s) for s in self._counter.update(filled)]
        return records + self._emit(int(times[-1]), final=False)

    def flush(self) -> list[Record]:
        """Close the open set and every pending period."""
        records = [self._set_record(s) for s in self._counter.flush()]
        return records + self._emit(0, final=True)

    def _accumulate(
        self, pending: dict[int, list[float]], period: npt.NDArray[np.int64], angle: FloatArray
    ) -> None:
        starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
        lows = np.fmin.reduceat(angle, starts)
        highs = np.fmax.reduceat(angle, starts)
        counts = np.add.reduceat(np.isfinite(angle).astype(np.int64), starts)
        for p, low, high, n in zip(period[starts], lows, highs, counts, strict=True):
            agg = pending.setdefault(int(p), [np.nan, np.nan, 0.0, 0.0])
            agg[0] = float(np.fmin(agg[0], low))
            agg[1] = float(np.fmax(agg[1], high))
            agg[2] += float(n)

    def _set_record(self, s: ExerciseSetSummary) -> Record:
        opened_ns = int(self.time_ns(s.opened_index))
        for name, period_ns in self._periods.items():
            agg = self._pending[name].setdefault(opened_ns // period_ns, [np.nan, np.nan, 0.0, 0.0])
            agg[3] += s.reps
        start_ns, end_ns = (int(t) for t in self.time_ns([s.start_index, s.end_index]))
        fields: dict[str, FieldValue] = {
            "min_deg": s.min_deg,
            "max_deg": s.max_deg,
            "range_deg": s.max_deg - s.min_deg,
            "reps": s.reps,
            "duration_s": (end_ns - start_ns) / NS_PER_S,
        }
        return Record(ROM, start_ns, fields, self._tags | {"period": "set"})

    def _emit(self, now_ns: int, final: bool) -> list[Record]:
        open_index = self._counter.open_set_index
        records = []
        for name, period_ns in self._periods.items():
            limit = now_ns // period_ns
            if open_index is not None:
                limit = min(limit, int(self.time_ns(open_index)) // period_ns)
            pending = self._pending[name]
            for p in sorted(pending):
                if not final and p >= limit:
                    break
                low, high, n, reps = pending.pop(p)
                if n == 0:
                    continue
                fields: dict[str, FieldValue] = {
                    "min_deg": low,
                    "max_deg": high,
                    "range_deg": high - low,
                    "reps": int(reps),
                    "samples": int(n),
                }
                records.append(Record(ROM, p * period_ns, fields, self._tags | {"period": name}))
        return records


def _last_finite(angle: FloatArray, before: float) -> FloatArray:
    """Each sample's most recent finite value (``before`` if none yet); holds the
    counter's input steady across missing samples rather than inventing motion."""
    index = np.where(np.isfinite(angle), np.arange(angle.size), -1)
    np.maximum.accumulate(index, out=index)
    return np.where(index >= 0, angle[np.maximum(index, 0)], before)
