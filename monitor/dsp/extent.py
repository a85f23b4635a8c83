"""A spasm's extent: where its activity stands against its own peak, not only the floor.

The hysteresis opens an event where the envelope leaves the resting floor and closes it
where the envelope returns there. Around a strong burst (100× the floor and more) a real
muscle also shows weak activity that is not the spasm: the postural tone before a
movement, a slow relaxation afterwards, heartbeats in the merge gap. Read against the
floor alone, that activity stretches a one-second burst to three or more seconds.

So an event is cut to its *core*: the runs of the smoothed envelope at or above
``share_of_peak`` of its peak, chained from the peak's run outwards across gaps a spasm
makes (clonic beats, up to one period of the slowest clonus apart; a longer burst up to
the merge gap away), plus the time a spasm's rise and decay take to cross from rest to
that share. Below ``1 / share_of_peak`` times the floor the core's level falls under the
hysteresis' own edge and nothing is cut, so weak and moderate spasms keep the extent the
floor gives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True, slots=True)
class CoreRule:
    """How far a spasm's core reaches, in envelope samples.

    Attributes
    ----------
    share_of_peak : float
        Level of the core as a share of the event's peak smoothed envelope.
    clonic_gap : int
        Any run within this gap of the core joins it (clonic beats).
    merge_gap : int
        A run longer than ``min_long`` within this gap joins the core (a second burst).
    min_long : int
        A run at least this long is a burst, not a blip (a heartbeat's QRS is shorter).
    lead, lag : int
        Samples kept before the core's first and after its last sample: the time a rise
        or a decay takes to cross from rest to ``share_of_peak``.
    """

    share_of_peak: float
    clonic_gap: int
    merge_gap: int
    min_long: int
    lead: int
    lag: int


def core_extent(smooth: FloatArray, rule: CoreRule) -> tuple[int, int]:
    """Return ``(start, stop)`` of the core within ``smooth``, indices into it.

    Parameters
    ----------
    smooth : ndarray, shape (n,)
        The event's smoothed envelope, n >= 1.
    rule : CoreRule

    Returns
    -------
    start, stop : int
        ``0 <= start < stop <= n``; ``(0, n)`` when nothing lies outside the core.
    """
    n = smooth.shape[0]
    above = np.concatenate(([False], smooth >= rule.share_of_peak * smooth.max(), [False]))
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]
    peak_run = int(np.searchsorted(stops, int(np.argmax(smooth)), side="right"))
    first = last = peak_run
    while first > 0 and _joins(starts, stops, first - 1, stops[first - 1], starts[first], rule):
        first -= 1
    while last < len(starts) - 1 and _joins(starts, stops, last + 1, stops[last], starts[last + 1], rule):
        last += 1
    return max(0, int(starts[first]) - rule.lead), min(n, int(stops[last]) + rule.lag)


def _joins(
    starts: npt.NDArray[np.intp],
    stops: npt.NDArray[np.intp],
    run: int,
    gap_from: int,
    gap_to: int,
    rule: CoreRule,
) -> bool:
    gap = int(gap_to - gap_from)
    if gap <= rule.clonic_gap:
        return True
    return gap <= rule.merge_gap and int(stops[run] - starts[run]) >= rule.min_long
