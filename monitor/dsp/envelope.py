"""RMS envelope at a decimated rate, plus the block statistics that artefact checks need.

The band-passed EMG is squared and averaged over blocks of ``decimation`` samples (a
boxcar, whose nulls fall exactly on the aliases), low-pass filtered at the envelope
rate and square-rooted: an RMS envelope in mV. Everything after this stage runs at the
envelope rate (about 100 Hz), ten times cheaper than the raw rate.

The block power of the EMG's first difference is kept too: with the block power it gives
the signal's RMS frequency (Rice), about 100–130 Hz for muscle at 1 kHz and below 50 Hz
for what a motion artefact leaves after the band-pass. Below 500 Hz that measure no
longer separates them, and the power of the raw signal below the EMG band (3 Hz up to it) is kept instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from monitor.dsp.conditioning import SosCascade
from monitor.dsp.params import EmgParams

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

# Band of the reference 1 kHz wearable, 20–450 Hz. A narrower band (200 Hz Myo: 20–90 Hz)
# gives the envelope fewer degrees of freedom per second, so it is smoothed for longer:
# by sqrt(reference / band), which keeps the envelope's relative noise the same.
REFERENCE_BANDWIDTH_HZ = 430.0
ECG_MEDIAN_S = 0.17
# From this rate up the RMS frequency of a burst tells muscle from motion artefact.
MOTION_RMS_FREQUENCY_MIN_RATE_HZ = 500.0
# Motion artefacts (electrode knocks, heel strikes, cable sway) hold their energy in
# about 1-20 Hz, which is why the EMG band starts at 20 Hz (De Luca et al. 2010, J Biomech
# 43:1573); muscle (zero-mean, f² spectrum at low frequency) holds almost none there. The
# motion band runs from this edge up to the EMG band's lower edge. Below 3 Hz lie
# respiration and posture wander (< 1 Hz) and the gait cadence (1-2 Hz), slow swings often
# 10-100x the resting floor that would vary the band's rest level from one second to the
# next; a knock, a transient of 30-300 ms, holds most of its energy above 3 Hz.
MOTION_BAND_LOW_HZ = 3.0
# Butterworth order of each edge of that band: 24 dB per octave keeps wander at 1 Hz
# 38 dB down.
MOTION_BAND_ORDER = 4


def decimation_for(sample_rate_hz: float, params: EmgParams) -> int:
    """Whole decimation factor from the sample rate to about ``envelope_rate_hz``."""
    return max(1, round(sample_rate_hz / params.envelope_rate_hz))


@dataclass(frozen=True)
class EnvelopeBlock:
    """Envelope-rate outputs for one processed chunk; arrays have shape (channels, m).

    Attributes
    ----------
    envelope_mv : RMS envelope of the band-passed EMG, mV.
    smooth_mv : the envelope after the detection moving average, mV.
    power_mv2 : mean square of the band-passed EMG within each block, mV².
    diff_power_mv2 : mean square of its first difference within each block, mV².
    lowband_power_mv2 : mean square of the raw signal's motion band (3 Hz to the EMG band), mV² (only below
        ``MOTION_RMS_FREQUENCY_MIN_RATE_HZ``; zeros above).
    flat : the raw signal did not move (summed steps at most ``flat_ptp_mv``): electrode off.
    clipped : a raw sample reached ``full_scale_mv``.
    nonfinite : a raw sample was NaN or inf.
    """

    envelope_mv: Float32Array
    smooth_mv: Float32Array
    power_mv2: Float32Array
    diff_power_mv2: Float32Array
    lowband_power_mv2: Float32Array
    flat: BoolArray
    clipped: BoolArray
    nonfinite: BoolArray


class EnvelopeStage:
    """Stateful decimating RMS envelope over (channels, n) blocks of any length."""

    def __init__(
        self, sample_rate_hz: float, channels: int, params: EmgParams, band_hz: tuple[float, float]
    ) -> None:
        self.decimation = decimation_for(sample_rate_hz, params)
        self.rate_hz = sample_rate_hz / self.decimation
        cutoff = min(params.envelope_lowpass_hz, 0.4 * self.rate_hz)
        self._lowpass = SosCascade(signal.butter(2, cutoff, fs=self.rate_hz, output="sos"), channels)
        bandwidth_hz = band_hz[1] - band_hz[0]
        smoothing_s = params.smoothing_s * np.sqrt(max(1.0, REFERENCE_BANDWIDTH_HZ / bandwidth_hz))
        self.smoothing_samples = max(1, round(smoothing_s * self.rate_hz))
        self._smooth_history = np.zeros((channels, self.smoothing_samples - 1), dtype=np.float32)
        # ECG suppression: a running median longer than twice a QRS complex (about 80 ms
        # after the high-pass) removes heartbeat blips from the envelope, and keeps any
        # burst longer than half the window.
        self._median_samples = round(ECG_MEDIAN_S * self.rate_hz) | 1 if params.ecg_suppression else 1
        self._median_history = np.zeros((channels, self._median_samples - 1), dtype=np.float32)
        self._lowband: SosCascade | None = None
        self._lowband_started = False
        if sample_rate_hz < MOTION_RMS_FREQUENCY_MIN_RATE_HZ:
            emg_band_low_hz = params.ecg_highpass_hz if params.ecg_suppression else params.highpass_hz
            lowband_sos = signal.butter(
                MOTION_BAND_ORDER, (MOTION_BAND_LOW_HZ, emg_band_low_hz), btype="bandpass",
                fs=sample_rate_hz, output="sos",
            )  # fmt: skip
            self._lowband = SosCascade(lowband_sos, channels)
        self._leftover: dict[str, Float32Array] = {}
        self._last_raw: Float32Array | None = None
        self._flat_ptp_mv = params.flat_ptp_mv
        self._clip_level_mv = None if params.full_scale_mv is None else 0.999 * params.full_scale_mv
        self._last_emg: Float32Array | None = None
        # Delay of a spasm edge in the envelope behind the muscle, s: the low-pass group
        # delay at low frequency. The causal moving average adds none to an *edge*: it
        # starts to rise with the first sample of a burst, and the edges are placed where
        # it leaves the resting spread (measured: onsets within a few ms at 20 dB).
        _, lowpass_delay = signal.group_delay(
            signal.sos2tf(self._lowpass.sos.astype(np.float64)), w=[0.5], fs=self.rate_hz
        )
        self.delay_s = float(lowpass_delay[0] / self.rate_hz)
        # A falling edge, though, leaves the moving average only once the whole window has
        # passed it.
        self.offset_delay_s = self.delay_s + (self.smoothing_samples - 1) / self.rate_hz
        # The low-pass and the moving average start from zero: until the window has filled
        # and the low-pass has settled (about two periods of its cut-off) the envelope
        # understates the signal, and says nothing about the resting floor.
        self.startup_samples = self.smoothing_samples + round(2.0 / cutoff * self.rate_hz)

    def process(self, raw: Float32Array, emg: Float32Array, nonfinite: BoolArray | None) -> EnvelopeBlock:
        """Reduce one conditioned chunk to envelope rate; a partial block is carried.

        Parameters
        ----------
        raw : ndarray, shape (channels, n)
            Raw EMG, mV (non-finite samples already repaired).
        emg : ndarray, shape (channels, n)
            Band-passed EMG, mV.
        nonfinite : ndarray of bool, shape (channels, n), or None
        """
        channels, n = raw.shape
        if n == 0:
            return _empty_block(channels)
        raw_step = _step(raw, raw[:, :1] if self._last_raw is None else self._last_raw)
        diff_power = _step(emg, emg[:, :1] if self._last_emg is None else self._last_emg)
        series: dict[str, Float32Array] = {
            "raw_step": np.abs(raw_step, out=raw_step),
            "diff_power": np.square(diff_power, out=diff_power),
            "power": np.square(emg),
        }
        self._last_raw, self._last_emg = raw[:, -1:], emg[:, -1:]
        if self._lowband is not None:
            if not self._lowband_started:
                self._lowband.hold(raw[:, 0])
                self._lowband_started = True
            series["lowband_power"] = np.square(self._lowband.process(raw))
        if nonfinite is not None:
            series["nonfinite"] = nonfinite.astype(np.float32)
        if self._clip_level_mv is not None:
            series["clipped"] = (np.abs(raw) >= self._clip_level_mv).astype(np.float32)
        means = self._block_means(series, channels, n)
        m = means["power"].shape[1]
        if m == 0:  # fewer samples than one envelope block, all carried
            return _empty_block(channels)
        zeros = np.zeros((channels, m), np.float32)
        smoothed_power = self._lowpass.process(means["power"])
        envelope = np.sqrt(np.maximum(smoothed_power, 0.0, dtype=np.float32))
        if self._median_samples > 1:
            envelope = self._running_median(envelope)
        smooth = self._moving_average(envelope)
        return EnvelopeBlock(
            envelope.astype(np.float32, copy=False),
            smooth.astype(np.float32, copy=False),
            means["power"],
            means["diff_power"],
            means.get("lowband_power", zeros),
            means["raw_step"] * self.decimation <= self._flat_ptp_mv,
            means.get("clipped", zeros) > 0,
            means.get("nonfinite", zeros) > 0,
        )

    def _running_median(self, envelope: Float32Array) -> Float32Array:
        """Causal running median over ``_median_samples``, carried between chunks."""
        w = self._median_samples
        padded = np.concatenate([self._median_history, envelope], axis=1)
        self._median_history = padded[:, padded.shape[1] - (w - 1) :]
        windows = np.lib.stride_tricks.sliding_window_view(padded, w, axis=1)
        median: Float32Array = np.median(windows, axis=2).astype(np.float32)
        return median

    def _moving_average(self, envelope: Float32Array) -> Float32Array:
        """Causal moving average; the same additions in the same order whatever the chunking."""
        w = self.smoothing_samples
        padded = np.concatenate([self._smooth_history, envelope], axis=1)
        self._smooth_history = padded[:, padded.shape[1] - (w - 1) :]
        m = envelope.shape[1]
        total = padded[:, :m].copy()
        for lag in range(1, w):
            total += padded[:, lag : lag + m]
        total *= np.float32(1.0 / w)
        return total

    def _block_means(self, series: dict[str, Float32Array], channels: int, n: int) -> dict[str, Float32Array]:
        """Block means of each (channels, n) series, carrying the partial block."""
        if self._leftover:
            carried = next(iter(self._leftover.values())).shape[1]
            for name in series.keys() | self._leftover.keys():
                old = self._leftover.get(name, np.zeros((channels, carried), np.float32))
                new = series.get(name, np.zeros((channels, n), np.float32))
                series[name] = np.concatenate([old, new], axis=1)
            n += carried
        d = self.decimation
        m = n // d
        whole = m * d
        self._leftover = {name: a[:, whole:] for name, a in series.items()} if whole < n else {}
        weights = np.full(d, 1.0 / d, np.float32)
        return {
            name: (np.ascontiguousarray(a[:, :whole]).reshape(-1, d) @ weights).reshape(channels, m)
            for name, a in series.items()
        }


def _empty_block(channels: int) -> EnvelopeBlock:
    empty = np.zeros((channels, 0), np.float32)
    no = empty.astype(bool)
    return EnvelopeBlock(empty, empty, empty, empty, empty, no, no, no)


def _step(x: Float32Array, previous: Float32Array) -> Float32Array:
    """First difference along time, the first step taken from ``previous`` (channels, 1)."""
    step = np.empty_like(x)
    np.subtract(x[:, 1:], x[:, :-1], out=step[:, 1:])
    np.subtract(x[:, :1], previous, out=step[:, :1])
    return step
