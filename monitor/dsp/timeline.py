"""Where each raw sample of a stream lies in UTC, when frames bring their own stamps.

A stream's samples are contiguous by their sequence numbers, but the stamps of its frames
may move by a few ms while the collector's clock fit settles. :class:`SampleTimeline`
keeps one anchor (sample index, UTC ns) per frame that left the previous frame's time line,
so every sample takes the stamp of the frame that brought it, and an index maps to UTC in
O(log anchors). Anchors older than what the detector may still stamp are trimmed, so
memory stays bounded however long the stream.
"""

from __future__ import annotations

from bisect import bisect_right

from monitor.types import NS_PER_S, Frame

# A frame whose samples follow the last one by its sequence but whose stamp moved by more
# than this is a new time line (a device clock step): the collector calls a stamp a step
# only 250 ms early or 500 ms late of its fitted line, so smaller moves are the fit settling
# on a continuous stream, and its samples are kept on, stamped as the frame says.
MAX_STAMP_MOVE_S = 0.5

_LAST = 2**63  # sorts after any UTC ns, so bisect_right finds the anchor at or before an index


class SampleTimeline:
    """UTC of raw sample indexes of one stream at ``sample_rate_hz``.

    Examples
    --------
    >>> line = SampleTimeline(1000.0)
    >>> line.anchor(0, 5_000_000_000)
    >>> line.time_ns(100)  # where the next frame's first sample is expected
    5100000000
    >>> line.anchor(100, 5_103_000_000)  # that frame came stamped 3 ms later
    >>> line.time_ns(50), line.time_ns(150)
    (5050000000, 5153000000)
    """

    def __init__(self, sample_rate_hz: float) -> None:
        self.sample_rate_hz = sample_rate_hz
        self._anchors: list[tuple[int, int]] = []  # (raw sample index, UTC ns), by index

    def __bool__(self) -> bool:
        return bool(self._anchors)

    def anchor(self, index: int, t0_ns: int) -> None:
        """Sample ``index`` (the first of a frame) is at UTC ``t0_ns``, which is not where
        :meth:`time_ns` puts it (the caller checked: a frame on the line needs no anchor)."""
        self._anchors.append((index, int(t0_ns)))

    def time_ns(self, index: float) -> int:
        """UTC ns of raw sample ``index`` (fractional for a block centre)."""
        k = max(0, bisect_right(self._anchors, (index, _LAST)) - 1)
        first_index, first_ns = self._anchors[k]
        return first_ns + round((index - first_index) * NS_PER_S / self.sample_rate_hz)

    def forget_before(self, index: float) -> None:
        """Samples before ``index`` will not be asked for again: drop the anchors only they need."""
        first_needed = bisect_right(self._anchors, (index, _LAST)) - 1
        if first_needed > 0:
            del self._anchors[:first_needed]


def frame_continues(frame: Frame, next_seq: int | None, expected_ns: int | None) -> bool:
    """Whether ``frame`` continues its stream: its first sample is ``next_seq`` (no gap) and
    it is stamped within :data:`MAX_STAMP_MOVE_S` of ``expected_ns`` (no clock step).

    ``next_seq`` and ``expected_ns`` are what the previous frame left; None: no previous frame.
    """
    if next_seq is None or expected_ns is None:
        return False
    return frame.seq_first == next_seq and abs(frame.t0_ns - expected_ns) <= MAX_STAMP_MOVE_S * NS_PER_S
