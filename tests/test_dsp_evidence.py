"""EMG spasms gain the IMU's movement evidence when both sensors saw the spasm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.dsp import attach_imu_evidence, detect_movement_spasms
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S, SpasmEvent


def emg_event(onset_ns: int, duration_s: float) -> SpasmEvent:
    return SpasmEvent(
        onset_ns, onset_ns + round(duration_s * NS_PER_S), "myoclonic", 0, 0.3, 0.2, 30.0, 20.0, 0.01, 0.05
    )


def test_emg_spasms_gain_the_peak_angular_velocity_of_the_jerk_they_caused() -> None:
    rec = generate_motion("knee", duration_s=180.0, n_spasms=4, seed=3)
    imu = detect_movement_spasms(rec.acc_dist_g, rec.gyr_dist_dps, rec.sample_rate_hz, rec.t0_ns)
    assert len(imu) >= 3
    # EMG leads the movement by about 60 ms (electromechanical delay).
    emg = [emg_event(e.onset_ns - 60_000_000, 0.4) for e in imu[:-1]]
    stray = emg_event(rec.t0_ns + 5 * NS_PER_S, 0.3)  # an EMG spasm that did not move the limb
    matched, imu_only = attach_imu_evidence([*emg, stray], imu)
    for event, jerk in zip(matched, imu[:-1], strict=False):
        assert event.imu_peak_dps == jerk.imu_peak_dps
        assert event.onset_ns == jerk.onset_ns - 60_000_000  # EMG timing is kept
    assert matched[-1].imu_peak_dps is None
    assert imu_only == [imu[-1]]
    true_peaks = sorted(s.imu_peak_dps for s in rec.spasms if s.imu_peak_dps is not None)
    assert max(e.imu_peak_dps or 0.0 for e in matched) <= 1.2 * true_peaks[-1]


def test_the_largest_of_several_jerks_is_kept() -> None:
    base = emg_event(10 * NS_PER_S, 2.0)
    jerks = [
        replace(emg_event(10 * NS_PER_S + k * NS_PER_S // 2, 0.2), imu_peak_dps=peak)
        for k, peak in enumerate((150.0, 420.0, 90.0))
    ]
    matched, imu_only = attach_imu_evidence([base], jerks)
    assert matched[0].imu_peak_dps == 420.0
    assert imu_only == []


def test_bad_arguments_are_refused() -> None:
    event = emg_event(0, 1.0)
    with pytest.raises(ValueError, match="max_lag_s"):
        attach_imu_evidence([event], [], max_lag_s=-1.0)
    with pytest.raises(ValueError, match="imu_peak_dps"):
        attach_imu_evidence([event], [event])
