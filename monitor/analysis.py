"""Offline analysis: spasms in a whole EMG array or recording, and their clinical summary.

``spasm-monitor analyze`` uses it. A recording goes through the live
:class:`monitor.pipeline.Pipeline`, as ``replay`` sends it, so both find the same events;
a bare EMG array (a CSV file) through the pipeline's EMG detector
(:func:`monitor.dsp.detect_spasms`, whose batch results equal the chunked ones). The summary counts
spasms the way the clinical scores do (:func:`monitor.clinical.spasm_rows`: events that
overlap in time, on two channels or seen by EMG and IMU, are one spasm).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.clinical import penn_daily_frequency, snow_frequency, snow_scorable, spasm_rows
from monitor.clinical.events import spasm_kind
from monitor.config import AppConfig
from monitor.dsp import EmgParams, detect_spasms
from monitor.pipeline import Pipeline
from monitor.recording import RecordingReader
from monitor.store.schema import SPASM_EVENT, spasm_event_from_record, spasm_event_record
from monitor.types import MOVEMENT_KIND, NS_PER_S, SPASM_KINDS, Frame, Record, SpasmEvent

HOURS_PER_DAY = 24.0
Progress = Callable[[int], None]  # called with the number of items done so far


@dataclass
class Analysis:
    """Spasms found in an observed span, with its clinical summary.

    Attributes
    ----------
    events : list of SpasmEvent
        In onset order, as stored (``device`` from the record's tag); :func:`event_source`
        says which sensor found each.
    start_ns, end_ns : int
        First sample and end of the last sample, UTC ns.
    observed_s : float
        Time with data, s (the longest stream's samples; gaps are not observed).
    records : list of Record
        The ``spasm_event`` records behind ``events``.
    unknown_devices : set of str
        Devices of a recording that the configuration does not list (their frames skipped).
    """

    events: list[SpasmEvent]
    start_ns: int
    end_ns: int
    observed_s: float
    records: list[Record] = field(default_factory=list)
    unknown_devices: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        """Counts, rates and scores (a stable, JSON-ready mapping; see the module docstring)."""
        observed_h = self.observed_s / 3600
        spasms = len(spasm_rows(self.records))
        durations = [e.duration_s for e in self.events]
        by_kind = {kind: sum(e.kind == kind for e in self.events) for kind in SPASM_KINDS}
        # Snow is a 24 h count: scored only when at least min_wear_h (8 h) were observed
        # (docs/clinical.md), never extrapolated; a span over 24 h on its mean count per 24 h.
        per_day = spasms if observed_h <= HOURS_PER_DAY else round(spasms * HOURS_PER_DAY / observed_h)
        return {
            "events": len(self.events),
            "spasms": spasms,
            "observed_h": round(observed_h, 4),
            "per_hour": round(spasms / observed_h, 3) if observed_h > 0 else None,
            "by_kind": by_kind,
            "by_source": {s: sum(event_source(e) == s for e in self.events) for s in ("emg", "imu")},
            "duration_s": {
                "min": round(min(durations), 3) if durations else None,
                "median": round(statistics.median(durations), 3) if durations else None,
                "max": round(max(durations), 3) if durations else None,
                "total": round(sum(durations), 3),
            },
            "penn_frequency": penn_daily_frequency(spasms, observed_h),
            "snow_frequency": snow_frequency(per_day) if snow_scorable(self.observed_s) else None,
        }


def event_source(event: SpasmEvent) -> str:
    """``imu`` for a spasm a gyroscope alone found, else ``emg``.

    The schema's ``spasm_event`` carries no sensor tag: an IMU-only event is the one of kind
    movement (old spools' IMU-only ``myoclonic`` included, as :mod:`monitor.clinical` reads them).
    """
    return "imu" if spasm_kind(event) == MOVEMENT_KIND else "emg"


def analyze_emg(
    emg_mv: npt.ArrayLike,
    sample_rate_hz: float,
    t0_ns: int = 0,
    params: EmgParams | None = None,
    device: str = "",
) -> Analysis:
    """Spasms in one whole EMG array, shape (n, channels), mV (see :func:`monitor.dsp.detect_spasms`)."""
    emg = np.asarray(emg_mv)
    overrides = params.as_dict() if params is not None else {}
    tags = {"device": device, "sensor": "emg"} if device else {"sensor": "emg"}
    events = detect_spasms(emg, sample_rate_hz, t0_ns, **overrides)
    records = [spasm_event_record(e, tags) for e in events]
    n = emg.shape[0]
    end_ns = t0_ns + round(n * NS_PER_S / sample_rate_hz)
    return Analysis([spasm_event_from_record(r) for r in records], t0_ns, end_ns, n / sample_rate_hz, records)


def analyze_recording(
    reader: RecordingReader, config: AppConfig, progress: Progress | None = None
) -> Analysis:
    """Spasms in a recording, found by the live :class:`~monitor.pipeline.Pipeline`.

    The recording goes through the pipeline exactly as ``spasm-monitor replay`` sends it,
    so the ``spasm_event`` records are the ones a replay stores: EMG is analysed only on
    wearables with a ``muscle``, gyroscopes on every wearable, and frames of a device the
    configuration does not list are skipped. Read in bounded memory.

    Parameters
    ----------
    reader : RecordingReader
    config : AppConfig
        Wearables (placement, muscle) and ``[dsp]``: ``--config``, else the recording's own.
    progress : callable, optional
        Called now and then with the number of items read.
    """
    pipeline = Pipeline(config)
    records: list[Record] = []
    covered_s: dict[tuple[str, str], float] = {}
    start_ns: int | None = None
    end_ns: int | None = None
    for done, item in enumerate(reader.items(), 1):
        records += _spasm_events(pipeline.process(item))
        if isinstance(item, Frame) and config.device(item.stream.device) is not None:
            key = (item.stream.device, item.stream.sensor)
            covered_s[key] = covered_s.get(key, 0.0) + item.n_samples / item.sample_rate_hz
            frame_end_ns = item.time_ns(item.n_samples)
            start_ns = item.t0_ns if start_ns is None else min(start_ns, item.t0_ns)
            end_ns = frame_end_ns if end_ns is None else max(end_ns, frame_end_ns)
        if progress is not None and done % 1000 == 0:
            progress(done)
    records += _spasm_events(pipeline.flush())
    records.sort(key=lambda r: (r.time_ns, r.tags.get("device", ""), r.tags.get("channel", "")))
    events = [spasm_event_from_record(r) for r in records]
    # Observed: the longest stream's samples (gaps are not observed).
    observed_s = max(covered_s.values(), default=0.0)
    return Analysis(events, start_ns or 0, end_ns or 0, observed_s, records, pipeline.stats.unknown_devices)


def _spasm_events(records: list[Record]) -> list[Record]:
    return [r for r in records if r.measurement == SPASM_EVENT]
