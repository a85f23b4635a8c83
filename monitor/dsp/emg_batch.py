"""Spasms in a whole EMG recording at once: :func:`detect_spasms`.

It runs the streaming :class:`~monitor.dsp.emg_detector.SpasmDetector` over the array, so a
recording analysed at once and the same samples streamed live give the same events.
"""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from monitor.dsp.emg_detector import SpasmDetector
from monitor.dsp.emg_input import validate_emg
from monitor.types import SpasmEvent


def detect_spasms(
    emg_mv: npt.ArrayLike, sample_rate_hz: float, t0_ns: int = 0, **params: Any
) -> list[SpasmEvent]:
    """Detect spasms in a whole EMG recording.

    Parameters
    ----------
    emg_mv : array_like, shape (n,) or (n, channels)
        Surface EMG in mV, floating point. NaN and inf are tolerated (reported as signal
        quality, never as spasms).
    sample_rate_hz : float
        Sample rate, Hz (100 to 20,000).
    t0_ns : int
        UTC time of the first sample, ns since the Unix epoch.
    **params
        Overrides of :class:`monitor.dsp.params.EmgParams`.

    Returns
    -------
    list of SpasmEvent
        Sorted by onset, then channel.

    Raises
    ------
    ValueError
        On a wrong shape, dtype, rate or parameter, saying what was expected.

    Examples
    --------
    >>> from monitor.synth import EmgScenario, generate_emg
    >>> rec = generate_emg(EmgScenario(duration_s=120, seed=2))
    >>> events = detect_spasms(rec.emg_mv, rec.sample_rate_hz)
    >>> len(events) == len(rec.spasms)
    True
    """
    samples = validate_emg(emg_mv, copy=False)  # each block is copied before it is filtered
    detector = SpasmDetector(sample_rate_hz, samples.shape[1], **params)
    detector.keep_records = False  # only the events are returned
    detector.feed(samples, t0_ns)
    detector.finish()
    return sorted(detector.take_events(), key=lambda e: (e.onset_ns, e.channel))
