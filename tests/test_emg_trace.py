"""The detector's trace (monitor.dsp.trace): it shows what the detector used, and observing
changes nothing."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from monitor.dsp import SpasmDetector, detect_spasms
from monitor.dsp.trace import trace_detection
from monitor.synth import EmgScenario, SyntheticEmg, generate_emg
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

FRAME_SAMPLES = 250  # a 0.25 s BLE frame at 1 kHz


@cache
def recording() -> SyntheticEmg:
    return generate_emg(EmgScenario(duration_s=90.0, seed=3, channels=2))


def stream_records(emg_mv: npt.NDArray[np.floating], rate_hz: float, detector: SpasmDetector) -> list[Record]:
    records: list[Record] = []
    for start in range(0, emg_mv.shape[0], FRAME_SAMPLES):
        chunk = emg_mv[start : start + FRAME_SAMPLES]
        t0_ns = round(start * NS_PER_S / rate_hz)
        stream = StreamId("emu-1", "emg")
        frame = Frame(stream, SensorKind.EMG, rate_hz, t0_ns, start, start + len(chunk) - 1, chunk)
        records.extend(detector.process(frame))
    records.extend(detector.flush())
    return records


def test_observed_detector_gives_the_same_events_and_records() -> None:
    rec = recording()
    plain = stream_records(rec.emg_mv, rec.sample_rate_hz, SpasmDetector(rec.sample_rate_hz, 2))
    observed_detector = SpasmDetector(rec.sample_rate_hz, 2)
    seen: list[int] = []
    observed_detector.observer = lambda first, block, floor, level: seen.append(first)
    observed = stream_records(rec.emg_mv, rec.sample_rate_hz, observed_detector)
    assert seen, "the observer was never called"
    assert observed == plain
    assert trace_detection(rec.emg_mv, rec.sample_rate_hz).events == detect_spasms(
        rec.emg_mv, rec.sample_rate_hz
    )


def test_trace_baseline_is_what_emg_envelope_records_report() -> None:
    rec = recording()
    trace = trace_detection(rec.emg_mv, rec.sample_rate_hz)
    records = stream_records(rec.emg_mv, rec.sample_rate_hz, SpasmDetector(rec.sample_rate_hz, 2))
    checked = 0
    for record in records:
        if record.measurement != "emg_envelope" or "baseline_mv" not in record.fields:
            continue
        # A record is stamped at the first raw sample of its first envelope sample.
        index = round(record.time_ns * trace.envelope_rate_hz / NS_PER_S)
        channel = int(record.tags["channel"])
        assert record.fields["baseline_mv"] == float(trace.baseline_mv[channel, index])
        checked += 1
    assert checked > 2 * 80  # two channels, all but the floor's first seconds


def test_trace_is_aligned_with_the_events_it_explains() -> None:
    rec = recording()
    trace = trace_detection(rec.emg_mv, rec.sample_rate_hz)
    assert trace.smooth_mv.shape == trace.floor_mv.shape == (2, trace.time_s.size)
    assert abs(trace.time_s[-1] - rec.emg_mv.shape[0] / rec.sample_rate_hz) < 0.1
    assert trace.events
    for event in trace.events:
        inside = (trace.time_s >= event.onset_ns / NS_PER_S) & (trace.time_s < event.offset_ns / NS_PER_S)
        ch = event.channel
        # Every event holds envelope above the on threshold, and reports the level it used.
        assert np.any(trace.smooth_mv[ch, inside] > trace.on_mv[ch, inside])
        assert event.baseline_mv is not None
        assert np.any(np.isclose(trace.baseline_mv[ch, inside], event.baseline_mv, rtol=1e-6))
