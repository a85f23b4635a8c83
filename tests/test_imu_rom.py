"""Repetition counts and range of motion against generated ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.dsp.imu import count_repetitions, joint_angle_deg, range_of_motion
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S


@pytest.mark.parametrize(
    ("joint", "rate_hz", "seed"), [("knee", 100.0, 31), ("elbow", 52.0, 32), ("ankle", 50.0, 33)]
)
def test_sets_reps_and_rom_match_ground_truth(joint: str, rate_hz: float, seed: int) -> None:
    rec = generate_motion(joint, duration_s=200, sample_rate_hz=rate_hz, seed=seed)  # type: ignore[arg-type]
    angle = joint_angle_deg(
        rec.acc_prox_g, rec.gyr_prox_dps, rec.acc_dist_g, rec.gyr_dist_dps, rate_hz, joint
    )
    found = count_repetitions(angle, rate_hz)
    t = rec.time_ns
    assert len(found) == len(rec.sets)
    for true, got in zip(rec.sets, found, strict=True):
        assert t[got.start_index] < true.end_ns
        assert t[got.end_index] > true.start_ns
        assert got.reps == true.n_reps
        assert got.min_deg == pytest.approx(true.min_deg, abs=3.0)
        assert got.max_deg == pytest.approx(true.max_deg, abs=3.0)


def test_walking_and_spasm_jerks_are_not_counted_as_repetitions() -> None:
    rec = generate_motion("knee", duration_s=150, n_sets=0, n_spasms=6, walking=True, seed=34)
    found = count_repetitions(rec.angle_deg, rec.sample_rate_hz)
    assert [s.reps for s in found] == [3]  # only the calibration flexions


def test_rom_records_per_window_hour_day_and_set() -> None:
    rec = generate_motion("elbow", duration_s=180, n_sets=2, seed=35)
    records = range_of_motion(
        rec.angle_deg, rec.sample_rate_hz, rec.t0_ns, 30.0, joint="elbow", tags={"side": "right"}
    )
    by_period: dict[str, list[object]] = {}
    for r in records:
        assert r.measurement == "rom"
        assert r.tags["joint"] == "elbow"
        assert r.tags["side"] == "right"
        by_period.setdefault(r.tags["period"], []).append(r)
    windows = [r for r in records if r.tags["period"] == "window"]
    assert all(r.time_ns % (30 * NS_PER_S) == 0 for r in windows)
    assert len(by_period["day"]) == 1
    assert len(by_period["hour"]) == 1
    true_reps = sum(s.n_reps for s in rec.sets)
    for period in ("window", "hour", "day", "set"):
        assert sum(r.fields["reps"] for r in records if r.tags["period"] == period) == true_reps
    (day,) = [r for r in records if r.tags["period"] == "day"]
    assert day.fields["max_deg"] == pytest.approx(rec.angle_deg.max())
    assert day.fields["range_deg"] == pytest.approx(np.ptp(rec.angle_deg))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"window_s": 7.0}, "divide an hour"), ({"joint": "hip"}, "joint must be one of")],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        range_of_motion(np.zeros(10), 10.0, **kwargs)  # type: ignore[arg-type]
