"""tardieu_trials on seeded simulated sessions, through the real IMU pipeline."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
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


def _fast_stretch(kind: str, loss: float = 0.3) -> tuple[npt.NDArray[np.float64], float]:
    """A knee's fast stretch, 90° to 10° in 0.5 s (a minimum-jerk bell peaking at 300 °/s),
    computed at 1 kHz and sampled at 100 Hz, and the true angle 0.31 s into it, where
    ``kind`` "catch" lowers the velocity by ``loss`` as a reflex does (a 25 ms rise, held
    100 ms, released over 40 ms), "dip" lowers it for 20 ms only (a carer's jitter, an
    angle correction), and "none" leaves the bell smooth."""
    fine_hz, duration_s, onset_s = 1000.0, 0.5, 0.31
    t = np.arange(round(3.0 * fine_hz)) / fine_hz
    s = np.clip((t - 1.0) / duration_s, 0.0, 1.0)
    velocity_dps = 80.0 / duration_s * 30 * s**2 * (1 - s) ** 2
    x = t - (1.0 + onset_s)
    rise, release = np.clip(x / 0.025, 0, 1), np.clip((x - 0.125) / 0.04, 0, 1)
    shape = {
        "catch": rise**2 * (3 - 2 * rise) * (1 - release**2 * (3 - 2 * release)),
        "dip": ((x >= 0) & (x < 0.02)).astype(float),
        "none": np.zeros_like(x),
    }[kind]
    angle = 90.0 - np.cumsum(velocity_dps * (1 - loss * shape)) / fine_hz
    return angle[::10], float(np.interp(1.0 + onset_s, t, angle))


def test_a_sustained_velocity_step_is_a_catch_at_its_onset() -> None:
    angle, onset_deg = _fast_stretch("catch")
    (trial,) = tardieu_trials(angle, 100.0, stretch_sign=-1)
    assert trial.speed == "fast"
    assert trial.scored
    assert trial.catch_source == "deceleration"
    assert trial.r1_deg == pytest.approx(onset_deg, abs=1.5)  # 5 ms at ~300 °/s


@pytest.mark.parametrize("kind", ["none", "dip"])
def test_a_smooth_stop_or_a_brief_dip_is_no_catch(kind: str) -> None:
    angle, _ = _fast_stretch(kind)
    (trial,) = tardieu_trials(angle, 100.0, stretch_sign=-1)
    assert trial.scored
    assert trial.r1_deg is None
    assert trial.catch_source is None


@pytest.mark.parametrize("joint", ["knee", "elbow", "ankle"])
def test_angle_alone_finds_catches_and_no_false_ones(joint: str) -> None:
    plan = (
        TrialPlan("slow", 18.0, 0.0),
        TrialPlan("fast", 300.0, 0.0),
        TrialPlan("fast", 260.0, 0.0),
        TrialPlan("fast", 280.0, 0.3),
        TrialPlan("fast", 340.0, 1.0),
    )
    session = generate_tardieu_session(joint, plan=plan, noise="high", seed=21)  # type: ignore[arg-type]
    measured = measure(session, with_emg=False)
    assert [m.speed for m in measured] == ["slow", "fast", "fast", "fast", "fast"]
    truth = session.trials
    assert measured[0].r2_deg == pytest.approx(truth[0].r2_deg, abs=1.0)
    assert [m.r1_deg is None for m in measured[1:3]] == [True, True]
    for m, t in zip(measured[3:], truth[3:], strict=True):
        assert m.catch_source == "deceleration"
        assert m.r1_deg == pytest.approx(t.r1_deg, abs=3.0)
