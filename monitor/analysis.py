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

import numpy.typing as npt

from monitor.clinical import penn_daily_frequency, snow_frequency, snow_scorable, spasm_rows
from monitor.clinical.affected import configured_affected
from monitor.clinical.events import spasm_kind
from monitor.config import AppConfig
from monitor.dsp import EmgParams, SpasmDetector
from monitor.dsp.emg_input import validate_emg
from monitor.pipeline import Pipeline
from monitor.recording import RecordingReader
from monitor.store.schema import SIGNAL_QUALITY, SPASM_EVENT, spasm_event_from_record
from monitor.types import (
    MOVEMENT_KIND,
    NS_PER_S,
    SPASM_KINDS,
    Frame,
    Record,
    SensorKind,
    SpasmEvent,
    StreamId,
)

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
    affected : dict of str to set of str
        The configuration's ``affected = true`` sides per patient: the summary's spasms are the
        affected limbs' (:mod:`monitor.clinical.affected`), also where that wearable saw none.
    """

    events: list[SpasmEvent]
    start_ns: int
    end_ns: int
    observed_s: float
    records: list[Record] = field(default_factory=list)
    unknown_devices: set[str] = field(default_factory=set)
    affected: dict[str, set[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts, rates and scores (a stable, JSON-ready mapping; see the module docstring).

        ``spasms``, ``by_kind`` and ``duration_s`` count the same thing: spasm episodes of the
        affected limbs (:func:`monitor.clinical.spasm_rows`), so the kinds sum to the total;
        ``events`` and ``by_source`` count the detector's events (one per channel and sensor).
        Without observed time (no usable sample) ``spasms`` and every rate are None: no data,
        never 0 spasms.
        """
        observed_h = self.observed_s / 3600
        rows = spasm_rows(self.records, known_affected=self.affected)
        spasms = len(rows)
        durations = [e.duration_s for e in rows]
        by_kind = {kind: sum(e.kind == kind for e in rows) for kind in (*SPASM_KINDS, MOVEMENT_KIND)}
        # Snow is a 24 h count: scored only when at least min_wear_h (8 h) were observed
        # (docs/clinical.md), never extrapolated; a span over 24 h on its mean count per 24 h.
        per_day = spasms if observed_h <= HOURS_PER_DAY else round(spasms * HOURS_PER_DAY / observed_h)
        return {
            "events": len(self.events),
            "spasms": spasms if observed_h > 0 else None,
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
    """Spasms in one whole EMG array, shape (n, channels), mV (see :func:`monitor.dsp.detect_spasms`).

    Observed time is the span less the time in which no channel was usable: NaN or infinite
    samples are gaps, as the detector flags them (``signal_quality`` ``nonfinite`` runs, which
    include the envelope window around each bad sample), so a stream with every other
    sample missing has no observed time at all, and no spasm count.
    """
    samples = validate_emg(emg_mv)
    overrides = params.as_dict() if params is not None else {}
    tags = {"device": device, "sensor": "emg"} if device else {"sensor": "emg"}
    detector = SpasmDetector(sample_rate_hz, samples.shape[1], tags, **overrides)
    n = samples.shape[0]
    frame = Frame(
        StreamId(device or "array", "emg"), SensorKind.EMG, sample_rate_hz, t0_ns, 0, n - 1, samples
    )
    output = detector.process(frame) + detector.flush()
    records = sorted(_spasm_events(output), key=lambda r: (r.time_ns, r.tags.get("channel", "")))
    end_ns = t0_ns + round(n * NS_PER_S / sample_rate_hz)
    lost_ns = _lost_on_every_channel_ns(output, samples.shape[1], t0_ns, end_ns)
    observed_s = max(0.0, (end_ns - t0_ns - lost_ns) / NS_PER_S)
    return Analysis([spasm_event_from_record(r) for r in records], t0_ns, end_ns, observed_s, records)


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
    affected = configured_affected(config.patient.id, config.devices)
    return Analysis(
        events, start_ns or 0, end_ns or 0, observed_s, records, pipeline.stats.unknown_devices, affected
    )


def _spasm_events(records: list[Record]) -> list[Record]:
    return [r for r in records if r.measurement == SPASM_EVENT]


def _lost_on_every_channel_ns(records: list[Record], channels: int, start_ns: int, end_ns: int) -> int:
    """Time in ``[start_ns, end_ns)`` in which every channel had non-finite samples, ns."""
    lost: list[tuple[int, int]] = [(start_ns, end_ns)]
    for channel in range(channels):
        runs = sorted(
            (r.time_ns, int(r.fields["offset_ns"]))
            for r in records
            if r.measurement == SIGNAL_QUALITY
            and r.tags.get("issue") == "nonfinite"
            and r.tags.get("channel") == str(channel)
        )
        lost = [
            (max(a, c), min(b, d)) for a, b in lost for c, d in runs if max(a, c) < min(b, d)
        ]  # the time lost so far that this channel lost too
    return sum(b - a for a, b in lost)
