"""Offline analysis: spasms in a whole EMG array or recording, and their clinical summary.

``spasm-monitor analyze`` uses it. EMG goes through the same detector as the live
pipeline (:class:`monitor.dsp.SpasmDetector`, whose chunked results equal the batch
call), gyroscopes through :class:`monitor.dsp.MovementSpasmDetector`; the summary counts
spasms the way the clinical scores do (:func:`monitor.clinical.spasm_rows`: events that
overlap in time, on two channels or seen by EMG and IMU, are one spasm).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.clinical import penn_daily_frequency, snow_frequency, snow_scorable, spasm_rows
from monitor.dsp import EmgParams, MovementSpasmDetector, SpasmDetector, detect_spasms
from monitor.recording import RecordingReader
from monitor.types import NS_PER_S, SPASM_KINDS, Frame, Record, SensorKind

HOURS_PER_DAY = 24.0
Progress = Callable[[int], None]  # called with the number of items done so far


@dataclass(frozen=True, slots=True)
class DetectedSpasm:
    """One detected spasm, from EMG (one channel) or from a gyroscope (``source = "imu"``)."""

    onset_ns: int
    offset_ns: int
    kind: str
    source: str
    device: str
    channel: int
    location: str = ""
    peak_mv: float | None = None
    peak_x_baseline: float | None = None
    clonus_hz: float | None = None
    imu_peak_dps: float | None = None

    @property
    def duration_s(self) -> float:
        return (self.offset_ns - self.onset_ns) / NS_PER_S

    @classmethod
    def from_record(cls, record: Record) -> DetectedSpasm:
        """From a ``spasm_event`` record (as the detectors and the spool give them)."""
        fields, tags = record.fields, record.tags

        def number(name: str) -> float | None:
            value = fields.get(name)
            return None if value is None else float(value)

        return cls(
            onset_ns=record.time_ns,
            offset_ns=int(fields["offset_ns"]),
            kind=tags.get("kind", ""),
            source=tags.get("sensor", "emg"),
            device=tags.get("device", ""),
            channel=int(tags.get("channel", 0)),
            location=tags.get("location", ""),
            peak_mv=number("peak_mv"),
            peak_x_baseline=number("peak_x_baseline"),
            clonus_hz=number("clonus_hz"),
            imu_peak_dps=number("imu_peak_dps"),
        )


@dataclass
class Analysis:
    """Spasms found in an observed span, with its clinical summary.

    Attributes
    ----------
    events : list of DetectedSpasm
        In onset order.
    start_ns, end_ns : int
        First sample and end of the last sample, UTC ns.
    observed_s : float
        Time with data, s (the longest stream's samples; gaps are not observed).
    records : list of Record
        The ``spasm_event`` records behind ``events``.
    """

    events: list[DetectedSpasm]
    start_ns: int
    end_ns: int
    observed_s: float
    records: list[Record] = field(default_factory=list)

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
            "by_source": {s: sum(e.source == s for e in self.events) for s in ("emg", "imu")},
            "duration_s": {
                "min": round(min(durations), 3) if durations else None,
                "median": round(statistics.median(durations), 3) if durations else None,
                "max": round(max(durations), 3) if durations else None,
                "total": round(sum(durations), 3),
            },
            "penn_frequency": penn_daily_frequency(spasms, observed_h),
            "snow_frequency": snow_frequency(per_day) if snow_scorable(self.observed_s) else None,
        }


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
    records = [e.to_record(tags) for e in events]
    n = emg.shape[0]
    end_ns = t0_ns + round(n * NS_PER_S / sample_rate_hz)
    return Analysis(
        [DetectedSpasm.from_record(r) for r in records], t0_ns, end_ns, n / sample_rate_hz, records
    )


def analyze_recording(
    reader: RecordingReader,
    params: EmgParams | None = None,
    tags_of: Callable[[str], dict[str, str]] | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Spasms in every EMG and gyroscope stream of a recording, read in bounded memory.

    Parameters
    ----------
    reader : RecordingReader
    params : EmgParams, optional
        EMG detector parameters (the configuration's ``[dsp]``).
    tags_of : callable, optional
        Tags (location, muscle) for a device id, from the configuration.
    progress : callable, optional
        Called now and then with the number of items read.
    """
    return _StreamAnalyzer(params or EmgParams(), tags_of or (lambda device: {})).run(
        reader.items(), progress
    )


class _StreamAnalyzer:
    """One detector per stream; a time jump in a gyroscope stream restarts its detector."""

    def __init__(self, params: EmgParams, tags_of: Callable[[str], dict[str, str]]) -> None:
        self.params = params
        self.tags_of = tags_of
        self.emg: dict[tuple[str, str], SpasmDetector] = {}
        self.gyr: dict[tuple[str, str], tuple[MovementSpasmDetector, int]] = {}  # detector, next t0
        self.covered_s: dict[tuple[str, str], float] = {}
        self.records: list[Record] = []
        self.start_ns: int | None = None
        self.end_ns: int | None = None

    def run(self, items: Iterable[Frame | Record], progress: Progress | None) -> Analysis:
        for done, item in enumerate(items, 1):
            if isinstance(item, Frame):
                self._frame(item)
            if progress is not None and done % 1000 == 0:
                progress(done)
        for detector in self.emg.values():
            self._keep(detector.flush())
        for key, (gyr, _) in self.gyr.items():
            self._keep([e.to_record(self._tags(key[0], "imu")) for e in gyr.flush()])
        self.records.sort(key=lambda r: (r.time_ns, r.tags.get("device", ""), r.tags.get("channel", "")))
        events = [DetectedSpasm.from_record(r) for r in self.records]
        observed_s = max(self.covered_s.values(), default=0.0)
        return Analysis(events, self.start_ns or 0, self.end_ns or 0, observed_s, self.records)

    def _frame(self, frame: Frame) -> None:
        key = (frame.stream.device, frame.stream.sensor)
        end_ns = frame.time_ns(frame.n_samples)
        self.start_ns = frame.t0_ns if self.start_ns is None else min(self.start_ns, frame.t0_ns)
        self.end_ns = end_ns if self.end_ns is None else max(self.end_ns, end_ns)
        self.covered_s[key] = self.covered_s.get(key, 0.0) + frame.n_samples / frame.sample_rate_hz
        if frame.kind == SensorKind.EMG:
            detector = self.emg.get(key)
            if detector is None:
                tags = self._tags(frame.stream.device, "emg")
                overrides = self.params.as_dict()
                detector = self.emg[key] = SpasmDetector(
                    frame.sample_rate_hz, frame.channels, tags, **overrides
                )
            self._keep(detector.process(frame))
        elif frame.kind == SensorKind.GYR:
            self._gyroscope(key, frame, end_ns)

    def _gyroscope(self, key: tuple[str, str], frame: Frame, end_ns: int) -> None:
        current = self.gyr.get(key)
        half_period_ns = NS_PER_S / frame.sample_rate_hz / 2
        if current is not None and abs(frame.t0_ns - current[1]) > half_period_ns:
            self._keep([e.to_record(self._tags(key[0], "imu")) for e in current[0].flush()])
            current = None
        if current is None:
            location = self.tags_of(key[0]).get("location", "")
            current = (
                MovementSpasmDetector(frame.sample_rate_hz, frame.t0_ns, location=location),
                frame.t0_ns,
            )
        detector = current[0]
        self.gyr[key] = (detector, end_ns)
        self._keep([e.to_record(self._tags(key[0], "imu")) for e in detector.update(frame.samples)])

    def _tags(self, device: str, sensor: str) -> dict[str, str]:
        return {**self.tags_of(device), "device": device, "sensor": sensor}

    def _keep(self, records: list[Record]) -> None:
        self.records.extend(r for r in records if r.measurement == "spasm_event")
