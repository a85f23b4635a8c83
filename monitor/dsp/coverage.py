"""When each stream of each wearable delivered samples: the ``coverage`` records.

One record per stream and UTC minute with samples, stamped at the minute's start, with the
seconds of that minute the samples span (``covered_s``: 60 for a full minute, less at a gap
or at the ends of a run). Every wearable writes them, whatever it measures, so they are the
one place that answers "was this device sending?": the device-offline alert, the cohort's
last-seen and data completeness read them. Their rate is tiny (one per minute and stream),
so unlike the feature series they are kept.
"""

from __future__ import annotations

from monitor.dsp.windows import ClosedWindow, UtcWindows
from monitor.store.schema import COVERAGE
from monitor.types import Frame, Record, StreamId

WINDOW_S = 60.0


class StreamCoverage:
    """Per-minute coverage of one stream, as ``coverage`` records tagged with its ``sensor``.

    Parameters
    ----------
    stream : StreamId
        The stream whose frames it takes.
    window_s : float
        Window length, s (UTC-aligned).
    tags : dict, optional
        Further low-cardinality tags (the pipeline adds the device's own).

    Examples
    --------
    >>> import numpy as np
    >>> from monitor.types import SensorKind
    >>> coverage = StreamCoverage(StreamId("F1", "emg"))
    >>> frame = Frame(StreamId("F1", "emg"), SensorKind.EMG, 1000.0, 0, 0, 0, np.zeros((90_000, 4)))
    >>> [(r.time_ns, r.fields["covered_s"], r.tags) for r in coverage.process(frame) + coverage.flush()]
    [(0, 60.0, {'sensor': 'emg'}), (60000000000, 30.0, {'sensor': 'emg'})]
    """

    def __init__(
        self, stream: StreamId, *, window_s: float = WINDOW_S, tags: dict[str, str] | None = None
    ) -> None:
        self.stream = stream
        self._tags = {**(tags or {}), "sensor": stream.sensor}
        self._windows = UtcWindows(window_s)

    def process(self, frame: Frame) -> list[Record]:
        """Take one frame of the stream; return the minutes it closed."""
        if frame.stream != self.stream:
            raise ValueError(f"expected frames of {self.stream}, got {frame.stream}")
        return self._records(self._windows.add(frame))

    def flush(self) -> list[Record]:
        """End of stream: the minute still open."""
        return self._records(self._windows.flush())

    def _records(self, windows: list[ClosedWindow]) -> list[Record]:
        return [
            # To the µs: a sum of sample periods carries float dust (59.99999999 for a full minute).
            Record(COVERAGE, w.start_ns, {"covered_s": round(w.covered_s, 6)}, dict(self._tags))
            for w in windows
        ]


__all__ = ["StreamCoverage"]
