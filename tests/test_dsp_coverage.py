"""``coverage`` records: when each stream of each wearable delivered samples, per UTC minute."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from monitor.config import parse_config
from monitor.dsp.coverage import StreamCoverage
from monitor.pipeline import Pipeline
from monitor.types import NS_PER_S, Frame, SensorKind, StreamId

DEVICE = "F1:00:00:00:00:01"
T0_NS = 1_764_000_000 * NS_PER_S  # on a minute


def _frames(sensor: str, kind: SensorKind, rate_hz: float, seconds: list[tuple[float, float]]) -> list[Frame]:
    """Frames of 0.1 s covering each ``(start_s, end_s)`` stretch after T0."""
    frames, seq = [], 0
    per_frame = round(rate_hz / 10)
    for start_s, end_s in seconds:
        for k in range(round((end_s - start_s) * 10)):
            t0 = T0_NS + round((start_s + k / 10) * NS_PER_S)
            samples = np.zeros((per_frame, 4 if kind is SensorKind.EMG else 3))
            frames.append(Frame(StreamId(DEVICE, sensor), kind, rate_hz, t0, seq, seq, samples))
            seq += 1
    return frames


def test_every_stream_of_a_wearable_is_covered_per_minute_through_the_pipeline() -> None:
    config = parse_config(
        {"patient": {"id": "p01"}, "device": [{"address": DEVICE, "placement": "calf", "muscle": "soleus"}]}
    )
    pipeline = Pipeline(config)
    # EMG for 150 s with a 20 s gap from 70 s; the IMU for the first 90 s only.
    frames = _frames("emg", SensorKind.EMG, 1000.0, [(0, 70), (90, 150)])
    frames += _frames("acc", SensorKind.ACC, 100.0, [(0, 90)])
    frames += _frames("gyr", SensorKind.GYR, 100.0, [(0, 90)])
    frames.sort(key=lambda f: f.t0_ns)
    records = [r for f in frames for r in pipeline.process(f)] + pipeline.flush()
    covered: defaultdict[str, dict[int, float]] = defaultdict(dict)
    for r in records:
        if r.measurement == "coverage":
            assert r.tags["device"] == DEVICE
            assert r.tags["patient"] == "p01"
            covered[r.tags["sensor"]][(r.time_ns - T0_NS) // NS_PER_S] = float(r.fields["covered_s"])
    assert covered["emg"] == pytest.approx({0: 60.0, 60: 40.0, 120: 30.0})
    assert covered["acc"] == covered["gyr"] == pytest.approx({0: 60.0, 60: 30.0})


def test_a_minute_at_two_rates_is_one_record_of_the_time_covered() -> None:
    # Two records at one time would be one point in InfluxDB: the second would overwrite the first.
    coverage = StreamCoverage(StreamId(DEVICE, "emg"))
    fast = _frames("emg", SensorKind.EMG, 1000.0, [(0, 10)])
    slow = _frames("emg", SensorKind.EMG, 500.0, [(10, 20)])
    records = [r for f in fast + slow for r in coverage.process(f)] + coverage.flush()
    assert [(r.time_ns, r.fields["covered_s"]) for r in records] == [(T0_NS, pytest.approx(20.0))]


def test_frames_of_another_stream_are_refused() -> None:
    coverage = StreamCoverage(StreamId(DEVICE, "emg"))
    [acc] = _frames("acc", SensorKind.ACC, 100.0, [(0, 0.1)])
    with pytest.raises(ValueError, match="expected frames of"):
        coverage.process(acc)
    assert coverage.flush() == []
