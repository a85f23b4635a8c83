"""A spasm's core: the part of an event that stands against its own peak."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.dsp import detect_spasms
from monitor.dsp.extent import CoreRule, core_extent
from monitor.types import NS_PER_S

RATE_HZ = 100.0
RULE = CoreRule(share_of_peak=0.1, clonic_gap=40, merge_gap=100, min_long=30, lead=30, lag=30)


def envelope(*segments: tuple[float, float, float], n: int = 800) -> np.ndarray:
    """A floor of 1 with (start_s, stop_s, level) segments on it, at 100 Hz."""
    x = np.ones(n)
    for start_s, stop_s, level in segments:
        x[round(start_s * RATE_HZ) : round(stop_s * RATE_HZ)] = level
    return x


def test_weak_tone_before_and_relaxation_after_a_strong_burst_are_cut() -> None:
    x = envelope((0.0, 1.5, 3.0), (1.5, 2.5, 150.0), (2.5, 4.0, 6.0))
    assert core_extent(x, RULE) == (150 - 30, 250 + 30)


def test_clonic_beats_are_joined_across_their_gaps() -> None:
    beats = [(1.0 + 0.3 * k, 1.1 + 0.3 * k, 80.0) for k in range(8)]
    x = envelope(*beats)
    start, stop = core_extent(x, RULE)
    assert (start, stop) == (100 - 30, 320 + 30)  # last beat 3.1-3.2 s


def test_a_heartbeat_blip_far_before_the_burst_does_not_stretch_it() -> None:
    x = envelope((0.5, 0.6, 20.0), (1.5, 2.5, 150.0))
    assert core_extent(x, RULE)[0] == 150 - 30


def test_a_second_burst_within_the_merge_gap_stays_part_of_the_spasm() -> None:
    x = envelope((1.0, 2.0, 150.0), (2.8, 3.6, 60.0))
    assert core_extent(x, RULE) == (100 - 30, 360 + 30)


def test_nothing_is_cut_from_a_moderate_spasm() -> None:
    x = envelope((1.0, 2.0, 8.0))  # a tenth of the peak is under the floor's own level
    assert core_extent(x, RULE) == (0, x.size)


@pytest.mark.parametrize("seed", range(3))
def test_detector_times_a_strong_burst_without_its_surrounding_tone(seed: int) -> None:
    """Tone at 3x the floor for 2 s, a 1 s burst at 150x, then 2 s of relaxation at 5x."""
    rate_hz = 1000.0
    rng = np.random.default_rng(seed)
    gain = np.ones(int(14 * rate_hz))
    t = np.arange(gain.size) / rate_hz
    gain[(t >= 6) & (t < 8)] = 3.0
    gain[(t >= 8) & (t < 9)] = 150.0
    gain[(t >= 9) & (t < 11)] = 5.0
    emg = 0.01 * gain * rng.standard_normal(gain.size)
    events = detect_spasms(emg, rate_hz)
    assert len(events) == 1
    onset_s, offset_s = events[0].onset_ns / NS_PER_S, events[0].offset_ns / NS_PER_S
    assert 7.6 <= onset_s <= 8.05
    assert 8.95 <= offset_s <= 9.45


def test_a_short_strong_burst_within_the_merge_gap_stays_part_of_the_spasm() -> None:
    """BioSPPy's third contraction: a 0.2 s burst at two thirds of the peak, 0.5 s before it."""
    x = envelope((1.0, 1.2, 100.0), (1.7, 2.0, 150.0))
    assert core_extent(x, RULE)[0] == 100 - 30


def test_every_event_ends_after_it_starts_even_a_burst_of_a_few_envelope_samples() -> None:
    """Found by bench/accuracy.py: an ECG blip of 5 envelope samples ended 40 ms before it began."""
    from monitor.synth import EmgScenario, generate_emg

    scenario = EmgScenario(sample_rate_hz=200.0, duration_s=600.0, seed=31987, snr_db=30.0, ecg_mv=0.05)
    events = detect_spasms(generate_emg(scenario).emg_mv, 200.0, full_scale_mv=6.0)
    assert events
    assert all(e.offset_ns > e.onset_ns for e in events)
