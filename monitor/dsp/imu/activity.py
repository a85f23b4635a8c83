"""How much one limb moved, per minute: the ``movement`` records of an IMU.

A clinician reads spasm counts against activity: a calm day in bed and an active day of
therapy are different denominators. One record per UTC-aligned window (60 s by default)
and IMU gives the time in motion (angular speed above ``motion_threshold_dps``) and the
RMS angular speed. They are also the IMU's heartbeat in the store: a wearable that only
measures motion (a Polar Verity Sense) otherwise writes nothing while the patient is
still, and would look offline to the alert rules.

Windows are cut on the samples' own UTC times, so any chunking of a stream gives the
same records, and a window the stream only partly covered (a gap, the start or end of a
recording) says how much it covered (``covered_s``).
"""

from __future__ import annotations

import numpy as np

from monitor.dsp.windows import ClosedWindow, UtcWindows
from monitor.store.schema import MOVEMENT
from monitor.types import FieldValue, Frame, Record, SensorKind, StreamId

# Slow voluntary limb movement (reaching, a leg shifted in bed) turns the limb at tens of
# deg/s; a gyroscope at rest reads a few deg/s of bias and noise.
MOTION_THRESHOLD_DPS = 20.0
WINDOW_S = 60.0


class MovementActivity:
    """Per-window activity of one IMU's gyroscope, as ``movement`` records.

    Parameters
    ----------
    gyr : StreamId
        The gyroscope stream.
    window_s : float
        Window length, s; windows are aligned to UTC multiples of it.
    motion_threshold_dps : float
        Angular speed above which a sample counts as in motion, deg/s.
    tags : dict, optional
        Further low-cardinality tags.

    Notes
    -----
    Fields of each record, stamped at its window's start: ``active_s`` (time in motion),
    ``gyro_rms_dps`` (RMS angular speed) and ``covered_s`` (time with samples), all over
    that window. A window is final when a later window's first sample arrives, or at
    :meth:`flush`.

    Examples
    --------
    >>> activity = MovementActivity(StreamId("F1", "gyr"))
    >>> frame = Frame(StreamId("F1", "gyr"), SensorKind.GYR, 50.0, 0, 0, 0, np.full((3000, 3), 30.0))
    >>> [(r.fields["active_s"], r.fields["covered_s"]) for r in activity.process(frame) + activity.flush()]
    [(60.0, 60.0)]
    """

    def __init__(
        self,
        gyr: StreamId,
        *,
        window_s: float = WINDOW_S,
        motion_threshold_dps: float = MOTION_THRESHOLD_DPS,
        tags: dict[str, str] | None = None,
    ) -> None:
        if not motion_threshold_dps >= 0:
            raise ValueError(f"motion_threshold_dps must be >= 0, got {motion_threshold_dps}")
        self.stream = gyr
        self.motion_threshold_dps = float(motion_threshold_dps)
        self._tags = tags or {}
        self._windows = UtcWindows(window_s, ("active_s", "speed_sq_dps2"))

    def process(self, frame: Frame) -> list[Record]:
        """Take one gyroscope frame; return the windows it closed."""
        if frame.stream != self.stream or frame.kind != SensorKind.GYR:
            raise ValueError(f"expected gyroscope frames of {self.stream}, got {frame.stream}")
        gyr = np.asarray(frame.samples, dtype=np.float64)
        speed_sq_dps2 = np.einsum("ij,ij->i", gyr, gyr)
        active_s = (speed_sq_dps2 > self.motion_threshold_dps**2) / frame.sample_rate_hz
        return self._records(self._windows.add(frame, {"active_s": active_s, "speed_sq_dps2": speed_sq_dps2}))

    def flush(self) -> list[Record]:
        """End of stream: the open window, as far as it was covered."""
        return self._records(self._windows.flush())

    def _records(self, windows: list[ClosedWindow]) -> list[Record]:
        records = []
        for window in windows:
            fields: dict[str, FieldValue] = {
                "active_s": round(window.sums["active_s"], 6),  # µs: no float-sum dust
                "gyro_rms_dps": float(np.sqrt(window.sums["speed_sq_dps2"] / window.samples)),
                "covered_s": round(window.covered_s, 6),
            }
            records.append(Record(MOVEMENT, window.start_ns, fields, dict(self._tags)))
        return records


__all__ = ["MOTION_THRESHOLD_DPS", "WINDOW_S", "MovementActivity"]
