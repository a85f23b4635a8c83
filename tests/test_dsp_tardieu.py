"""tardieu_trials on seeded simulated sessions, through the real IMU pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from bench.tardieu_accuracy import measure
from monitor.dsp.imu import tardieu_trials
from monitor.synth.tardieu import TrialPlan, default_spasticity, generate_tardieu_session

PLAN = (TrialPlan("slow", 20.0), TrialPlan("fast", 300.0), TrialPlan("fast", 85.0), TrialPlan("fast", 320.0))


@pytest.fixture(scope="module")
def knee_session():  # type: ignore[no-untyped-def]
    return generate_tardieu_session(
        "knee", default_spasticity("knee", 0.5), plan=PLAN, noise="typical", seed=11
    )


def test_recovers_r2_and_r1_within_target_with_emg(knee_session) -> None:  # type: ignore[no-untyped-def]
    measured = measure(knee_session, with_emg=True)
    assert [(m.speed, m.scored) for m in measured] == [
        ("slow", True),
        ("fast", True),
        ("fast", False),
        ("fast", True),
    ]
    truth = knee_session.trials
    assert measured[0].r2_deg == pytest.approx(truth[0].r2_deg, abs=3.0)
    for m, t in ((measured[1], truth[1]), (measured[3], truth[3])):
        assert m.catch_source == "emg"
        assert m.r1_deg == pytest.approx(t.r1_deg, abs=3.0)


def test_too_slow_fast_trial_is_reported_unscored(knee_session) -> None:  # type: ignore[no-untyped-def]
    slow_fast = measure(knee_session, with_emg=True)[2]
    assert not slow_fast.scored
    assert slow_fast.r1_deg is None
    assert slow_fast.reason.startswith("too slow for a fast stretch")


def test_emg_onset_is_earlier_than_r1_by_velocity_times_delay(knee_session) -> None:  # type: ignore[no-untyped-def]
    trial = measure(knee_session, with_emg=True)[1]
    assert trial.emg_onset_deg is not None
    assert trial.r1_deg is not None
    # Knee flexors stretch towards 0°: the EMG comes at a larger angle. 30-60 ms at ~300 °/s.
    lead_deg = trial.emg_onset_deg - trial.r1_deg
    assert 0.02 * trial.peak_velocity_dps <= lead_deg <= 0.08 * trial.peak_velocity_dps


def test_no_reflex_trials_have_no_catch_with_emg() -> None:
    plan = (TrialPlan("fast", 300.0, 0.0), TrialPlan("fast", 260.0, 0.0))
    session = generate_tardieu_session("elbow", plan=plan, noise="high", seed=12)
    measured = measure(session, with_emg=True)
    assert len(measured) == 2
    assert all(m.catch_source is None and m.r1_deg is None for m in measured)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"angle_deg": np.zeros((10, 2))}, "shape"),
        ({"angle_deg": np.array([0.0, np.nan, 1.0])}, "NaN"),
        ({"angle_rate_hz": 20.0}, "angle_rate_hz"),
        ({"emg_mv": np.zeros(1000)}, "emg_rate_hz"),
        ({"emg_mv": np.zeros(10), "emg_rate_hz": 1000.0}, "same time"),
        ({"emg_rate_hz": 1000.0}, "without emg_mv"),
        ({"stretch_sign": 2}, "stretch_sign"),
    ],
)
def test_bad_input_is_a_one_line_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"angle_deg": np.zeros(500), "angle_rate_hz": 100.0} | kwargs
    with pytest.raises(ValueError, match=message):
        tardieu_trials(**args)  # type: ignore[arg-type]
