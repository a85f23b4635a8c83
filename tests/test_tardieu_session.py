"""The guided Tardieu step: generated sessions through the real IMU pipeline, in frames."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.dsp.imu import calibrate_joint, orientation
from monitor.dsp.imu.calibration import JointCalibration
from monitor.dsp.imu.streaming import SegmentStreams
from monitor.dsp.imu.tardieu_session import GuidedTardieu, Step, Verdict
from monitor.synth.tardieu import TardieuSession, TrialPlan, default_spasticity, generate_tardieu_session
from monitor.types import NS_PER_S, Frame, SensorKind, StreamId

PROX = SegmentStreams(StreamId("thigh", "acc"), StreamId("thigh", "gyr"))
DIST = SegmentStreams(StreamId("shank", "acc"), StreamId("shank", "gyr"))
EMG = StreamId("hamstrings", "emg")
FRAME_S = 0.2


def calibration_of(session: TardieuSession) -> JointCalibration:
    """The calibration a guided `spasm-monitor calibrate` would have stored (the session's routine)."""
    rate = session.imu_rate_hz
    return calibrate_joint(
        orientation(session.acc_prox_g, session.gyr_prox_dps, rate),
        orientation(session.acc_dist_g, session.gyr_dist_dps, rate),
        rate,
        neutral_s=session.neutral_s,
        calibration_s=session.calibration_s,
    )


def frames(session: TardieuSession, *, emg: bool, drop_s: tuple[float, float] | None = None) -> list[Frame]:
    """The session from the rest after its calibration routine, as interleaved wearable frames."""
    out: list[Frame] = []
    rate, emg_rate = session.imu_rate_hz, session.emg_rate_hz
    first_s, end_s = session.calibration_s, session.angle_deg.size / rate
    imu = [
        (PROX.gyr, SensorKind.GYR, session.gyr_prox_dps),
        (PROX.acc, SensorKind.ACC, session.acc_prox_g),
        (DIST.gyr, SensorKind.GYR, session.gyr_dist_dps),
        (DIST.acc, SensorKind.ACC, session.acc_dist_g),
    ]
    for start_s in np.arange(first_s, end_s, FRAME_S):
        if drop_s is not None and drop_s[0] <= start_s < drop_s[1]:
            continue  # a BLE drop of both IMUs
        lo, hi = round(start_s * rate), min(round((start_s + FRAME_S) * rate), round(end_s * rate))
        t0_ns = session.t0_ns + round(lo * NS_PER_S / rate)
        for stream, kind, data in imu:
            out.append(Frame(stream, kind, rate, t0_ns, lo, hi - 1, data[lo:hi]))
        if emg:
            e_lo, e_hi = round(start_s * emg_rate), round(min(start_s + FRAME_S, end_s) * emg_rate)
            e_t0 = session.t0_ns + round(e_lo * NS_PER_S / emg_rate)
            samples = session.emg_mv[e_lo:e_hi, None]
            out.append(Frame(EMG, SensorKind.EMG, emg_rate, e_t0, e_lo, e_hi - 1, samples))
    return out


def run(session: TardieuSession, *, emg: bool, **kwargs: object) -> tuple[GuidedTardieu, list[Verdict]]:
    test = GuidedTardieu(
        PROX,
        DIST,
        session.imu_rate_hz,
        session.joint,
        calibration_of(session),
        emg_device=EMG.device if emg else None,
        **kwargs,  # type: ignore[arg-type]
    )
    verdicts: list[Verdict] = []
    for frame in frames(session, emg=emg):
        verdicts += test.process(frame)
    return test, verdicts


@pytest.mark.parametrize("joint", ["knee", "elbow", "ankle"])
def test_guided_session_with_emg_measures_r1_and_r2_near_truth(joint: str) -> None:
    session = generate_tardieu_session(joint, default_spasticity(joint, 0.6), seed=7)  # type: ignore[arg-type]
    test, verdicts = run(session, emg=True, slow_trials=2, fast_trials=3)
    assert test.step is Step.DONE, test.error
    assert [v.counted for v in verdicts] == [True] * 5
    result = test.result()
    assert result is not None
    assert result.catch_source == "emg"
    assert result.catches == 3
    true_r2 = float(np.median([t.r2_deg for t in session.trials if t.speed == "slow"]))
    true_r1 = float(np.median([t.r1_deg for t in session.trials if t.r1_deg is not None]))
    assert abs(result.r2_deg - true_r2) <= 4.0
    assert result.r1_deg is not None
    assert abs(result.r1_deg - true_r1) <= 6.0
    assert result.r2_minus_r1_deg is not None
    assert result.r2_minus_r1_deg > 0
    assert "catch at" in verdicts[-1].message


def test_too_slow_fast_stretch_is_told_and_not_counted() -> None:
    plan = (
        TrialPlan("slow", 20.0),
        TrialPlan("slow", 18.0),
        TrialPlan("fast", 90.0),
        TrialPlan("fast", 280.0),
        TrialPlan("fast", 300.0),
    )
    session = generate_tardieu_session("knee", plan=plan, seed=3)
    test, verdicts = run(session, emg=True, slow_trials=2, fast_trials=2)
    slow_fast = [v for v in verdicts if not v.counted]
    assert len(slow_fast) == 1
    assert slow_fast[0].message.startswith("too slow for a fast stretch: ")
    assert "move faster" in slow_fast[0].message
    assert test.step is Step.DONE
    assert len(test.counted("fast")) == 2


def test_fast_stretch_while_slow_ones_are_asked_is_not_counted() -> None:
    plan = (TrialPlan("slow", 20.0), TrialPlan("fast", 280.0), TrialPlan("slow", 18.0))
    session = generate_tardieu_session("knee", plan=plan, seed=4)
    test, verdicts = run(session, emg=False, slow_trials=2, fast_trials=1)
    assert [v.counted for v in verdicts] == [True, False, True]
    assert "too fast for a slow stretch" in verdicts[1].message
    assert test.step is Step.FAST


def test_no_stretch_fails_with_a_reason_after_the_timeout() -> None:
    plan = (TrialPlan("slow", 20.0),)
    session = generate_tardieu_session("knee", plan=plan, seed=5)
    test, _ = run(session, emg=False, slow_trials=2, step_timeout_s=10.0)
    assert test.step is Step.FAILED
    assert test.error == "saw 1 of 2 slow stretches that counted"


def test_gap_restarts_the_filters_and_keeps_counted_trials() -> None:
    session = generate_tardieu_session("knee", seed=7)
    test = GuidedTardieu(PROX, DIST, session.imu_rate_hz, "knee", calibration_of(session), slow_trials=2)
    first_fast_s = (session.trials[2].onset_ns - session.t0_ns) / NS_PER_S
    for frame in frames(session, emg=False, drop_s=(first_fast_s - 3.0, first_fast_s - 2.0)):
        test.process(frame)
    assert test.restarts == 1
    assert len(test.counted("slow")) == 2
    assert test.step is Step.DONE, test.error


def test_bad_arguments_are_one_line_errors() -> None:
    session = generate_tardieu_session("knee", plan=(TrialPlan("slow", 20.0),), seed=1)
    with pytest.raises(ValueError, match="slow_trials >= 1"):
        GuidedTardieu(PROX, DIST, 100.0, "knee", calibration_of(session), slow_trials=0)
    with pytest.raises(ValueError, match=">= 50 Hz"):
        GuidedTardieu(PROX, DIST, 25.0, "knee", calibration_of(session))
