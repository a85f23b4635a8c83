"""A spasm's extent: where its activity stands against its own peak, not only the floor.

The hysteresis opens an event where the envelope leaves the resting floor and closes it
where the envelope returns there. Around a strong burst (100× the floor and more) a real
muscle also shows weak activity that is not the spasm: the postural tone before a
movement, a slow relaxation afterwards, heartbeats in the merge gap. Read against the
floor alone, that activity stretches a one-second burst to three or more seconds.

So an event is cut to its *core*: the runs of the smoothed envelope at or above
``share_of_peak`` of its peak, chained from the peak's run outwards across gaps a spasm
makes (clonic beats, up to one period of the slowest clonus apart; a longer or a strong
burst up to the merge gap away), plus the time a spasm's rise and decay take to cross from rest to
that share. Below ``1 / share_of_peak`` times the floor the core's level falls under the
hysteresis' own edge and nothing is cut, so weak and moderate spasms keep the extent the
floor gives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]

# A short run within the merge gap that reaches a third of the peak (-10 dB) is a burst of
# the spasm, not a heartbeat: ECG cross-talk on a limb muscle stays far below the
# muscle's own spasms (on real recordings a tenth to a quarter of a voluntary burst).
STRONG_RUN_SHARE = 1 / 3


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
        A run at least this long (or reaching ``STRONG_RUN_SHARE`` of the peak) is a burst,
        not a blip (a heartbeat's QRS is shorter).
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
    peak = float(smooth.max())

    def joins(run: int, gap: int) -> bool:
        if gap <= rule.clonic_gap:
            return True
        long = int(stops[run] - starts[run]) >= rule.min_long
        strong = float(smooth[starts[run] : stops[run]].max()) >= STRONG_RUN_SHARE * peak
        return gap <= rule.merge_gap and (long or strong)

    while first > 0 and joins(first - 1, int(starts[first] - stops[first - 1])):
        first -= 1
    while last < len(starts) - 1 and joins(last + 1, int(starts[last + 1] - stops[last])):
        last += 1
    return max(0, int(starts[first]) - rule.lead), min(n, int(stops[last]) + rule.lag)
