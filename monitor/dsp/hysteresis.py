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

    def items(self) -> list[tuple[int, int, bool]]:
        """The runs as Python ``(start, stop, hit)`` tuples, cheaper to loop over."""
        return list(zip(self.start.tolist(), self.stop.tolist(), self.hit.tolist(), strict=True))


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


def _first_from(indices: npt.NDArray[np.intp], i: int) -> int | None:
    """The first of the sorted ``indices`` at or after ``i``, or None."""
    k = int(np.searchsorted(indices, i))
    return int(indices[k]) if k < indices.size else None


def _first_not_above(values: npt.NDArray[np.floating], lo: int, hi: int, level: float) -> int:
    """First index in ``[lo, hi)`` where ``values`` is not above ``level`` (NaN is not), else
    ``hi``. Looks in growing spans: a burst mostly ends within a few dozen samples of where
    the search starts, and the chunk after it may be long."""
    span = 64
    while lo < hi:
        end = min(hi, lo + span)
        below = np.flatnonzero(~(values[lo:end] > level))
        if below.size:
            return lo + int(below[0])
        lo, span = end, span * 4
    return hi


class ReferenceHysteresis:
    """Hysteresis whose reference level is frozen from a spasm's onset to its end.

    A run starts where the envelope exceeds ``on_x`` times the resting floor in force.
    From that sample the floor measured just before the rise becomes the run's
    *reference*, and the run lasts while the envelope stays above ``off_x`` times it, so
    a plateau held for a minute is one run however the floor estimate would have moved.
    After a run the reference stays frozen for ``hold`` samples: a weaker beat above
    ``off_x`` in that time is a run that does not reach ``on_x`` (``hit`` False), which
    may continue a spasm but never start one. A slow drift of the floor starts nothing:
    the floor follows it, and the envelope never stands ``on_x`` above it.

    Parameters
    ----------
    on_x, off_x : float
        Thresholds as multiples of the floor (``on_x >= off_x > 1``).
    hold : int
        Samples the reference stays frozen after a run ends.
    max_length : int
        A reference stays frozen at most this long after the onset that froze it (runs
        are cut there); it is then measured afresh, so a level held longer than any spasm
        (an electrode that changed) becomes the new rest.

    A run starts only from rest: after the floor becomes known (a stream's start, after a
    flat line) and after a run cut at ``max_length``, the envelope must first be back
    below ``off_x`` times the floor. Activity already under way when the floor became
    known is seen from its middle, neither timed nor judged right, and is not reported
    (as a recording that starts inside a contraction).

    A reference frozen from a *provisional* floor (read from a window not yet full) is
    measured again at the first run that starts in the hold once the floor is whole,
    unless the floor has meanwhile taken up the spasm (reached ``on_x`` times the
    reference): otherwise a chain of blips from a stream's first second would keep a
    reference from before the floor was known.
    """

    def __init__(self, on_x: float, off_x: float, hold: int, max_length: int) -> None:
        self.on_x = on_x
        self.off_x = off_x
        self.hold = hold
        self.max_length = max_length
        self.reference = np.nan
        self.open_start: int | None = None
        self.open_hit = False
        self._release_at = -1  # absolute index from which the reference is free again
        self._frozen_at = -1  # onset that froze the reference
        self._provisional = False  # the reference was read from a partial window
        self._armed = False  # seen at rest since the floor became known

    def process(
        self,
        envelope: npt.NDArray[np.floating],
        floor: npt.NDArray[np.floating],
        provisional: npt.NDArray[np.bool_],
        offset: int,
    ) -> tuple[Runs, npt.NDArray[np.float64]]:
        """Consume one chunk of one channel (all shape (m,)), whose first sample has
        absolute index ``offset``; ``provisional`` marks floors read from a partial window.

        Returns the runs closed in it and the level in force at each of its samples (the
        frozen reference during and just after a run, the floor elsewhere).
        """
        m = envelope.size
        level = floor.astype(np.float64, copy=True)
        # Where a run may start (above *on*, or the floor unknown) and, once needed, where
        # the envelope is at rest: found once for the chunk, not again after each run.
        known = np.isfinite(floor)
        start_points = np.flatnonzero((envelope > self.on_x * floor) | ~known)
        rest_points: npt.NDArray[np.intp] | None = None
        starts: list[int] = []
        stops: list[int] = []
        hits: list[bool] = []
        i = 0
        while i < m:
            if self.open_start is not None:
                ref = self.reference
                limit = min(m, self._frozen_at + self.max_length - offset)
                stop = _first_not_above(envelope, i, limit, self.off_x * ref)
                level[i:stop] = ref
                if not self.open_hit:  # a run that began in the hold, below *on*
                    self.open_hit = bool(np.any(envelope[i:stop] > self.on_x * ref))
                cut = stop >= limit  # never fell below *off* before max_length
                if cut and limit == m:
                    return self._runs(starts, stops, hits), level
                starts.append(self.open_start)
                stops.append(offset + stop)
                hits.append(self.open_hit)
                self.open_start = None
                self.open_hit = False
                self._release_at = offset + stop if cut else offset + stop + self.hold
                if cut:
                    self.reference = np.nan
                    self._armed = False
                i = stop
                continue
            if offset + i < self._release_at:
                ref = self.reference
                release_at = min(self._release_at, self._frozen_at + self.max_length)
                until = min(m, release_at - offset)
                level[i:until] = ref
                above = np.flatnonzero(envelope[i:until] > self.off_x * ref)
                if above.size:
                    i += int(above[0])
                    self.open_start = offset + i
                    if self._provisional and not provisional[i] and floor[i] < self.on_x * ref:
                        self.reference = float(floor[i])
                        self._provisional = False
                    continue
                i = until
                if offset + i >= release_at:
                    self.reference = np.nan
                    self._release_at = -1
                continue
            if not self._armed:
                if rest_points is None:
                    rest_points = np.flatnonzero(known & (envelope <= self.off_x * floor))
                at_rest = _first_from(rest_points, i)
                if at_rest is None:
                    break
                i = at_rest
                self._armed = True
                continue
            rise = _first_from(start_points, i)
            if rise is None:
                break
            i = rise
            if not known[i]:
                self._armed = False
                continue
            self.reference = float(floor[i])
            self._provisional = bool(provisional[i])
            self.open_start = self._frozen_at = offset + i
            self.open_hit = True
        return self._runs(starts, stops, hits), level

    def close(self, position: int) -> Runs:
        """End of stream: close the open run at absolute index ``position``."""
        if self.open_start is None:
            return NO_RUNS
        runs = self._runs([self.open_start], [position], [self.open_hit])
        self.open_start = None
        self.open_hit = False
        self.reference = np.nan
        self._release_at = -1
        self._armed = False
        return runs

    @staticmethod
    def _runs(starts: list[int], stops: list[int], hits: list[bool]) -> Runs:
        if not starts:
            return NO_RUNS
        return Runs(np.array(starts, np.int64), np.array(stops, np.int64), np.array(hits, bool))
