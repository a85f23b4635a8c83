"""A columnar batch of one numeric series, and its line protocol built in one formatting call.

High-rate feature series (envelope RMS, joint angle) arrive as arrays. Rendering them
through one ``%`` format over the whole batch keeps the per-sample work in C: there is
no Python loop, and no Point object, per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from monitor.store.line_protocol import escape_key, field_set, series_key


@dataclass(frozen=True, slots=True, eq=False)
class NumericSeries:
    """Points of one measurement and tag set, stored by column.

    Parameters
    ----------
    measurement : str
        Measurement name, e.g. ``"emg_envelope"``.
    time_ns : ndarray of int64, shape (n,)
        UTC time of each point, ns since the Unix epoch.
    fields : dict of str to ndarray, each shape (n,)
        Field columns, named with their unit (``rms_mv``). Float columns may hold NaN
        where a value is missing; integer columns are written with the ``i`` suffix.
    tags : dict of str to str
        The tag set shared by every point (low cardinality).

    Examples
    --------
    >>> s = NumericSeries("emg_envelope", np.array([1, 2]), {"rms_mv": np.array([0.5, 0.25])})
    >>> s.render()[1]
    ['rms_mv=0.5', 'rms_mv=0.25']
    """

    measurement: str
    time_ns: npt.NDArray[np.int64]
    fields: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]]
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.time_ns.shape[0] if self.time_ns.ndim == 1 else -1
        if n < 0 or not np.issubdtype(self.time_ns.dtype, np.integer):
            raise ValueError(
                f"time_ns must be a 1-D integer array, got {self.time_ns.dtype}{self.time_ns.shape}"
            )
        if not self.fields:
            raise ValueError("a NumericSeries needs at least one field")
        if "time" in self.fields:
            raise ValueError("field key 'time' is rejected by InfluxDB")
        for name, column in self.fields.items():
            if column.shape != (n,):
                raise ValueError(f"field {name!r} has shape {column.shape}, time_ns has ({n},)")
            if not (np.issubdtype(column.dtype, np.floating) or np.issubdtype(column.dtype, np.integer)):
                raise ValueError(f"field {name!r} has dtype {column.dtype}; only float and int are numeric")

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    def render(self) -> tuple[str, list[str], npt.NDArray[np.int64]]:
        """Series key, per-point field sets and times; points with no finite field are left out."""
        series = series_key(self.measurement, self.tags)
        names = list(self.fields)
        columns = [self.fields[k] for k in names]
        is_float = [np.issubdtype(c.dtype, np.floating) for c in columns]
        template = ",".join(
            f"{escape_key(k, 'field key')}={'%r' if f else '%di'}"
            for k, f in zip(names, is_float, strict=True)
        )
        finite = np.ones(len(self), dtype=bool)
        for column, f in zip(columns, is_float, strict=True):
            if f:
                finite &= np.isfinite(column)
        times = np.asarray(self.time_ns, dtype=np.int64)
        if finite.all():
            return series, _format_rows(template, columns, len(self)), times
        # Rows with a missing value drop that field only: the rare slow path, row by row.
        fields: list[str] = []
        keep = np.zeros(len(self), dtype=bool)
        fast = _format_rows(template, [c[finite] for c in columns], int(finite.sum()))
        fast_iter = iter(fast)
        for i in range(len(self)):
            if finite[i]:
                fields.append(next(fast_iter))
                keep[i] = True
                continue
            row = field_set({k: c[i].item() for k, c in zip(names, columns, strict=True)})
            if row:
                fields.append(row)
                keep[i] = True
        return series, fields, times[keep]


def _format_rows(template: str, columns: Sequence[npt.NDArray[np.generic]], n: int) -> list[str]:
    if n == 0:
        return []
    # .tolist() gives Python floats/ints, whose %r is the shortest exact decimal.
    if len({c.dtype.kind for c in columns}) == 1:
        values = np.column_stack(columns).ravel().tolist()
    else:  # mixed int and float columns must not be cast to one dtype
        values = [v for row in zip(*(c.tolist() for c in columns), strict=True) for v in row]
    text: str = ((template + "\n") * n) % tuple(values)
    return text.split("\n")[:-1]
