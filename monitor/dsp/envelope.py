"""RMS envelope at a decimated rate, plus the block statistics that artefact checks need.

The band-passed EMG is squared and averaged over blocks of ``decimation`` samples (a
boxcar, whose nulls fall exactly on the aliases), low-pass filtered at the envelope
rate and square-rooted: an RMS envelope in mV. Everything after this stage runs at the
envelope rate (about 100 Hz), ten times cheaper than the raw rate.

The block power of the EMG's first difference is kept too: with the block power it gives
the signal's RMS frequency (Rice), about 100–130 Hz for muscle at 1 kHz and below 50 Hz
for what a motion artefact leaves after the band-pass. Below 500 Hz that measure no
longer separates them, and the power of the raw signal's 1.5–10 Hz band is kept instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from monitor.dsp.conditioning import steady_state_zi
from monitor.dsp.params import EmgParams

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

# Band of the reference 1 kHz wearable, 20–450 Hz. A narrower band (200 Hz Myo: 20–90 Hz)
# gives the envelope fewer degrees of freedom per second, so it is smoothed for longer:
# by sqrt(reference / band), which keeps the envelope's relative noise the same.
REFERENCE_BANDWIDTH_HZ = 430.0
# From this rate up the RMS frequency of a burst tells muscle from motion artefact.
MOTION_RMS_FREQUENCY_MIN_RATE_HZ = 500.0
# Band where an electrode knock holds its energy and muscle (zero-mean, f² spectrum at low
# frequency) holds almost none.
MOTION_BAND_HZ = (1.5, 10.0)


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
    lowband_power_mv2 : mean square of the raw signal's 1.5–10 Hz band, mV² (only below
        ``MOTION_RMS_FREQUENCY_MIN_RATE_HZ``; zeros above).
    raw_max_mv, raw_min_mv : extremes of the raw signal in each block, mV.
    nonfinite : whether any raw sample in the block was NaN or inf.
    """

    envelope_mv: Float32Array
    smooth_mv: Float32Array
    power_mv2: Float32Array
    diff_power_mv2: Float32Array
    lowband_power_mv2: Float32Array
    raw_max_mv: Float32Array
    raw_min_mv: Float32Array
    nonfinite: BoolArray


class EnvelopeStage:
    """Stateful decimating RMS envelope over (channels, n) blocks of any length."""

    def __init__(
        self, sample_rate_hz: float, channels: int, params: EmgParams, band_hz: tuple[float, float]
    ) -> None:
        self.decimation = decimation_for(sample_rate_hz, params)
        self.rate_hz = sample_rate_hz / self.decimation
        cutoff = min(params.envelope_lowpass_hz, 0.4 * self.rate_hz)
        self._lowpass_sos = signal.butter(2, cutoff, fs=self.rate_hz, output="sos").astype(np.float32)
        self._lowpass_zi = np.zeros((self._lowpass_sos.shape[0], channels, 2), dtype=np.float32)
        bandwidth_hz = band_hz[1] - band_hz[0]
        smoothing_s = params.smoothing_s * np.sqrt(max(1.0, REFERENCE_BANDWIDTH_HZ / bandwidth_hz))
        self.smoothing_samples = max(1, round(smoothing_s * self.rate_hz))
        self._smooth_taps = np.full(self.smoothing_samples, 1.0 / self.smoothing_samples, np.float32)
        self._smooth_zi = np.zeros((channels, self.smoothing_samples - 1), dtype=np.float32)
        self._lowband_sos: Float32Array | None = None
        self._lowband_zi: Float32Array | None = None
        if sample_rate_hz < MOTION_RMS_FREQUENCY_MIN_RATE_HZ:
            self._lowband_sos = signal.butter(
                2, MOTION_BAND_HZ, btype="bandpass", fs=sample_rate_hz, output="sos"
            ).astype(np.float32)
        self._leftover: tuple[Float32Array, ...] | None = None
        self._leftover_nonfinite: BoolArray | None = None
        self._last_emg: Float32Array | None = None
        # Delay of the envelope behind the muscle, s: half a boxcar, the low-pass group
        # delay at low frequency, and half the moving average.
        _, lowpass_delay = signal.group_delay(
            signal.sos2tf(self._lowpass_sos.astype(np.float64)), w=[0.5], fs=self.rate_hz
        )
        self.delay_s = float(
            (self.decimation - 1) / 2 / sample_rate_hz
            + lowpass_delay[0] / self.rate_hz
            + (self.smoothing_samples - 1) / 2 / self.rate_hz
        )

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
        power = emg * emg
        previous = emg[:, :1] if self._last_emg is None else self._last_emg
        step = np.diff(emg, axis=1, prepend=previous)
        diff_power = step * step
        if emg.shape[1]:
            self._last_emg = emg[:, -1:]
        if self._lowband_sos is not None:
            if self._lowband_zi is None:
                self._lowband_zi = steady_state_zi(self._lowband_sos, raw[:, 0])
            lowband, self._lowband_zi = signal.sosfilt(self._lowband_sos, raw, axis=-1, zi=self._lowband_zi)
            lowband_power = lowband * lowband
        else:
            lowband_power = np.zeros((raw.shape[0], 0), np.float32)
        nf = nonfinite if nonfinite is not None else np.zeros(raw.shape, dtype=bool)
        if self._leftover is not None:
            assert self._leftover_nonfinite is not None
            raw, power, diff_power, lowband_power = (
                np.concatenate([old, new], axis=1)
                for old, new in zip(self._leftover, (raw, power, diff_power, lowband_power), strict=True)
            )
            nf = np.concatenate([self._leftover_nonfinite, nf], axis=1)
        d = self.decimation
        channels, n = raw.shape
        m = n // d
        whole = m * d
        if whole < n:
            self._leftover = tuple(
                a[:, whole:] if a.shape[1] else a for a in (raw, power, diff_power, lowband_power)
            )
            self._leftover_nonfinite = nf[:, whole:]
        else:
            self._leftover = self._leftover_nonfinite = None
        shape = (channels, m, d)
        block_power = power[:, :whole].reshape(shape).mean(axis=2, dtype=np.float32)
        block_diff_power = diff_power[:, :whole].reshape(shape).mean(axis=2, dtype=np.float32)
        if lowband_power.shape[1]:
            block_lowband = lowband_power[:, :whole].reshape(shape).mean(axis=2, dtype=np.float32)
        else:
            block_lowband = np.zeros((channels, m), np.float32)
        raw_blocks = raw[:, :whole].reshape(shape)
        raw_max = raw_blocks.max(axis=2) if m else np.zeros((channels, 0), np.float32)
        raw_min = raw_blocks.min(axis=2) if m else np.zeros((channels, 0), np.float32)
        nonfinite_any: BoolArray = np.asarray(nf[:, :whole].reshape(shape).any(axis=2))

        smoothed_power, self._lowpass_zi = signal.sosfilt(
            self._lowpass_sos, block_power, axis=-1, zi=self._lowpass_zi
        )
        envelope = np.sqrt(np.maximum(smoothed_power, 0.0, dtype=np.float32))
        smooth, self._smooth_zi = signal.lfilter(
            self._smooth_taps, [np.float32(1.0)], envelope, axis=-1, zi=self._smooth_zi
        )
        return EnvelopeBlock(
            envelope.astype(np.float32, copy=False),
            smooth.astype(np.float32, copy=False),
            block_power,
            block_diff_power,
            block_lowband,
            raw_max,
            raw_min,
            nonfinite_any,
        )
