"""Per-sample quantities of one stream summed over UTC-aligned windows (minutes, by default).

The summaries the store keeps per minute (``coverage``, ``movement``) are cut on the
samples' own UTC times, never on arrival, so any chunking of a stream gives the same
windows. A window closes when a sample of a later window arrives, or at :meth:`flush`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from monitor.types import NS_PER_S, Frame

FloatArray = npt.NDArray[np.float64]
INT64_MAX = np.iinfo(np.int64).max  # ns since the epoch: year 2262


@dataclass
class ClosedWindow:
    """One finished window: its start, its samples, the time they span, and the sums asked for.

    ``covered_s`` adds each sample's period, so a window whose stream changed rate half-way
    (a renegotiated connection) still says how long it was covered.
    """

    start_ns: int
    samples: int = 0
    covered_s: float = 0.0
    sums: dict[str, float] = field(default_factory=dict)


class UtcWindows:
    """Sums over UTC windows of ``window_s`` for the frames of one stream.

    Parameters
    ----------
    window_s : float
        Window length, s; windows start at UTC multiples of it.
    quantities : tuple of str
        Names of the per-sample values :meth:`add` sums (besides the sample count).

    Examples
    --------
    >>> from monitor.types import SensorKind, StreamId
    >>> windows = UtcWindows(60.0)
    >>> frame = Frame(StreamId("F1", "emg"), SensorKind.EMG, 10.0, 50 * NS_PER_S, 0, 0, np.zeros((200, 1)))
    >>> [(w.start_ns // NS_PER_S, w.covered_s) for w in windows.add(frame) + windows.flush()]
    [(0, 10.0), (60, 10.0)]
    """

    def __init__(self, window_s: float, quantities: tuple[str, ...] = ()) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0, got {window_s}")
        self.window_ns = round(window_s * NS_PER_S)
        self.quantities = quantities
        self._open: dict[int, ClosedWindow] = {}  # window index -> running sums

    def add(self, frame: Frame, values: Mapping[str, FloatArray] | None = None) -> list[ClosedWindow]:
        """Count one frame's samples (and sum ``values``, shape (n,) each); return closed windows."""
        values = values or {}
        if set(values) != set(self.quantities):
            raise ValueError(f"expected values for {self.quantities}, got {tuple(values)}")
        if frame.n_samples == 0:
            return []
        steps_ns = np.round(np.arange(frame.n_samples) * (NS_PER_S / frame.sample_rate_hz)).astype(np.int64)
        # Sample times must be int64 ns (numpy would raise OverflowError, or wrap silently).
        if not -INT64_MAX <= frame.t0_ns <= INT64_MAX - int(steps_ns[-1]):
            raise ValueError(f"frame of {frame.stream} starts at {frame.t0_ns} ns, outside int64 UTC ns")
        index = (frame.t0_ns + steps_ns) // self.window_ns
        first = int(index[0])
        offsets = index - first
        counts = np.bincount(offsets)
        sums = {name: np.bincount(offsets, weights=values[name]) for name in self.quantities}
        for offset in np.flatnonzero(counts):
            key = first + int(offset)
            window = self._open.get(key)
            if window is None:
                window = self._open[key] = ClosedWindow(key * self.window_ns)
                window.sums = dict.fromkeys(self.quantities, 0.0)
            window.samples += int(counts[offset])
            window.covered_s += int(counts[offset]) / frame.sample_rate_hz
            for name in self.quantities:
                window.sums[name] += float(sums[name][offset])
        latest = max(self._open)
        return self._close([key for key in self._open if key < latest])

    def flush(self) -> list[ClosedWindow]:
        """End of stream: every window still open, as far as it was covered."""
        return self._close(list(self._open))

    def _close(self, keys: list[int]) -> list[ClosedWindow]:
        return [self._open.pop(key) for key in sorted(keys)]


__all__ = ["ClosedWindow", "UtcWindows"]
