"""The synthetic EMG generator: reproducible, calibrated, with the artefacts it promises."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from monitor.synth import EmgScenario, generate_emg
from monitor.types import SPASM_KINDS


def test_same_seed_same_signal_and_truth() -> None:
    a = generate_emg(EmgScenario(duration_s=60.0, seed=3))
    b = generate_emg(EmgScenario(duration_s=60.0, seed=3))
    c = generate_emg(EmgScenario(duration_s=60.0, seed=4))
    assert np.array_equal(a.emg_mv, b.emg_mv)
    assert a.spasms == b.spasms
    assert not np.array_equal(a.emg_mv, c.emg_mv)


@pytest.mark.parametrize("rate_hz", [1000.0, 200.0])
def test_shape_rate_and_kinds(rate_hz: float) -> None:
    rec = generate_emg(EmgScenario(duration_s=600.0, seed=1, sample_rate_hz=rate_hz, channels=3))
    assert rec.emg_mv.shape == (round(600 * rate_hz), 3)
    assert {s.channel for s in rec.spasms} == {0, 1, 2}
    assert {s.kind for s in rec.spasms} == set(SPASM_KINDS)
    for spasm in rec.spasms:
        assert 0.0 < spasm.onset_s < spasm.offset_s <= 600.0
        if spasm.kind == "tonic":
            assert 1.0 <= spasm.duration_s <= 60.0
        elif spasm.kind == "clonus":
            assert 2.0 <= spasm.duration_s <= 30.0
            assert spasm.clonus_hz is not None
            assert 3.0 <= spasm.clonus_hz <= 8.0
        elif spasm.kind == "myoclonic":
            assert 0.05 <= spasm.duration_s <= 0.5


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_snr_is_the_weakest_spasm_over_the_rest_noise(snr_db: float) -> None:
    scenario = replace(
        EmgScenario(duration_s=600.0, seed=2, snr_db=snr_db, kinds=("tonic",)).clean(), mains_hz=None
    )
    rec = generate_emg(scenario)
    amplitudes = [s.amplitude_mv for s in rec.spasms]
    floor_mv = scenario.noise_rms_mv * 10 ** (snr_db / 20)
    assert min(amplitudes) >= floor_mv
    assert max(amplitudes) <= floor_mv * scenario.intensity_span
    assert max(amplitudes) / min(amplitudes) > 3  # intensities spread over the span
    # Measured: the RMS of a plateau (middle third of a tonic spasm) matches its amplitude.
    fs = rec.sample_rate_hz
    for spasm in rec.spasms:
        third = spasm.duration_s / 3
        lo, hi = round((spasm.onset_s + third) * fs), round((spasm.offset_s - third) * fs)
        rms = float(np.sqrt(np.mean(rec.emg_mv[lo:hi, 0] ** 2)))
        expected = np.hypot(spasm.amplitude_mv, scenario.noise_rms_mv)
        assert rms == pytest.approx(expected, rel=0.25)


def test_spectrum_peaks_where_surface_emg_does() -> None:
    rec = generate_emg(EmgScenario(duration_s=120.0, seed=5, kinds=("tonic",), snr_db=40.0).clean())
    spasm = max(rec.spasms, key=lambda s: s.duration_s)
    lo, hi = round(spasm.onset_s * 1000) + 300, round(spasm.offset_s * 1000) - 300
    segment = rec.emg_mv[lo:hi, 0]
    power = np.abs(np.fft.rfft(segment * np.hanning(segment.size))) ** 2
    freqs = np.fft.rfftfreq(segment.size, 1e-3)
    smoothed = np.convolve(power, np.ones(200) / 200, mode="same")
    assert 50.0 < freqs[np.argmax(smoothed)] < 120.0
    median_hz = freqs[np.searchsorted(np.cumsum(power), power.sum() / 2)]
    assert 60.0 < median_hz < 150.0  # sEMG median frequency on limb muscles


def test_artefacts_are_where_the_truth_says() -> None:
    scenario = EmgScenario(
        duration_s=600.0, seed=6, electrode_off_per_hour=20.0, motion_spikes_per_min=2.0, full_scale_mv=1.0
    )
    rec = generate_emg(scenario)
    kinds = {a.kind for a in rec.artefacts}
    assert kinds == {"electrode_off", "motion_spike", "clipping"}
    x = rec.emg_mv[:, 0]
    for artefact in rec.artefacts:
        lo, hi = round(artefact.onset_s * 1000), round(artefact.offset_s * 1000)
        if artefact.kind == "electrode_off":
            assert np.ptp(x[lo:hi]) == 0.0
            assert not any(
                s.onset_s < artefact.offset_s and artefact.onset_s < s.offset_s for s in rec.spasms
            )
        elif artefact.kind == "clipping":
            assert np.all(np.abs(x[lo:hi]) == 1.0)
        else:
            assert np.ptp(x[lo:hi]) > 0.5
    assert np.max(np.abs(x)) <= 1.0


def test_mains_hum_sits_at_the_mains_frequency() -> None:
    rec = generate_emg(EmgScenario(duration_s=20.0, seed=1, spasms_per_min=0.0, mains_hz=60.0, mains_mv=0.05))
    power = np.abs(np.fft.rfft(rec.emg_mv[:, 0])) ** 2
    freqs = np.fft.rfftfreq(rec.emg_mv.shape[0], 1e-3)
    band = freqs > 5
    assert freqs[band][np.argmax(power[band])] == pytest.approx(60.0, abs=0.1)


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="sample_rate_hz"):
        EmgScenario(sample_rate_hz=50.0)
    with pytest.raises(ValueError, match="kinds"):
        EmgScenario(kinds=("spastic",))  # type: ignore[arg-type]


# Conditions added after the detector was tuned (issue 12): each does what it says.

QUIET = dict(spasms_per_min=0.0, mains_hz=None, wander_mv=0.0, motion_spikes_per_min=0.0,
             impedance_drift=0.0, electrode_off_per_hour=0.0, full_scale_mv=None)  # fmt: skip


def window_rms(x: np.ndarray, rate_hz: float, window_s: float) -> np.ndarray:
    n = round(window_s * rate_hz)
    m = x.size // n
    return np.sqrt(np.mean(x[: m * n].reshape(m, n) ** 2, axis=1))


def test_floor_drift_swings_the_rest_noise_by_its_ratio_on_the_minute_scale() -> None:
    sc = EmgScenario(duration_s=1200.0, seed=5, sample_rate_hz=200.0, floor_drift_ratio=3.0, **QUIET)
    rms = window_rms(generate_emg(sc).emg_mv[:, 0], 200.0, 5.0)
    assert rms.max() <= 1.1 * sc.noise_rms_mv  # snr_db holds at the floor's highest
    assert rms.max() / rms.min() >= 2.0  # a real swing, up to x3
    # Smooth: neighbouring 5 s windows differ by far less than the whole swing.
    assert np.max(np.abs(np.diff(np.log(rms)))) < np.log(3.0) / 4


def test_dense_rest_artefacts_are_slow_swings_in_rest_only() -> None:
    sc = EmgScenario(duration_s=300.0, seed=6, rest_artefacts_per_s=1.25, **{**QUIET, "spasms_per_min": 3.0})
    rec = generate_emg(sc)
    knocks = [a for a in rec.artefacts if a.kind == "motion_spike"]
    assert 0.5 * 1.25 * 300 <= len(knocks) <= 1.25 * 300 * 1.2
    for knock in knocks:
        assert 1 / 15 - 1e-9 <= knock.duration_s <= 1 / 3 + 1e-9
        assert not any(
            s.onset_s - 1.0 < knock.offset_s and knock.onset_s < s.offset_s + 1.0 for s in rec.spasms
        )
    # Their power lies below the EMG band: under 20 Hz.
    x = rec.emg_mv[:, 0]
    f = np.fft.rfftfreq(x.size, 1 / sc.sample_rate_hz)
    power = np.abs(np.fft.rfft(x - generate_emg(replace(sc, rest_artefacts_per_s=0.0)).emg_mv[:, 0])) ** 2
    assert power[f < 20].sum() > 0.8 * power.sum()


def clonic_beat_times_s(rec_scenario: EmgScenario) -> tuple[np.ndarray, float, float]:
    rec = generate_emg(rec_scenario)
    spasm = rec.spasms[0]
    fs = rec_scenario.sample_rate_hz
    lo, hi = round(spasm.onset_s * fs), round(spasm.offset_s * fs)
    envelope = np.convolve(rec.emg_mv[lo:hi, 0] ** 2, np.ones(20) / 20, mode="same")
    active = envelope > 0.05 * envelope.max()
    starts = np.flatnonzero(np.diff(active.astype(int)) == 1) / fs
    assert spasm.clonus_hz is not None
    return starts, spasm.duration_s, spasm.clonus_hz


def test_clonus_slows_at_its_start_and_end_and_keeps_its_rate_between() -> None:
    sc = EmgScenario(duration_s=60.0, seed=2, kinds=("clonus",), clonus_duration_s=(20.0, 20.0),
                     clonus_slowing_hz=2.0, snr_db=40.0, **{**QUIET, "spasms_per_min": 1.0})  # fmt: skip
    starts, duration_s, rate_hz = clonic_beat_times_s(sc)
    periods = np.diff(starts)
    middle = periods[(starts[:-1] > 4.0) & (starts[:-1] < duration_s - 4.0)]
    assert 1 / np.median(middle) == pytest.approx(rate_hz, rel=0.05)
    first_rate = 1 / periods[0]
    assert first_rate == pytest.approx(max(rate_hz - 2.0, 2.0), abs=0.3)


def test_long_plateaus_and_long_clonus_last_as_long_as_asked() -> None:
    long = EmgScenario(duration_s=900.0, seed=3, kinds=("tonic", "clonus"), tonic_duration_s=(30.0, 60.0),
                       clonus_duration_s=(30.0, 90.0), spasms_per_min=1.0)  # fmt: skip
    spasms = generate_emg(long).spasms
    assert spasms
    for s in spasms:
        low, high = long.tonic_duration_s if s.kind == "tonic" else long.clonus_duration_s
        assert low <= s.duration_s <= high
