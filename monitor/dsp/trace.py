"""What the EMG detector saw: its envelope, floor and thresholds, sample by sample.

For plots and validation (``bench/validate_real.py``), not for the product path. The
trace is collected through :attr:`SpasmDetector.observer`, which the detector calls once
per processed chunk and which changes nothing it computes: the events of a traced run
are those of :func:`monitor.dsp.detect_spasms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.dsp.conditioning import design_conditioning
from monitor.dsp.emg_detector import SpasmDetector
from monitor.dsp.emg_input import validate_emg
from monitor.dsp.envelope import EnvelopeBlock, EnvelopeStage
from monitor.dsp.params import EmgParams
from monitor.types import SpasmEvent

Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DetectionTrace:
    """The detector's envelope-rate signals over a whole recording, and its events.

    Attributes
    ----------
    time_s : ndarray, shape (m,)
        Time of each envelope sample, s from the first raw sample: the centre of its
        block of raw samples minus the envelope's delay, the convention of the events'
        ``onset_ns``, so the trace lines up with the raw signal and the events.
    envelope_mv : ndarray, shape (channels, m)
        RMS envelope of the band-passed EMG, mV.
    smooth_mv : ndarray, shape (channels, m)
        The envelope after the detection moving average, mV: what the thresholds judge.
    floor_mv : ndarray, shape (channels, m)
        Resting floor in force, mV (NaN until known): the live estimate, which keeps
        moving during a spasm.
    baseline_mv : ndarray, shape (channels, m)
        Level in force, mV: the floor, or from a run's onset to the end of its hold
        (``merge_gap_s`` after it) the floor frozen at that onset. The ``baseline_mv`` of
        the ``emg_envelope`` records is this level at the start of each record's block.
    events : list of SpasmEvent
        The detector's events, sorted by onset then channel (times from t0 = 0 ns).
    params : EmgParams
        Parameters of the run.
    envelope_rate_hz : float
        Rate of the envelope samples, Hz.
    """

    time_s: Float64Array
    envelope_mv: Float32Array
    smooth_mv: Float32Array
    floor_mv: Float64Array
    baseline_mv: Float64Array
    events: list[SpasmEvent]
    params: EmgParams
    envelope_rate_hz: float

    @property
    def on_mv(self) -> Float64Array:
        """The *on* threshold, ``on_x_baseline`` x the level in force, mV, (channels, m).

        Outside a run a spasm starts where ``smooth_mv`` exceeds it; a run inside the
        hold must exceed it to start a spasm rather than only continue one.
        """
        result: Float64Array = self.params.on_x_baseline * self.baseline_mv
        return result

    @property
    def off_mv(self) -> Float64Array:
        """The *off* threshold, ``off_x_baseline`` x the level in force, mV, (channels, m).

        A run lasts while ``smooth_mv`` stays above it; only in force during a run and
        its hold, where the level is the reference frozen at the run's onset.
        """
        result: Float64Array = self.params.off_x_baseline * self.baseline_mv
        return result


def trace_detection(
    emg_mv: npt.ArrayLike, sample_rate_hz: float, params: EmgParams | None = None
) -> DetectionTrace:
    """Run the detector over a whole recording and keep its envelope-rate signals.

    Parameters
    ----------
    emg_mv : array_like, shape (n,) or (n, channels)
        Surface EMG in mV, floating point, as for :func:`monitor.dsp.detect_spasms`.
    sample_rate_hz : float
        Sample rate, Hz (100 to 20,000).
    params : EmgParams, optional
        Detector parameters; the defaults when omitted.

    Returns
    -------
    DetectionTrace
        About ``envelope_rate_hz`` (100 Hz by default) samples a second, every array
        float, channels first.

    Raises
    ------
    ValueError
        On a wrong shape, dtype, rate or parameter, as ``detect_spasms``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> emg = 0.01 * rng.standard_normal(10_000)
    >>> emg[5000:6000] *= 20.0
    >>> trace = trace_detection(emg, 1000.0)
    >>> trace.smooth_mv.shape == (1, trace.time_s.size)
    True
    >>> [round(e.onset_ns / 1e9, 1) for e in trace.events]
    [5.0]
    >>> bool(np.all(trace.smooth_mv[0, trace.time_s > 5.1][:50] > trace.on_mv[0, trace.time_s > 5.1][:50]))
    True
    """
    params = params or EmgParams()
    samples = validate_emg(emg_mv)
    detector = SpasmDetector(sample_rate_hz, samples.shape[1], **params.as_dict())
    chunks: list[tuple[EnvelopeBlock, Float64Array, Float64Array]] = []

    def observe(first: int, block: EnvelopeBlock, floor_mv: Float64Array, level_mv: Float64Array) -> None:
        assert first == sum(c[0].smooth_mv.shape[1] for c in chunks), "chunks must be consecutive"
        chunks.append((block, floor_mv.copy(), level_mv.copy()))

    detector.observer = observe
    detector.feed(samples, 0)
    detector.finish()
    events = sorted(detector.take_events(), key=lambda e: (e.onset_ns, e.channel))

    # The detector's own envelope stage, built afresh for its timing only.
    stage = EnvelopeStage(
        detector.sample_rate_hz, 1, params, design_conditioning(detector.sample_rate_hz, params).band_hz
    )
    channels = samples.shape[1]
    envelope = _stack([b.envelope_mv for b, _, _ in chunks], channels, np.float32)
    d = stage.decimation
    time_s: Float64Array = (
        np.arange(envelope.shape[1], dtype=np.float64) * d + (d - 1) / 2
    ) / detector.sample_rate_hz - stage.delay_s
    return DetectionTrace(
        time_s=time_s,
        envelope_mv=envelope,
        smooth_mv=_stack([b.smooth_mv for b, _, _ in chunks], channels, np.float32),
        floor_mv=_stack([f for _, f, _ in chunks], channels, np.float64),
        baseline_mv=_stack([lv for _, _, lv in chunks], channels, np.float64),
        events=events,
        params=params,
        envelope_rate_hz=stage.rate_hz,
    )


def _stack(parts: list[npt.NDArray[Any]], channels: int, dtype: type[np.floating[Any]]) -> npt.NDArray[Any]:
    """Chunks of shape (channels, m_i) side by side, as ``dtype``; (channels, 0) if none."""
    if not parts:
        return np.zeros((channels, 0), dtype)
    return np.concatenate(parts, axis=1).astype(dtype)
