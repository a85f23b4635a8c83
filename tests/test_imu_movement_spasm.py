"""Movement spasms: jerks are found, voluntary movement is not."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.dsp.imu import detect_movement_spasms
from monitor.synth.motion import generate_motion

TOLERANCE_NS = 200_000_000


@pytest.mark.parametrize(
    ("joint", "rate_hz", "noise"),
    [("knee", 100.0, "typical"), ("elbow", 50.0, "high"), ("ankle", 52.0, "low")],
)
def test_jerks_are_found_among_exercise_and_walking(joint: str, rate_hz: float, noise: str) -> None:
    rec = generate_motion(joint, duration_s=200, sample_rate_hz=rate_hz, noise=noise, n_spasms=6, seed=41)  # type: ignore[arg-type]
    found = detect_movement_spasms(rec.acc_dist_g, rec.gyr_dist_dps, rate_hz, rec.t0_ns, location=joint)
    matched = [
        next(
            (
                f
                for f in found
                if f.onset_ns < s.offset_ns + TOLERANCE_NS and f.offset_ns > s.onset_ns - TOLERANCE_NS
            ),
            None,
        )
        for s in rec.spasms
    ]
    assert sum(m is not None for m in matched) >= len(rec.spasms) - 1  # recall
    assert len(found) <= len(rec.spasms) + 1  # precision
    for true, got in zip(rec.spasms, matched, strict=True):
        if got is not None:
            assert got.imu_peak_dps == pytest.approx(true.imu_peak_dps, rel=0.35)
            assert got.peak_mv is None
            assert got.location == joint


def test_voluntary_movement_alone_gives_no_spasms() -> None:
    rec = generate_motion("knee", duration_s=240, n_sets=3, n_spasms=0, walking=True, seed=42)
    assert detect_movement_spasms(rec.acc_dist_g, rec.gyr_dist_dps, 100.0, rec.t0_ns) == []


def test_bad_shapes_are_named() -> None:
    with pytest.raises(ValueError, match="same shape"):
        detect_movement_spasms(np.zeros((5, 3)), np.zeros((4, 3)), 100.0)
