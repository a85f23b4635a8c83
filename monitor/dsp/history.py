"""Recent envelope-rate signals of a stream, kept only as long as an open spasm needs them."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


class EnvelopeHistory:
    """Named (channels, m) columns indexed by absolute envelope sample.

    ``append`` adds a chunk to every column, ``trim`` forgets what precedes a sample, and
    ``window`` reads one channel between absolute indices. Memory is what lies between the
    oldest sample still needed and the newest.

    Each column lives in a buffer with room to grow: an append writes after the newest
    sample and moves the kept samples to the buffer's start only when it is full, so a
    stream of short chunks does not copy the whole history each time. A window is a
    view, valid until the next ``append``.
    """

    def __init__(self) -> None:
        self.start = 0  # absolute index of the oldest sample kept
        self._buffers: dict[str, Array] = {}  # name -> (channels, capacity)
        self._first = 0  # buffer column of sample ``start``
        self._stop = 0  # buffer column after the newest sample

    def append(self, **columns: Array) -> None:
        m = next(iter(columns.values())).shape[1]
        kept = self._stop - self._first
        capacity = next(iter(self._buffers.values())).shape[1] if self._buffers else 0
        if self._stop + m > capacity:
            # Room for a quarter more than is kept (and one more chunk): the move to the
            # buffer's start then comes once every few chunks, not at each.
            needed = kept + m + (kept + m) // 4 + m
            for name, values in columns.items():
                old = self._buffers.get(name)
                if old is None or needed > capacity:
                    buffer = np.empty((values.shape[0], max(needed, capacity)), values.dtype)
                    if old is not None:
                        buffer[:, :kept] = old[:, self._first : self._stop]
                    self._buffers[name] = buffer
                else:
                    old[:, :kept] = old[:, self._first : self._stop].copy()
            self._first, self._stop = 0, kept
        for name, values in columns.items():
            self._buffers[name][:, self._stop : self._stop + m] = values
        self._stop += m

    def window(self, name: str, channel: int, lo: int, hi: int) -> Array:
        """Samples ``lo <= index < hi`` of one channel (clipped to what is kept)."""
        first = self._first
        stop = min(first + max(hi - self.start, 0), self._stop)
        return self._buffers[name][channel, first + max(lo - self.start, 0) : stop]

    def trim(self, keep_from: int) -> None:
        """Forget every sample before absolute index ``keep_from``."""
        cut = keep_from - self.start
        if cut <= 0:
            return
        self._first = min(self._first + cut, self._stop)
        self.start = keep_from

    @property
    def length(self) -> int:
        return self._stop - self._first
