"""The counter → UTC fit against closed-form truth: drift, jitter, interleaved streams."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.collect.clock import DeviceClock, device_time_ns
from monitor.types import NS_PER_S

T0_NS = 1_764_000_000 * NS_PER_S


def _run(
    drift_ppm: float, jitter_ms: float, seed: int, duration_s: float = 30.0
) -> tuple[DeviceClock, list[float]]:
    """EMG (25 samples at 1 kHz) and IMU (10 at 100 Hz) packets with uniform 0..2·jitter delays."""
    rng = np.random.default_rng(seed)
    last_samples = [device_time_ns(k + 24, 1000.0) for k in range(0, int(duration_s * 1000), 25)]
    last_samples += [device_time_ns(k + 9, 100.0) for k in range(0, int(duration_s * 100), 10)]
    scale = 1.0 / (1.0 + drift_ppm * 1e-6)  # a fast crystal: device time runs ahead of UTC
    arrivals = sorted((T0_NS + round(d * scale + rng.uniform(0.0, 2e6 * jitter_ms)), d) for d in last_samples)
    clock = DeviceClock()
    errors_ms = []
    for arrival_ns, device_ns in arrivals:
        clock.add(device_ns, arrival_ns)
        if device_ns > 10 * NS_PER_S:
            errors_ms.append((clock.to_utc_ns(device_ns) - (T0_NS + device_ns * scale)) / 1e6)
    return clock, errors_ms


@pytest.mark.parametrize("drift_ppm", [100.0, -100.0, 0.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_timestamps_within_1ms_of_truth_at_100ppm_and_20ms_jitter(drift_ppm: float, seed: int) -> None:
    clock, errors_ms = _run(drift_ppm, jitter_ms=20.0, seed=seed)
    assert max(abs(e) for e in errors_ms) < 1.0
    assert clock.drift_ppm == pytest.approx(drift_ppm, abs=40)


def test_arrival_time_stamps_would_be_40ms_off() -> None:
    """The oracle the fit beats: stamping by arrival spreads by the whole jitter range."""
    rng = np.random.default_rng(0)
    delays_ms = rng.uniform(0.0, 40.0, 1000)
    assert delays_ms.max() - delays_ms.min() > 35.0
    _, errors_ms = _run(100.0, jitter_ms=20.0, seed=0)
    assert max(errors_ms) - min(errors_ms) < 1.0


def test_exact_arrivals_converge_to_exact_times_and_drift() -> None:
    """On a young hull the crystal prior holds the slope back; over minutes it fades."""
    clock = DeviceClock()
    young_ppm = None
    for k in range(1, 1800):
        device_ns = k * NS_PER_S
        clock.add(device_ns, T0_NS + round(device_ns / (1 + 50e-6)))
        if k == 10:
            young_ppm = clock.drift_ppm
    assert young_ppm is not None
    assert 0.0 < young_ppm < 50.0  # 10 s: pulled towards no drift
    last_ns = 1799 * NS_PER_S
    assert clock.to_utc_ns(last_ns) == pytest.approx(T0_NS + last_ns / (1 + 50e-6), abs=5_000)
    assert clock.drift_ppm == pytest.approx(50.0, abs=0.05)


def _worst_error_with_a_busy_last_second_ms(seed: int) -> float:
    """8 s of 100 packets/s, 80 ppm fast, 0.6-20.6 ms delays, the last 1.5 s 3-5 ms later."""
    rng = np.random.default_rng(seed)
    clock = DeviceClock()
    worst_ms = 0.0
    for k in range(800):
        device_ns = k * 10_000_000
        true_ns = T0_NS + device_ns / (1 + 80e-6)
        delay_ns = 0.6e6 + rng.uniform(0.0, 20e6) + (3e6 + rng.uniform(0.0, 2e6) if k >= 650 else 0.0)
        clock.add(device_ns, round(true_ns + delay_ns))
        if k > 400:
            worst_ms = max(worst_ms, abs(clock.to_utc_ns(device_ns) - true_ns) / 1e6)
    return worst_ms


def test_a_busy_second_at_the_end_of_a_young_fit_tilts_it_little() -> None:
    """The hull ends on the latest point: late arrivals for a second (another wearable
    reconnecting) drag the edge spanning the mean up. The crystal prior holds the slope:
    over these 12 seeds the hull alone errs by up to 1.49 ms, with the prior by 1.23 ms."""
    assert max(_worst_error_with_a_busy_last_second_ms(seed) for seed in range(12)) < 1.3
