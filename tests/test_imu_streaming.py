"""Streaming IMU processors: any chunking gives the batch result; gaps are recorded."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dsp.imu import (
    JointAngleProcessor,
    MovementSpasmDetector,
    MovementSpasmProcessor,
    RomProcessor,
    SegmentStreams,
    detect_movement_spasms,
    joint_angle_deg,
    range_of_motion,
)
from monitor.synth.motion import MotionRecording, generate_motion
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

PROX = SegmentStreams(StreamId("thigh", "acc"), StreamId("thigh", "gyr"))
DIST = SegmentStreams(StreamId("shank", "acc"), StreamId("shank", "gyr"))
REC = generate_motion("knee", duration_s=40, sample_rate_hz=50, noise="typical", seed=21)


def _frames(rec: MotionRecording, sizes: list[int]) -> list[Frame]:
    """The four streams cut into frames of the given sizes (cycled), interleaved."""
    streams = [
        (PROX.gyr, SensorKind.GYR, rec.gyr_prox_dps),
        (PROX.acc, SensorKind.ACC, rec.acc_prox_g),
        (DIST.gyr, SensorKind.GYR, rec.gyr_dist_dps),
        (DIST.acc, SensorKind.ACC, rec.acc_dist_g),
    ]
    per_stream: list[list[Frame]] = []
    for s, (sid, kind, data) in enumerate(streams):
        frames, start, j = [], 0, s
        while start < len(data):
            size = sizes[j % len(sizes)]
            j += 1
            frames.append(
                Frame(
                    sid,
                    kind,
                    rec.sample_rate_hz,
                    rec.time_ns[start] if start else rec.t0_ns,
                    start,
                    start + size - 1,
                    data[start : start + size],
                )
            )
            start += size
        per_stream.append(frames)
    out = []
    for i in range(max(len(f) for f in per_stream)):
        out += [f[i] for f in per_stream if i < len(f)]
    return out


def _run(processor: JointAngleProcessor | MovementSpasmProcessor, frames: list[Frame]) -> list[Record]:
    records = []
    for frame in frames:
        records += processor.process(frame)
    return records + processor.flush()


def _key(r: Record) -> tuple[object, ...]:
    return (r.time_ns, r.measurement, sorted(r.tags.items()), sorted(r.fields.items()))


def _sorted(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: repr(_key(r)))


BATCH = _sorted(_run(JointAngleProcessor(PROX, DIST, 50.0), _frames(REC, [len(REC.angle_deg)])))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=8))
def test_chunked_joint_angle_stream_equals_batch(sizes: list[int]) -> None:
    assert _sorted(_run(JointAngleProcessor(PROX, DIST, 50.0), _frames(REC, sizes))) == BATCH


def test_streamed_angle_equals_batch_function_at_10_hz() -> None:
    angle = joint_angle_deg(REC.acc_prox_g, REC.gyr_prox_dps, REC.acc_dist_g, REC.gyr_dist_dps, 50.0, "knee")
    steps = [r for r in BATCH if r.measurement == "joint_angle"]
    assert len(steps) == pytest.approx(10 * 40, abs=2)
    index = np.searchsorted(REC.time_ns, [r.time_ns for r in steps])
    np.testing.assert_allclose([r.fields["angle_deg"] for r in steps], angle[index], atol=1e-9)
    assert {r.tags["joint"] for r in BATCH} == {"knee"}


def test_two_imus_at_different_jittery_rates_are_aligned() -> None:
    # Proximal IMU at 52 Hz, distal resampled to 100 Hz with 2 ms timestamp jitter.
    rec = generate_motion("elbow", duration_s=60, sample_rate_hz=100, noise="typical", seed=22)
    rng = np.random.default_rng(0)
    keep = np.round(np.arange(0, rec.n_samples, 100 / 52)).astype(int)
    proc = JointAngleProcessor(PROX, DIST, 50.0, "elbow")
    records: list[Record] = []
    for start in range(0, rec.n_samples, 37):
        sl = slice(start, start + 37)
        jitter = rng.integers(-2_000_000, 2_000_000)
        for sid, kind, data in (
            (DIST.gyr, SensorKind.GYR, rec.gyr_dist_dps),
            (DIST.acc, SensorKind.ACC, rec.acc_dist_g),
        ):
            records += proc.process(
                Frame(sid, kind, 100.0, int(rec.time_ns[start]) + int(jitter), start, start + 36, data[sl])
            )
        sub = keep[(keep >= start) & (keep < start + 37)]
        for sid, kind, data in (
            (PROX.gyr, SensorKind.GYR, rec.gyr_prox_dps),
            (PROX.acc, SensorKind.ACC, rec.acc_prox_g),
        ):
            for k in sub:  # one sample per frame: 52 Hz timing does not fit frames
                records += proc.process(
                    Frame(sid, kind, 52.0, int(rec.time_ns[k]), int(k), int(k), data[k : k + 1])
                )
    records += proc.flush()
    steps = [r for r in records if r.measurement == "joint_angle"]
    truth = np.interp([r.time_ns for r in steps], rec.time_ns, rec.angle_deg)
    error = np.array([r.fields["angle_deg"] for r in steps]) - truth
    assert len(steps) > 400
    assert np.sqrt(np.mean(error**2)) < 3.0


def test_a_long_gap_is_recorded_and_not_interpolated() -> None:
    cut = slice(1500, 1600)  # 2 s missing from the distal IMU
    frames = [
        f
        for f in _frames(REC, [50])
        if not (f.stream.device == "shank" and cut.start <= f.seq_first < cut.stop)
    ]
    records = _run(JointAngleProcessor(PROX, DIST, 50.0), frames)
    gaps = [r for r in records if r.measurement == "imu_gap"]
    assert len(gaps) == 1
    assert gaps[0].fields["duration_s"] == pytest.approx(2.0, abs=0.1)
    gap_start = REC.time_ns[1500]
    inside = [
        r for r in records if r.measurement == "joint_angle" and gap_start < r.time_ns < gap_start + 1.9e9
    ]
    assert inside == []


_ANGLE = np.r_[np.zeros(100), 5 + 20 * (1 - np.cos(2 * np.pi * np.arange(0, 40, 0.1) / 4)), np.full(300, 5.0)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=10))
def test_chunked_rom_equals_batch(sizes: list[int]) -> None:
    t0 = 1_764_000_000 * 10**9 + 55 * 10**9  # a window boundary falls inside the set
    batch = range_of_motion(_ANGLE, 10.0, t0, 10.0)
    proc = RomProcessor(10.0, t0, 10.0)
    records, start, j = [], 0, 0
    while start < len(_ANGLE):
        records += proc.update(_ANGLE[start : start + sizes[j % len(sizes)]])
        start += sizes[j % len(sizes)]
        j += 1
    records += proc.flush()
    assert _sorted(records) == _sorted(batch)
    assert [r.fields["reps"] for r in batch if r.tags["period"] == "set"] == [10]


_SPASM_REC = generate_motion("ankle", duration_s=60, sample_rate_hz=52, n_spasms=5, seed=23)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=10))
def test_chunked_movement_spasms_equal_batch(sizes: list[int]) -> None:
    gyr = _SPASM_REC.gyr_dist_dps
    batch = detect_movement_spasms(_SPASM_REC.acc_dist_g, gyr, 52.0, _SPASM_REC.t0_ns)
    detector = MovementSpasmDetector(52.0, _SPASM_REC.t0_ns)
    events, start, j = [], 0, 0
    while start < len(gyr):
        events += detector.update(gyr[start : start + sizes[j % len(sizes)]])
        start += sizes[j % len(sizes)]
        j += 1
    assert events + detector.flush() == batch
    assert len(batch) == 5


def test_movement_spasm_processor_emits_spasm_event_records() -> None:
    proc = MovementSpasmProcessor(DIST.gyr, "left ankle", tags={"side": "left"})
    frames = [f for f in _frames(_SPASM_REC, [64]) if f.stream == DIST.gyr]
    records = _run(proc, frames)
    assert len(records) == 5
    assert all(r.measurement == "spasm_event" for r in records)
    assert all(r.fields["imu_peak_dps"] > 100 for r in records)
    assert all(r.tags["location"] == "left ankle" and r.tags["side"] == "left" for r in records)


def test_a_clock_step_restarts_the_movement_detector_on_the_new_time_line() -> None:
    """A device clock step (+1 h) with no sample lost: the events after it carry the new
    stamps, as the EMG detector's do, instead of running on the old line an hour off."""
    step_ns = 3600 * NS_PER_S
    frames = [f for f in _frames(_SPASM_REC, [64]) if f.stream == DIST.gyr]
    half = len(frames) // 2
    stepped = frames[:half] + [replace(f, t0_ns=f.t0_ns + step_ns) for f in frames[half:]]
    plain = _run(MovementSpasmProcessor(DIST.gyr, "left ankle"), frames)
    moved = _run(MovementSpasmProcessor(DIST.gyr, "left ankle"), stepped)
    after_ns = frames[half].t0_ns
    assert [r.time_ns for r in moved if r.time_ns < after_ns] == [
        r.time_ns for r in plain if r.time_ns < after_ns
    ]
    later = [r.time_ns for r in plain if r.time_ns >= after_ns + NS_PER_S]
    assert later  # events well after the step, whichever side of a restart they fall
    moved_ns = [r.time_ns for r in moved]
    # The same onsets an hour on (to a ns of rounding: the restart counts from a new origin).
    assert all(any(abs(m - (t + step_ns)) <= 1 for m in moved_ns) for t in later)


def test_memory_stays_flat_over_a_long_stream() -> None:
    proc = JointAngleProcessor(PROX, DIST, 50.0)
    for frame in _frames(REC, [25]):
        proc.process(frame)
    buffered = sum(t.size for t in proc._aligner._times)
    assert buffered <= 4 * 26
    assert proc._n_pending == 0
