"""Spasm morphology and features from the envelope of one event.

Morphologies after Thomas et al. 2014 (J Electromyogr Kinesiol 24:747):

- myoclonic (their "myoclonus": a brief burst): shorter than ``myoclonic_max_s``. Their
  "unit" class (single motor units firing) is not a short spasm: surface EMG cannot
  resolve single units, so it is never produced (docs/clinical.md);
- clonus: the envelope beats at one rhythm in 3–8 Hz through most of the event;
- tonic: sustained, without such a rhythm;
- mixed: both a clonic and a tonic stretch.

A window is clonic when the rhythm (and its first harmonic) holds at least
``clonus_min_score`` of the envelope's modulation power in 0.5–20 Hz. A tonic envelope
spreads its fluctuation over that whole band, scoring about 0.1.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.dsp.params import EmgParams
from monitor.types import SpasmKind

FloatArray = npt.NDArray[np.floating]

MODULATION_BAND_HZ = (0.5, 20.0)
RHYTHM_HALF_WIDTH_HZ = 0.5
# Zero-padding to at least this many points puts spectral bins below 0.03 Hz at 100 Hz,
# for the rhythm's frequency; judging whether a window is rhythmic needs only 0.1 Hz.
MIN_FFT_POINTS = 4096
SCORE_FFT_POINTS = 1024
# Share of clonic windows above which a spasm is clonus, below which it is tonic.
CLONUS_SHARE = 0.7
TONIC_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Morphology:
    kind: SpasmKind
    clonus_hz: float | None


def classify_envelope(envelope_mv: FloatArray, rate_hz: float, params: EmgParams) -> Morphology:
    """Classify one spasm from its RMS envelope.

    Parameters
    ----------
    envelope_mv : ndarray, shape (m,)
        RMS envelope from onset to offset, mV.
    rate_hz : float
        Envelope sample rate, Hz.
    params : EmgParams

    Returns
    -------
    Morphology
        Kind, and the clonic rhythm in Hz for clonus and mixed spasms.
    """
    duration_s = envelope_mv.size / rate_hz
    if duration_s < params.myoclonic_max_s:
        return Morphology("myoclonic", None)
    window = min(envelope_mv.size, round(params.clonus_window_s * rate_hz))
    hop = max(1, window // 2)
    starts = np.arange(0, envelope_mv.size - window + 1, hop)
    segments = envelope_mv[starts[:, None] + np.arange(window)]  # (windows, window) copies
    scores = _rhythm_scores(segments, rate_hz, params)
    clonic = scores >= params.clonus_min_score
    share = float(clonic.mean())
    if share <= TONIC_SHARE and not (clonic.size <= 2 and clonic.any()):
        return Morphology("tonic", None)
    first = int(starts[np.argmax(clonic)])
    last = int(starts[len(clonic) - 1 - np.argmax(clonic[::-1])]) + window
    rhythm_hz = _rhythm_hz(envelope_mv[first:last], rate_hz, params)
    kind: SpasmKind = "clonus" if share >= CLONUS_SHARE or clonic.size <= 2 else "mixed"
    return Morphology(kind, rhythm_hz)


def _spectra(segments: FloatArray, rate_hz: float, min_points: int) -> tuple[FloatArray, FloatArray]:
    n = segments.shape[-1]
    n_fft = max(min_points, 1 << (4 * n - 1).bit_length())
    centred = segments - segments.mean(axis=-1, keepdims=True)
    tapered = centred * _hanning(n)
    power = np.abs(np.fft.rfft(tapered, n_fft, axis=-1)) ** 2
    return _rfft_frequencies(n_fft, rate_hz), power


# The windows that score a spasm's rhythm share one length and FFT size: computed once.
@functools.lru_cache(maxsize=4)
def _hanning(n: int) -> FloatArray:
    window = np.hanning(n)
    window.flags.writeable = False
    return window


@functools.lru_cache(maxsize=4)
def _rfft_frequencies(n_fft: int, rate_hz: float) -> FloatArray:
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate_hz)
    freqs.flags.writeable = False
    return freqs


def _rhythm_scores(segments: FloatArray, rate_hz: float, params: EmgParams) -> FloatArray:
    freqs, power = _spectra(segments, rate_hz, SCORE_FFT_POINTS)
    low, high = params.clonus_band_hz
    band = (freqs >= low) & (freqs <= high)
    peak_hz = freqs[band][np.argmax(power[:, band], axis=1)]
    near_fundamental = np.abs(freqs[None, :] - peak_hz[:, None]) <= RHYTHM_HALF_WIDTH_HZ
    near_harmonic = np.abs(freqs[None, :] - 2 * peak_hz[:, None]) <= RHYTHM_HALF_WIDTH_HZ
    modulation = (freqs >= MODULATION_BAND_HZ[0]) & (freqs <= MODULATION_BAND_HZ[1])
    rhythm = np.sum(power * ((near_fundamental | near_harmonic) & modulation), axis=1)
    total = np.sum(power * modulation, axis=1)
    scores: FloatArray = rhythm / np.maximum(total, 1e-30)
    return scores


def _rhythm_hz(envelope_mv: FloatArray, rate_hz: float, params: EmgParams) -> float:
    """Frequency of the rhythm, refined by parabolic interpolation of the log spectrum."""
    freqs, power = _spectra(envelope_mv[None, :], rate_hz, MIN_FFT_POINTS)
    spectrum = power[0]
    low, high = params.clonus_band_hz
    band = np.flatnonzero((freqs >= low) & (freqs <= high))
    k = int(band[np.argmax(spectrum[band])])
    if 0 < k < spectrum.size - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-30)
        denominator = a - 2 * b + c
        shift = 0.5 * (a - c) / denominator if denominator != 0 else 0.0
        return float(freqs[k] + shift * (freqs[1] - freqs[0]))
    return float(freqs[k])
