"""Orientation speed: µs per sample, beside imufusion's and ahrs' per-sample Python loops.

Run: ``.venv/bin/python bench/imu_speed.py``

All three filter the same generated 100 Hz IMU recording in the same run; ours in one
batch call (a numba kernel, compiled and cached before timing), the peers one sample per
Python call as their APIs require. Best of three repeats.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imu_peers import ahrs_madgwick_orientation, imufusion_orientation

from monitor.dsp.imu import joint_angle_deg, orientation
from monitor.synth.motion import generate_motion

FloatArray = npt.NDArray[np.float64]


def per_sample_us(
    source: Callable[[FloatArray, FloatArray, float], FloatArray],
    acc: FloatArray,
    gyr: FloatArray,
    rate_hz: float,
    repeats: int = 3,
) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        source(acc, gyr, rate_hz)
        best = min(best, time.perf_counter() - start)
    return best / len(acc) * 1e6


def main() -> None:
    rec = generate_motion("knee", duration_s=600, sample_rate_hz=100.0, seed=3)
    acc, gyr, rate = rec.acc_dist_g, rec.gyr_dist_dps, rec.sample_rate_hz
    orientation(acc[:10], gyr[:10], rate)  # compile (or load the cached kernel)
    ours = per_sample_us(orientation, acc, gyr, rate)
    fusion = per_sample_us(imufusion_orientation, acc[:60_000], gyr[:60_000], rate)
    madgwick = per_sample_us(ahrs_madgwick_orientation, acc[:6_000], gyr[:6_000], rate, 1)
    print(f"orientation, {len(acc)} samples at {rate:g} Hz (peers on a prefix):")
    print(f"  spasm-monitor (numba batch)     {ours:8.3f} µs/sample")
    print(f"  imufusion (Python loop, C core) {fusion:8.3f} µs/sample  ({fusion / ours:5.1f}× ours)")
    print(f"  ahrs Madgwick (Python loop)     {madgwick:8.3f} µs/sample  ({madgwick / ours:5.0f}× ours)")
    print(
        f"  targets: <= imufusion ({'met' if ours <= fusion else 'MISSED'}), "
        f">= 20× faster than ahrs ({'met' if madgwick / ours >= 20 else 'MISSED'})"
    )
    start = time.perf_counter()
    joint_angle_deg(rec.acc_prox_g, rec.gyr_prox_dps, acc, gyr, rate, "knee")
    seconds = time.perf_counter() - start
    print(
        f"whole joint angle (2 IMUs, calibration, hinge), 10 min: {seconds * 1e3:.1f} ms "
        f"= {600 / seconds:,.0f}× real time"
    )


if __name__ == "__main__":
    main()
