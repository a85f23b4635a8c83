"""Isolation of the pipeline's processors: a failure is counted, told once, and contained.

A home gateway runs for months on every value a wearable can send. A processor that raises
(a kernel dividing by a zero accelerometer vector, a bug met once a month) must neither end
the run nor stop the other processors: :class:`ProcessorGuard` counts the failure, logs it
and writes a ``dsp_error`` record at most once per :data:`ERROR_REPORT_EVERY_NS` of data per
processor, device and error type (a sensor stuck at 0 g would otherwise fail every frame, and
flood the journal and the spool), and the pipeline resets that processor.

Rate limits run on the data's time, not the wall clock, so a replay reports what a live run
reported.
"""

from __future__ import annotations

import logging
from collections import Counter

from monitor.store.schema import DSP_ERROR
from monitor.types import NS_PER_S, Record

logger = logging.getLogger("monitor.pipeline")

# One log line and one record per (processor, device, error type) per minute of data.
ERROR_REPORT_EVERY_NS = 60 * NS_PER_S
MESSAGE_MAX_CHARS = 200  # an exception message can hold an array's repr


class ProcessorGuard:
    """Counts and reports processor failures, rate-limited per kind.

    Examples
    --------
    >>> guard = ProcessorGuard()
    >>> first = guard.failed("joint", "dev1", ZeroDivisionError("division by zero"), 0)
    >>> again = guard.failed("joint", "dev1", ZeroDivisionError("division by zero"), 1)
    >>> first.fields["errors"], again, guard.errors["joint/ZeroDivisionError"]
    (1, None, 2)
    """

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()  # per "processor/ErrorType", for status and summaries
        self._per_kind: Counter[tuple[str, str, str]] = Counter()
        self._reported_ns: dict[tuple[str, str, str], int] = {}

    def failed(
        self, processor: str, device: str, error: Exception, time_ns: int, stage: str = "process"
    ) -> Record | None:
        """Count one failure; the ``dsp_error`` record to write, or None within the rate limit.

        Parameters
        ----------
        processor : str
            Which processor (``emg``, ``movement``, ``activity``, ``joint``, ``coverage``).
        device : str
            The device whose frame it was processing.
        error : Exception
            What it raised.
        time_ns : int
            UTC of the frame (or of the stream's end, on flush), ns.
        stage : {"process", "flush", "rejected"}
            ``rejected``: the processor refused the frame (``ValueError``) and was kept.
        """
        name = type(error).__name__
        key = (processor, device, name)
        self.errors[f"{processor}/{name}"] += 1
        self._per_kind[key] += 1
        count = self._per_kind[key]
        reported_ns = self._reported_ns.get(key)
        if reported_ns is not None and 0 <= time_ns - reported_ns < ERROR_REPORT_EVERY_NS:
            return None
        self._reported_ns[key] = time_ns
        what = "refused a frame" if stage == "rejected" else f"failed ({stage}) and was reset"
        logger.warning(
            "%s processor of %s %s: %s: %s (%d so far; the other processors go on)",
            processor,
            device,
            what,
            name,
            error,
            count,
            exc_info=error if count == 1 and stage != "rejected" else None,  # one traceback per kind
        )
        fields: dict[str, float | int | str | bool] = {
            "processor": processor,
            "error": name,
            "message": str(error)[:MESSAGE_MAX_CHARS],
            "errors": count,
            "stage": stage,
        }
        return Record(DSP_ERROR, time_ns, fields, {"device": device})
