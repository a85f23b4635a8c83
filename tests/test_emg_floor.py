"""Properties of the resting floor and the detection built on it (hypothesis).

Signals here are written apart from monitor.synth: band-limited noise whose level a
gain curve sets, so each property holds on a signal the detector was not tuned on.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal

from monitor.dsp import detect_spasms
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S

FloatArray = npt.NDArray[np.float64]
RATES_HZ = st.sampled_from([200.0, 1000.0, 2048.0])
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def muscle_noise(n: int, rate_hz: float, rng: np.random.Generator) -> FloatArray:
    """Unit-RMS noise shaped like surface EMG (band 20-150 Hz, clipped to Nyquist)."""
    high = min(150.0, 0.45 * rate_hz)
    sos = signal.butter(2, [20.0, high], btype="bandpass", fs=rate_hz, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal(n))
    result: FloatArray = x / np.std(x)
    return result


@SETTINGS
@given(
    rate_hz=RATES_HZ,
    ratio=st.sampled_from([3.0, 1 / 3.0]),
    ramp_s=st.floats(60.0, 240.0),
    seed=st.integers(0, 2**16),
)
def test_a_drifting_floor_without_bursts_gives_no_event(
    rate_hz: float, ratio: float, ramp_s: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    duration_s = ramp_s + 40.0
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    gain = np.interp(t, [20.0, 20.0 + ramp_s], [1.0, ratio])  # x3 up or down over 1-4 min
    emg = 0.01 * gain * muscle_noise(t.size, rate_hz, rng)
    assert detect_spasms(emg, rate_hz) == []


@SETTINGS
@given(
    rate_hz=RATES_HZ,
    plateau_s=st.floats(5.0, 60.0),
    level=st.floats(3.5, 30.0),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_a_held_contraction_is_one_event_on_every_channel(
    rate_hz: float, plateau_s: float, level: float, channels: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(round((plateau_s + 30.0) * rate_hz)) / rate_hz
    onset_s = 15.0
    # A contraction rises within 0.2 s and holds, its level wandering +-20 % as force does.
    rise = np.clip((t - onset_s) / 0.2, 0.0, 1.0) * (t < onset_s + plateau_s)
    wander = 1.0 + 0.2 * np.sin(2 * np.pi * 0.3 * t)
    gain = 1.0 + (level * wander - 1.0) * rise
    emg = np.stack([0.01 * gain * muscle_noise(t.size, rate_hz, rng) for _ in range(channels)], axis=1)
    events = detect_spasms(emg, rate_hz)
    for ch in range(channels):
        mine = [e for e in events if e.channel == ch]
        assert len(mine) == 1, [(e.onset_ns / NS_PER_S, e.duration_s) for e in mine]
        assert abs(mine[0].onset_ns / NS_PER_S - onset_s) < 0.25  # within the 0.2 s rise
        assert mine[0].duration_s > 0.95 * plateau_s


@SETTINGS
@given(exponent=st.integers(-3, 3), rate_hz=st.sampled_from([200.0, 1000.0]), seed=st.integers(0, 50))
def test_events_do_not_depend_on_the_input_scale(exponent: int, rate_hz: float, seed: int) -> None:
    rec = generate_emg(EmgScenario(duration_s=60.0, seed=seed, sample_rate_hz=rate_hz, snr_db=20.0))
    reference = detect_spasms(rec.emg_mv, rate_hz)
    scaled = detect_spasms(rec.emg_mv * 10.0**exponent, rate_hz)
    assert len(scaled) == len(reference)
    for a, b in zip(reference, scaled, strict=True):
        assert abs(a.onset_ns - b.onset_ns) <= NS_PER_S / rate_hz
        assert a.kind == b.kind


def test_a_recording_that_starts_inside_a_contraction_recovers_within_seconds() -> None:
    rate_hz = 1000.0
    rng = np.random.default_rng(3)
    t = np.arange(round(40.0 * rate_hz)) / rate_hz
    gain = np.where(t < 6.0, 12.0, 1.0)  # mid-contraction at the first sample, relaxes at 6 s
    gain = gain * np.where((t >= 12.0) & (t < 13.0), 8.0, 1.0)  # a spasm 6 s later
    events = detect_spasms(0.01 * gain * muscle_noise(t.size, rate_hz, rng), rate_hz)
    assert [round(e.onset_ns / NS_PER_S) for e in events] == [12]
