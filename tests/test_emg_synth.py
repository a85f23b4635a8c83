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
