"""Runs of a boolean mask over a stream, with the open run carried between chunks.

Used for hysteresis detection (runs above the *off* threshold that reach the *on*
threshold) and for signal-quality intervals. Everything is vectorized with
``numpy.diff`` over run edges; only the run at a chunk's end is carried.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Runs:
    """Completed runs: ``start[i] <= index < stop[i]`` in absolute sample indices.

    ``hit[i]`` says whether the secondary mask was true anywhere in the run.
    """

    start: IntArray
    stop: IntArray
    hit: BoolArray


class RunTracker:
    """Finds runs of True in one channel's mask, chunk by chunk.

    Parameters
    ----------
    max_length : int or None
        Runs longer than this are cut into pieces of ``max_length`` samples, each counted
        as hit, so that a mask that never falls still yields bounded runs. Cut points lie
        at whole multiples of ``max_length`` from the run start, whatever the chunking.
    """

    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length
        self.position = 0
        self.open_start: int | None = None
        self.open_hit = False

    def process(self, mask: BoolArray, offset: int, secondary: BoolArray | None = None) -> Runs:
        """Consume ``mask`` (shape (m,)), whose first sample has absolute index ``offset``;
        return the runs that closed inside it.

        ``secondary`` (shape (m,)) marks samples that make a run "hit" (for hysteresis:
        above the *on* threshold). Chunks must be consecutive; a chunk with no True and
        no open run may be skipped.
        """
        m = mask.size
        self.position = offset + m
        if m == 0 or (self.open_start is None and not mask.any()):
            return NO_RUNS
        was_open = self.open_start is not None
        padded = np.empty(m + 1, dtype=np.int8)
        padded[0] = was_open
        padded[1:] = mask
        edges = np.diff(padded)
        starts = np.flatnonzero(edges == 1)
        stops = np.flatnonzero(edges == -1)
        if was_open:
            assert self.open_start is not None
            starts = np.concatenate([[self.open_start - offset], starts])
        open_at_end = bool(mask[-1])
        ends = np.concatenate([stops, [m]]) if open_at_end else stops
        sec = mask if secondary is None else secondary & mask
        cumulative = np.concatenate([[0], np.cumsum(sec, dtype=np.int64)])
        hits = cumulative[ends] > cumulative[np.maximum(starts, 0)]
        if was_open:
            hits[0] |= self.open_hit
        if open_at_end:
            self.open_start = int(starts[-1] + offset)
            self.open_hit = bool(hits[-1])
        else:
            self.open_start = None
            self.open_hit = False
        closed = stops.size
        runs = Runs(starts[:closed] + offset, stops + offset, hits[:closed])
        return self._cut(runs)

    def close(self, position: int) -> Runs:
        """End of stream: close the open run at absolute index ``position``."""
        self.position = position
        if self.open_start is None:
            return NO_RUNS
        runs = Runs(
            np.array([self.open_start], np.int64),
            np.array([self.position], np.int64),
            np.array([self.open_hit]),
        )
        self.open_start = None
        self.open_hit = False
        return self._cut(runs)

    def _cut(self, runs: Runs) -> Runs:
        limit = self.max_length
        if limit is None:
            return runs
        pieces: list[tuple[int, int, bool]] = []
        for a, b, h in zip(runs.start.tolist(), runs.stop.tolist(), runs.hit.tolist(), strict=True):
            if b - a <= limit:
                pieces.append((a, b, h))
            else:
                pieces.extend((s, min(s + limit, b), True) for s in range(a, b, limit))
        if self.open_start is not None and self.position - self.open_start > limit:
            whole = (self.position - self.open_start - 1) // limit
            for k in range(whole):
                s = self.open_start + k * limit
                pieces.append((s, s + limit, True))
            self.open_start += whole * limit
            self.open_hit = True
        if not pieces:
            return NO_RUNS
        start, stop, hit = zip(*pieces, strict=True)
        return Runs(np.array(start, np.int64), np.array(stop, np.int64), np.array(hit, bool))


NO_RUNS = Runs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
