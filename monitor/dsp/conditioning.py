"""Signal conditioning: non-finite repair, mains notch and band-pass, with carried state.

The filters are causal second-order sections run by :func:`scipy.signal.sosfilt` with
their ``zi`` state carried between chunks, so that a stream split anywhere gives the
same output as one call over the whole signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from monitor.dsp.params import EmgParams

try:  # the float32 kernel behind scipy.signal.sosfilt (a private name: fall back if it moves)
    from scipy.signal._sosfilt import _sosfilt

    _SOSFILT_FLOAT32: Callable[..., None] | None = _sosfilt["float"]
except (ImportError, KeyError, TypeError):  # pragma: no cover
    _SOSFILT_FLOAT32 = None

Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

# Upper band edge as a share of the sample rate: keeps the Butterworth edge clear of
# Nyquist at 200 Hz (Myo), where 0.45 · 200 = 90 Hz.
MAX_EDGE_X_RATE = 0.45


@dataclass(frozen=True)
class ConditioningDesign:
    """Filters for one sample rate.

    Attributes
    ----------
    notch_sos : ndarray, shape (n_notches, 6)
        Mains notches; zero rows when disabled.
    bandpass_sos : ndarray, shape (n_sections, 6)
    band_hz : tuple of float
        The band actually used.
    """

    notch_sos: npt.NDArray[np.float64]
    bandpass_sos: npt.NDArray[np.float64]
    band_hz: tuple[float, float]


def design_conditioning(sample_rate_hz: float, params: EmgParams) -> ConditioningDesign:
    """Design the mains notches and the band-pass for ``sample_rate_hz``.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate of the EMG, Hz.
    params : EmgParams

    Returns
    -------
    ConditioningDesign

    Raises
    ------
    ValueError
        If the band left below Nyquist is empty.
    """
    high_edge = min(params.lowpass_hz, MAX_EDGE_X_RATE * sample_rate_hz)
    low_edge = params.ecg_highpass_hz if params.ecg_suppression else params.highpass_hz
    if low_edge >= high_edge:
        raise ValueError(
            f"at {sample_rate_hz} Hz the EMG band {low_edge}-{high_edge} Hz is empty;"
            " use a higher sample rate or a lower highpass_hz"
        )
    bandpass = signal.butter(
        params.filter_order, [low_edge, high_edge], btype="bandpass", fs=sample_rate_hz,
        output="sos",
    )  # fmt: skip
    notches = []
    if params.mains_hz is not None:
        for harmonic in range(1, params.mains_harmonics + 1):
            f = harmonic * params.mains_hz
            if f >= MAX_EDGE_X_RATE * sample_rate_hz:
                break
            b, a = signal.iirnotch(f, params.notch_q, fs=sample_rate_hz)
            notches.append(signal.tf2sos(b, a))
    notch_sos = np.concatenate(notches) if notches else np.zeros((0, 6))
    return ConditioningDesign(notch_sos, bandpass, (low_edge, high_edge))


class Conditioner:
    """Stateful notch + band-pass over (channels, n) float32 blocks."""

    def __init__(self, design: ConditioningDesign, channels: int) -> None:
        # One cascade: notches then band-pass, a single pass over the samples.
        self._filter = SosCascade(np.concatenate([design.notch_sos, design.bandpass_sos]), channels)
        self._started = False
        self._last_finite = np.zeros(channels, dtype=np.float32)

    def process(self, x: Float32Array) -> tuple[Float32Array, BoolArray | None]:
        """Condition one block.

        Parameters
        ----------
        x : ndarray, shape (channels, n), float32
            Raw EMG, mV. Modified in place where non-finite.

        Returns
        -------
        emg : ndarray, shape (channels, n)
            Band-passed EMG, mV.
        nonfinite : ndarray of bool, shape (channels, n), or None
            Where the input was NaN or ±inf (those samples hold the last finite value, so
            that no step excites the filters); None when all samples were finite.
        """
        if x.shape[1] == 0:
            return x, None
        nonfinite = None if np.isfinite(x.sum()) else _repair_nonfinite(x, self._last_finite)
        self._last_finite = x[:, -1].copy()
        if not self._started:
            # Start in steady state on the first value: no start-up transient that would
            # look like a burst.
            self._filter.hold(x[:, 0])
            self._started = True
        return self._filter.process(x), nonfinite


class SosCascade:
    """Second-order sections run along each row of (channels, n) float32 blocks, with the
    filter state carried: a signal split anywhere gives the output of one call.

    The same arithmetic as ``scipy.signal.sosfilt(sos, x, axis=-1, zi=zi)`` (its own
    kernel runs it), without its per-call checks, state copies and axis moves: those
    cost about as much as filtering a 2 s chunk of 4 channels.

    Parameters
    ----------
    sos : array_like, shape (n_sections, 6)
        The sections, as ``scipy.signal`` designs them; run in float32.
    channels : int
        Rows of the blocks; the state starts at rest (zero).
    """

    def __init__(self, sos: npt.ArrayLike, channels: int) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float32)
        # The kernel's layout, (channels, n_sections, 2); sosfilt's zi is (n_sections, channels, 2).
        self._state = np.zeros((channels, self.sos.shape[0], 2), dtype=np.float32)

    def hold(self, first: Float32Array) -> None:
        """Set the state of each row as if its value in ``first`` (shape (channels,)) had
        been held forever."""
        zi_unit = signal.sosfilt_zi(self.sos.astype(np.float64))  # (n_sections, 2)
        self._state = (zi_unit[None, :, :] * first.astype(np.float64)[:, None, None]).astype(np.float32)

    def process(self, x: Float32Array) -> Float32Array:
        """Filter a block of shape (channels, n); returns a new (channels, n) float32 array."""
        y = np.array(x, dtype=np.float32, order="C")  # the kernel filters in place
        if not self.sos.shape[0]:
            return y
        if _SOSFILT_FLOAT32 is None:
            y, zi = signal.sosfilt(self.sos, y, axis=-1, zi=self._state.transpose(1, 0, 2))
            self._state = np.ascontiguousarray(zi.transpose(1, 0, 2))
        else:
            _SOSFILT_FLOAT32(self.sos, y, self._state)
        return y


def _repair_nonfinite(x: Float32Array, last_finite: Float32Array) -> BoolArray | None:
    """Replace NaN/inf by the last finite value of the channel (carried across blocks)."""
    finite = np.isfinite(x)
    if finite.all():
        return None
    n = x.shape[1]
    index = np.where(finite, np.arange(n), -1)
    np.maximum.accumulate(index, axis=1, out=index)
    held = np.take_along_axis(x, np.maximum(index, 0), axis=1)
    x[:] = np.where(index >= 0, held, last_finite[:, None])
    return ~finite
