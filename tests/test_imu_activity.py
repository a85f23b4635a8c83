"""Per-minute activity of one IMU (``movement`` records), and what it does for the offline alert."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import AlertEngine
from monitor.config import parse_config
from monitor.dsp.imu.activity import MovementActivity
from monitor.pipeline import Pipeline
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

GYR = StreamId("A0:9E:1A:00:00:01", "gyr")
RATE_HZ = 52.0
T0_NS = 1_764_000_000 * NS_PER_S + 17 * NS_PER_S  # not on a minute: the first window is partial


def _still(n: int, seed: int) -> npt.NDArray[np.float64]:
    """A limb at rest: gyroscope bias and noise of a few deg/s."""
    rng = np.random.default_rng(seed)
    return np.array([0.8, -0.5, 0.3]) + rng.normal(0.0, 1.0, (n, 3))


def _frames(samples: npt.NDArray[np.float64], sizes: list[int], t0_ns: int = T0_NS) -> list[Frame]:
    frames, start, seq = [], 0, 0
    for size in sizes:
        chunk = samples[start : start + size]
        if not len(chunk):
            break
        t0 = t0_ns + round(start * NS_PER_S / RATE_HZ)
        frames.append(Frame(GYR, SensorKind.GYR, RATE_HZ, t0, seq, seq, chunk))
        start, seq = start + size, seq + 1
    return frames


def _run(activity: MovementActivity, frames: list[Frame]) -> list[Record]:
    return [r for f in frames for r in activity.process(f)] + activity.flush()


def test_time_in_motion_and_rms_speed_per_utc_minute() -> None:
    # 3 minutes from hh:mm:17; the limb turns at 90 deg/s for 20 s from the 110th second.
    n = round(180 * RATE_HZ)
    gyr = _still(n, seed=1)
    turning = slice(round(110 * RATE_HZ), round(130 * RATE_HZ))
    gyr[turning] = [90.0, 0.0, 0.0]
    records = _run(MovementActivity(GYR), _frames(gyr, [36] * 400))
    minute_ns = 60 * NS_PER_S
    assert [r.time_ns for r in records] == [
        (T0_NS // minute_ns + k) * minute_ns for k in range(4)
    ]  # 43 s, 60 s, 60 s and 17 s of the recording
    assert [r.fields["covered_s"] for r in records] == pytest.approx(
        [43.0, 60.0, 60.0, 17.0], abs=1 / RATE_HZ
    )
    # Seconds 110-130 of the recording fall in the second full minute (recording s 103-163).
    assert [r.fields["active_s"] for r in records] == pytest.approx([0.0, 0.0, 20.0, 0.0], abs=2 / RATE_HZ)
    rms = [float(r.fields["gyro_rms_dps"]) for r in records]
    assert rms[2] == pytest.approx(np.sqrt((20 * 90.0**2 + 40 * 3.0) / 60), rel=0.02)
    assert max(rms[0], rms[1], rms[3]) < 3.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60), st.integers(0, 10_000))
def test_any_chunking_gives_the_batch_records(sizes: list[int], seed: int) -> None:
    n = round(150 * RATE_HZ)
    gyr = _still(n, seed)
    gyr[round(40 * RATE_HZ) : round(70 * RATE_HZ)] *= 40.0
    batch = _run(MovementActivity(GYR), _frames(gyr, [n]))
    chunked = _run(MovementActivity(GYR), _frames(gyr, [*sizes, n]))
    assert [r.time_ns for r in chunked] == [r.time_ns for r in batch]
    for got, want in zip(chunked, batch, strict=True):
        assert got.fields == pytest.approx(want.fields)


def test_a_gap_leaves_no_window_and_partial_windows_say_so() -> None:
    before = _frames(_still(round(30 * RATE_HZ), 2), [52] * 30, t0_ns=0)
    after = _frames(_still(round(30 * RATE_HZ), 3), [52] * 30, t0_ns=210 * NS_PER_S)  # 3 min later
    records = _run(MovementActivity(GYR), before + after)
    assert [(r.time_ns // NS_PER_S, r.fields["covered_s"]) for r in records] == [(0, 30.0), (180, 30.0)]


def test_bad_settings_and_foreign_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="window_s"):
        MovementActivity(GYR, window_s=0)
    with pytest.raises(ValueError, match="motion_threshold_dps"):
        MovementActivity(GYR, motion_threshold_dps=-1)
    acc = Frame(StreamId(GYR.device, "acc"), SensorKind.ACC, RATE_HZ, 0, 0, 0, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="gyroscope"):
        MovementActivity(GYR).process(acc)


def test_a_still_imu_only_wearer_is_not_reported_offline_but_a_silent_one_is() -> None:
    """A Verity Sense on a calm patient writes no events; its minutes keep it 'online'."""
    config = parse_config(
        {
            "patient": {"id": "p03"},
            "device": [{"profile": "polar", "address": GYR.device, "placement": "thigh", "side": "left"}],
        }
    )
    pipeline, engine = Pipeline(config), AlertEngine()
    still_45_min = _frames(_still(round(45 * 60 * RATE_HZ), 4), [36] * 4000)
    connected = Record("ble_status", T0_NS, {"state": "connected"}, {"device": GYR.device})
    alerts = [a for r in pipeline.process(connected) for a in engine.process(r)]
    movement = []
    for frame in still_45_min:
        alerts += engine.tick(frame.t0_ns)  # the live engine's clock runs on, records or not
        for record in pipeline.process(frame):
            alerts += engine.process(record)
            movement += [record] if record.measurement == "movement" else []
    assert len(movement) == 45
    assert all(r.tags["device"] == GYR.device for r in movement)
    assert alerts == []  # 45 still minutes, no events, no alert
    # Then the wearable goes silent: 31 minutes later the engine's clock reports it.
    last_ns = still_45_min[-1].t0_ns
    alerts = engine.tick(last_ns + 31 * 60 * NS_PER_S)
    assert [(a.rule, a.device) for a in alerts] == [("device_offline", GYR.device)]
