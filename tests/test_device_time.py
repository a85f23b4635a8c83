"""Device time through the real session: bad timestamps, clock steps, outliers.

A simulated Polar H10 (ACC 200 Hz in frames of 36, ECG 130 Hz in frames of 73) is fed
through :class:`~monitor.collect.session.DeviceSession`'s notification path with the
profile's own decoder. Arrival times are given (the callback stamps them with the wall
clock; here they are simulated, so an hour-long clock step takes no hour): each frame
arrives 5-25 ms after its last sample. What a user would check: every sample sent is
received or in a gap record, no gap where nothing was lost, and every frame stamped
within :data:`STAMP_BOUND_MS` of the true UTC of its first sample.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from devices.polar.pmd import DATA_UUID, MeasurementType
from devices.polar.profile import PolarStreamDecoder
from emulators.polar_wire import raw_frame
from monitor.collect import CollectorConfig, DeviceConfig, FrameQueue
from monitor.collect.clock import MAX_REJECTED_IN_A_ROW, DeviceClock
from monitor.collect.session import DeviceSession
from monitor.dsp.windows import UtcWindows
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

UTC0_NS = 1_800_000_000 * NS_PER_S  # true UTC of sample 0 (2027)
DEVICE0_NS = 850_000_000 * NS_PER_S  # the H10's local time then, ns since 2000-01-01 (PMD)
HOUR_NS = 3600 * NS_PER_S
LATENCY_NS = 5_000_000  # the link's floor
JITTER_NS = 20_000_000  # on top of it, uniform
# The fit of arrivals alone carries the latency floor (5 ms); a fit restarted at a step
# starts from its first arrival (5-25 ms late). A broken path is off by seconds or hours.
STAMP_BOUND_MS = 50.0
STREAMS = {"acc": (MeasurementType.ACC, 200.0, 36, 0x01, 3), "ecg": (MeasurementType.ECG, 130.0, 73, 0x00, 1)}
ADDRESS = "F1:00:00:00:0A:10"


@dataclass
class Sent:
    """One notification as the simulated device sent it, with its truth."""

    arrival_ns: int
    payload: bytes
    stream: str
    first_utc_ns: int
    n: int


def _h10(duration_s: float, *, step_at_s: float | None = None, step_ns: int = 0, seed: int = 0) -> list[Sent]:
    """Frames of both streams over ``duration_s``; the device clock steps by ``step_ns`` at ``step_at_s``."""
    rng = random.Random(seed)
    sent: list[Sent] = []
    for stream, (kind, rate_hz, n, frame_type, channels) in STREAMS.items():
        values = np.arange(n * channels, dtype=np.int64).reshape(n, channels) % 100
        for first in range(0, int(duration_s * rate_hz) - n, n):
            last_offset_ns = round((first + n - 1) * NS_PER_S / rate_hz)
            device_ns = DEVICE0_NS + last_offset_ns
            if step_at_s is not None and last_offset_ns >= step_at_s * NS_PER_S:
                device_ns += step_ns  # the device stamps its samples in its (stepped) local time
            arrival_ns = UTC0_NS + last_offset_ns + LATENCY_NS + rng.randrange(JITTER_NS)
            first_utc_ns = UTC0_NS + round(first * NS_PER_S / rate_hz)
            sent.append(
                Sent(arrival_ns, raw_frame(kind, device_ns, frame_type, values), stream, first_utc_ns, n)
            )
    return sorted(sent, key=lambda s: s.arrival_ns)


def _session() -> DeviceSession:
    device = DeviceConfig(address=ADDRESS, profile="polar")
    session = DeviceSession(device, CollectorConfig((device,)), FrameQueue(1_000_000))
    # What PolarProfile.start returns for an H10 (ACC 200 Hz, ECG 130 Hz, no FACTOR).
    session._decoder = PolarStreamDecoder(
        {MeasurementType.ACC: (200.0, None), MeasurementType.ECG: (130.0, None)}
    )
    return session


def _feed(session: DeviceSession, sent: list[Sent]) -> list[Frame | Record]:
    """The notification path after its arrival stamp, then the session's closing record."""
    for notification in sent:
        session._decode(DATA_UUID, notification.payload, notification.arrival_ns)
    session._put_session_record()
    items: list[Frame | Record] = []
    while (item := session.queue.get_nowait()) is not None:
        items.append(item)
    return items


def _records(items: list[Frame | Record], measurement: str) -> list[Record]:
    return [i for i in items if isinstance(i, Record) and i.measurement == measurement]


def _check_samples_and_stamps(items: list[Frame | Record], sent: list[Sent], skipped: int = 0) -> None:
    """Every sample received or in a gap; no gap beyond ``skipped`` samples; stamps near truth."""
    frames = [i for i in items if isinstance(i, Frame)]
    gaps = _records(items, "ble_gap")
    for stream in STREAMS:
        stream_sent = [s for s in sent if s.stream == stream]
        received = [f for f in frames if f.stream.sensor == stream]
        gap_samples = sum(int(g.fields["samples"]) for g in gaps if g.tags["stream"] == stream)
        assert sum(f.n_samples for f in received) + gap_samples == sum(s.n for s in stream_sent), stream
        assert gap_samples <= skipped, f"{stream}: {gap_samples} samples in false gaps"
        truth = {s.first_utc_ns for s in stream_sent}
        errors_ms = [min(abs(f.t0_ns - t) for t in truth) / 1e6 for f in received]
        assert max(errors_ms) < STAMP_BOUND_MS, f"{stream}: stamps off by up to {max(errors_ms):.0f} ms"
        stamps = np.array([f.t0_ns for f in received])
        period_ns = received[0].n_samples * NS_PER_S / received[0].sample_rate_hz
        steps_ms = np.diff(stamps) / 1e6
        assert np.all(steps_ms > period_ns / 1e6 - STAMP_BOUND_MS), f"{stream}: stamps go back"


@pytest.mark.parametrize("bad_ns", [0, 2**63 - 1, 2**64 - 1], ids=["zero", "int64-max", "uint64-max"])
def test_a_frame_with_an_impossible_timestamp_is_counted_and_the_stream_goes_on(bad_ns: int) -> None:
    sent = _h10(20.0)
    index = next(
        i for i, s in enumerate(sent) if s.stream == "acc" and s.arrival_ns > UTC0_NS + 10 * NS_PER_S
    )
    bad = sent[index]
    payload = bad.payload[:1] + bad_ns.to_bytes(8, "little") + bad.payload[9:]
    sent[index] = Sent(bad.arrival_ns, payload, "acc", bad.first_utc_ns, bad.n)
    session = _session()
    items = _feed(session, sent)  # before: ValueError in Frame stamping, or frames stamped in 2053
    malformed = _records(items, "ble_malformed")
    assert len(malformed) == 1
    assert session.stats.malformed == 1
    # The bad frame's samples are the one recorded gap; everything else is stamped true.
    _check_samples_and_stamps(items, sent, skipped=bad.n)
    gap = _records(items, "ble_gap")
    assert [int(g.fields["samples"]) for g in gap] == [bad.n]


@pytest.mark.parametrize(
    "step_ns",
    [-HOUR_NS, HOUR_NS, 10 * NS_PER_S, -5 * NS_PER_S],
    ids=["back-1h", "forward-1h", "forward-10s", "back-5s"],
)
def test_a_device_clock_step_keeps_every_sample_with_no_false_gap(step_ns: int) -> None:
    """Daylight saving time or a phone's time sync steps PMD time (the device's local time).

    10 s ahead is within what the decoder would count as lost frames; 5 s back within what
    the counters would take for repeats.
    """
    sent = _h10(40.0, step_at_s=20.0, step_ns=step_ns, seed=1)
    session = _session()
    items = _feed(session, sent)
    _check_samples_and_stamps(items, sent)
    assert not _records(items, "ble_gap")
    assert not _records(items, "ble_malformed")
    (record,) = _records(items, "ble_session")
    assert (record.fields["duplicates"], record.fields["time_steps"]) == (0, 1)


def test_frames_held_over_a_step_are_stamped_from_all_their_arrivals() -> None:
    """The first frames after a step arrive 70 ms late (the gateway busy at a reconnect).

    The frames held until the step is confirmed (a second of them) are fitted together
    before any is stamped: none carries the delay of the first ones, and none goes back in time.
    """
    sent = _h10(40.0, step_at_s=20.0, step_ns=-HOUR_NS, seed=4)
    step_utc_ns = UTC0_NS + 20 * NS_PER_S
    rate_hz = {stream: spec[1] for stream, spec in STREAMS.items()}
    # Frames whose last sample is past the step carry stepped stamps.
    after_step = [s for s in sent if s.first_utc_ns + (s.n - 1) * NS_PER_S / rate_hz[s.stream] >= step_utc_ns]
    busy_until_ns = min(s.arrival_ns for s in after_step) + 70_000_000
    for item in after_step:  # queued while the gateway was busy, then delivered together
        item.arrival_ns = max(item.arrival_ns, busy_until_ns)
    sent.sort(key=lambda s: s.arrival_ns)
    items = _feed(_session(), sent)
    _check_samples_and_stamps(items, sent)
    after = [i for i in items if isinstance(i, Frame) and i.t0_ns >= step_utc_ns - NS_PER_S]
    truth = {stream: [s.first_utc_ns for s in sent if s.stream == stream] for stream in STREAMS}
    # Each frame against its own stream's truths (ACC frames 180 ms apart, ECG 560 ms).
    errors_ms = [min(abs(f.t0_ns - t) for t in truth[f.stream.sensor]) / 1e6 for f in after]
    # An arrival's own delay is at most the floor plus the jitter (25 ms) unless held up.
    assert max(errors_ms) < (LATENCY_NS + JITTER_NS) / 1e6, f"stamped up to {max(errors_ms):.1f} ms off"


@pytest.mark.parametrize(
    "offset_ns", [24 * HOUR_NS, -10 * 365 * 24 * HOUR_NS], ids=["a-day-ahead", "ten-years-back"]
)
def test_one_frame_stamped_far_off_is_dropped_as_an_outlier_and_shows_as_a_gap(offset_ns: int) -> None:
    sent = _h10(20.0, seed=2)
    index = next(
        i for i, s in enumerate(sent) if s.stream == "acc" and s.arrival_ns > UTC0_NS + 10 * NS_PER_S
    )
    bad = sent[index]
    stamp_ns = int.from_bytes(bad.payload[1:9], "little") + offset_ns
    payload = bad.payload[:1] + stamp_ns.to_bytes(8, "little") + bad.payload[9:]
    sent[index] = Sent(bad.arrival_ns, payload, "acc", bad.first_utc_ns, bad.n)
    session = _session()
    items = _feed(session, sent)
    (malformed,) = _records(items, "ble_malformed")
    assert malformed.fields["error"] == "DeviceTimeOutlier"
    assert [int(g.fields["samples"]) for g in _records(items, "ble_gap")] == [bad.n]
    _check_samples_and_stamps(items, sent, skipped=bad.n)
    assert session.stats.time_steps == 0


def test_a_stalled_gateway_delivering_late_is_no_clock_step() -> None:
    """Three seconds without notifications, then the backlog at once: late, not stepped."""
    sent = _h10(20.0, seed=3)
    stall_from, stall_to = UTC0_NS + 8 * NS_PER_S, UTC0_NS + 11 * NS_PER_S
    for item in sent:
        if stall_from <= item.arrival_ns < stall_to:
            item.arrival_ns = stall_to + (item.arrival_ns - stall_from) // 1000  # in order, within 3 ms
    session = _session()
    items = _feed(session, sent)
    _check_samples_and_stamps(items, sent)
    assert not _records(items, "ble_gap")
    assert not _records(items, "ble_malformed")
    assert session.stats.time_steps == 0


def test_the_clock_fit_leaves_out_a_far_off_arrival_and_round_trip_then_follows_a_lasting_one() -> None:
    clock = DeviceClock()
    ms = 1_000_000
    for k in range(300):  # 3 s of packets every 10 ms, each 5 ms after its last sample
        clock.add(k * 10 * ms, UTC0_NS + k * 10 * ms + 5 * ms)
    line_ns = clock.to_utc_ns(4 * NS_PER_S)
    assert (
        clock.add(3 * NS_PER_S + HOUR_NS, UTC0_NS + 3 * NS_PER_S + 5 * ms) is False
    )  # stamped an hour ahead
    clock.add_sync([(3 * NS_PER_S + HOUR_NS, UTC0_NS + 3 * NS_PER_S, UTC0_NS + 3 * NS_PER_S + ms)])
    assert clock.to_utc_ns(4 * NS_PER_S) == line_ns
    assert clock.sync_bound_ns is None
    assert clock.rejected_points == 2
    # A clock that stays an hour ahead is the new line once enough points agree on it.
    for k in range(MAX_REJECTED_IN_A_ROW + 10):
        device_ns = HOUR_NS + (310 + k) * 10 * ms
        clock.add(device_ns, UTC0_NS + device_ns - HOUR_NS + 5 * ms)
    assert abs(clock.to_utc_ns(HOUR_NS + 4 * NS_PER_S) - (UTC0_NS + 4 * NS_PER_S)) < 10 * ms


def test_a_frame_beyond_int64_ns_is_a_value_error_in_the_dsp_windows() -> None:
    frame = Frame(StreamId(ADDRESS, "acc"), SensorKind.ACC, 200.0, 2**63 - 1, 0, 0, np.zeros((36, 3)))
    with pytest.raises(ValueError, match="outside int64"):  # was OverflowError, which ended the run
        UtcWindows(60.0).add(frame)
