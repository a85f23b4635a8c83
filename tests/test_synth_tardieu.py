"""The Tardieu generator: order of events, latencies, truth where the velocity drops."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.synth.tardieu import (
    TrialPlan,
    default_spasticity,
    generate_tardieu_session,
    spasticity_on_day,
)
from monitor.types import NS_PER_S

FAST = (TrialPlan("slow", 20.0), TrialPlan("fast", 300.0), TrialPlan("fast", 300.0))


@pytest.mark.parametrize("joint", ["knee", "elbow", "ankle"])
def test_reflex_events_come_in_order_with_physiological_delays(joint: str) -> None:
    session = generate_tardieu_session(joint, plan=FAST, seed=3)  # type: ignore[arg-type]
    for trial in session.trials[1:]:
        assert trial.threshold_ns is not None
        assert trial.emg_onset_ns is not None
        assert trial.catch_ns is not None
        latency_ms = (trial.emg_onset_ns - trial.threshold_ns) / 1e6
        delay_ms = (trial.catch_ns - trial.emg_onset_ns) / 1e6
        assert 29.0 <= latency_ms <= 51.0
        assert 29.0 <= delay_ms <= 61.0
        assert trial.onset_ns < trial.threshold_ns < trial.catch_ns < trial.end_ns


def test_r1_truth_is_where_the_velocity_drops_below_the_carers_plan() -> None:
    sp = default_spasticity("knee", 0.5)
    with_catch = generate_tardieu_session("knee", sp, plan=(TrialPlan("fast", 300.0),), seed=4)
    without = generate_tardieu_session("knee", sp, plan=(TrialPlan("fast", 300.0, 0.0),), seed=4)
    trial = with_catch.trials[0]
    assert trial.catch_ns is not None
    assert trial.r1_deg is not None
    catch = round((trial.catch_ns - with_catch.t0_ns) * with_catch.imu_rate_hz / NS_PER_S)
    speed = np.abs(np.gradient(with_catch.angle_deg)) * with_catch.imu_rate_hz
    plan = np.abs(np.gradient(without.angle_deg)) * without.imu_rate_hz
    # Identical up to the catch (same seed, same draws), then at least 20 % slower.
    np.testing.assert_allclose(speed[catch - 5 : catch - 1], plan[catch - 5 : catch - 1], atol=1.0)
    assert speed[catch + 4] < 0.8 * plan[catch + 4]
    assert trial.r1_deg == pytest.approx(with_catch.angle_deg[catch], abs=3.0)


def test_no_reflex_trials_have_no_catch_and_slow_trials_end_at_r2() -> None:
    session = generate_tardieu_session(
        "elbow", plan=(TrialPlan("slow", 15.0), TrialPlan("fast", 300.0, 0.0)), seed=5
    )
    slow, fast = session.trials
    assert slow.r2_deg == pytest.approx(session.spasticity.r2_deg)
    assert slow.catch_ns is None
    assert slow.emg_onset_ns is None
    assert fast.catch_ns is None
    assert fast.r1_deg is None
    assert fast.emg_onset_deg is None
    assert 250.0 <= fast.peak_velocity_dps <= 350.0


def test_botox_moves_r1_towards_r2_over_a_cycle() -> None:
    base = default_spasticity("knee", 0.5)
    r1 = {}
    for day in (None, 35.0, 120.0):
        sp = spasticity_on_day(base, day)
        session = generate_tardieu_session("knee", sp, plan=(TrialPlan("fast", 300.0),), seed=6)
        r1[day] = session.trials[0].r1_deg
    assert r1[None] is not None
    assert r1[35.0] is not None
    assert r1[120.0] is not None
    # Knee flexors are stretched towards 0°: a later catch is a smaller angle.
    assert r1[35.0] < r1[None] - 3.0  # type: ignore[operator]
    assert r1[120.0] == pytest.approx(r1[None])


def test_bad_plan_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="speed"):
        generate_tardieu_session("knee", plan=(TrialPlan("fast", 0.0),))
    with pytest.raises(ValueError, match="joint"):
        generate_tardieu_session("hip")  # type: ignore[arg-type]
