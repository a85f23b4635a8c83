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
    """

    def __init__(self) -> None:
        self.start = 0
        self._columns: dict[str, Array] = {}

    def append(self, **columns: Array) -> None:
        for name, values in columns.items():
            old = self._columns.get(name)
            self._columns[name] = values if old is None else np.concatenate([old, values], axis=1)

    def window(self, name: str, channel: int, lo: int, hi: int) -> Array:
        """Samples ``lo <= index < hi`` of one channel (clipped to what is kept)."""
        column = self._columns[name]
        return column[channel, max(lo - self.start, 0) : max(hi - self.start, 0)]

    def trim(self, keep_from: int) -> None:
        """Forget every sample before absolute index ``keep_from``."""
        cut = keep_from - self.start
        if cut <= 0:
            return
        self._columns = {name: column[:, cut:] for name, column in self._columns.items()}
        self.start = keep_from

    @property
    def length(self) -> int:
        return next(iter(self._columns.values())).shape[1] if self._columns else 0
