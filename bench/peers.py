"""Peer EMG activation detectors, wrapped to one interface for the accuracy benchmark.

Each wrapper takes one channel of surface EMG (mV, shape (n,)) and its sample rate, runs a
published open-source detector the way a fair user would, and returns activation intervals
``[(onset_s, offset_s), ...]`` in s from the first sample, sorted by onset.

- :func:`neurokit_intervals`: NeuroKit2's ``emg_clean`` → ``emg_amplitude`` →
  ``emg_activation``, all at their defaults.
- :func:`biosppy_intervals`: BioSPPy's ``solnik_onset_detector`` (Solnik et al. 2010, TKEO
  conditioning), after BioSPPy's own EMG pre-filter.

The peers are optional (the ``bench`` extras) and untyped; they are imported when first
used. A missing peer raises :class:`RuntimeError`. A peer that fails on valid input
returns no intervals and emits a :class:`PeerFailedWarning` saying why, so a benchmark run
never dies on one recording and never hides a failure either.

Neither library was written for rates below 1 kHz. Both use a fixed 100 Hz high-pass, which
cannot be designed at or below 200 Hz (its corner would reach Nyquist): there, both
wrappers substitute the same 20 Hz high-pass (:data:`FALLBACK_HIGHPASS_HZ`). See each
function's Notes for what else changes with the rate.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.signal

FloatArray = npt.NDArray[np.float64]
Intervals = list[tuple[float, float]]

# Both libraries high-pass EMG at 100 Hz, 4th-order Butterworth: NeuroKit2 in
# `emg_clean(method="biosppy")`, BioSPPy in `biosppy.signals.emg.emg`.
PEER_HIGHPASS_HZ = 100.0
PEER_HIGHPASS_ORDER = 4
# Where 100 Hz is at or above Nyquist, the peers cannot filter at all. We substitute the
# 20 Hz corner recommended for surface EMG by De Luca et al. 2010 (J Biomech 43:1573,
# "Filtering the surface EMG signal: movement artifact and baseline noise contamination").
FALLBACK_HIGHPASS_HZ = 20.0

# Solnik detector configuration (our choices; BioSPPy has no defaults for them).
# Threshold = mean + SOLNIK_THRESHOLD_SD × SD of |TKEO| at rest. Chosen by hand as the lowest
# of {3, 5, 10, 15, 20, 25} at which neither the synthetic bursts of tests/test_bench_peers.py
# nor BioSPPy's example recording (examples/emg_1.txt) had an onset inside rest (at 10, the
# recording got one at 9.6 s, where NeuroKit2 finds nothing).
SOLNIK_THRESHOLD_SD = 15.0
# Minimum active (and inactive) state: half the shortest myoclonic spasm (50 ms, Thomas et
# al. 2014), so the rule cannot by itself suppress a true spasm.
SOLNIK_MIN_STATE_S = 0.025
# Rest estimate: the signal is cut into windows of REST_WINDOW_S; the windows whose RMS is at
# or below the REST_QUANTILE quantile of all window RMS values are taken as rest.
REST_WINDOW_S = 1.0
REST_QUANTILE = 0.5

_INSTALL_ADVICE = "install the benchmark extras: .venv/bin/pip install -e '.[bench]'"


class PeerFailedWarning(RuntimeWarning):
    """A peer detector raised on valid input; its wrapper returned no intervals."""


def neurokit_intervals(emg_mv: npt.ArrayLike, sample_rate_hz: float) -> Intervals:
    """Detect activations with NeuroKit2's default EMG pipeline.

    Runs ``emg_clean(emg, sampling_rate)`` → ``emg_amplitude(cleaned)`` →
    ``emg_activation(emg_amplitude=amplitude, sampling_rate=sampling_rate)``, every other
    argument at its default, and turns ``info["EMG_Onsets"]`` / ``info["EMG_Offsets"]``
    (sample indices) into intervals.

    Parameters
    ----------
    emg_mv : array_like, shape (n,)
        One channel of surface EMG, in mV.
    sample_rate_hz : float
        Sample rate of ``emg_mv``, in Hz.

    Returns
    -------
    list of (float, float)
        ``(onset_s, offset_s)`` of each activation, in s from the first sample, sorted. An
        activation still on at the last sample ends there.

    Raises
    ------
    ValueError
        If ``emg_mv`` is not 1-D and finite, or ``sample_rate_hz`` is not positive.
    RuntimeError
        If NeuroKit2 is not installed.

    Warns
    -----
    PeerFailedWarning
        If NeuroKit2 raises; the function then returns ``[]``.

    Notes
    -----
    What the defaults are (neurokit2 0.2.13):

    - ``emg_clean``: 4th-order Butterworth high-pass at 100 Hz (``filtfilt``), then removal of
      the mean.
    - ``emg_amplitude``: Teager–Kaiser energy, then a linear envelope: 2nd-order band-pass
      10–400 Hz, full-wave rectification, 8 Hz low-pass. It takes no sample rate and
      **always assumes 1000 Hz**, so at another rate every corner scales by
      ``rate / 1000`` (at 250 Hz: 2.5–100 Hz and a 2 Hz envelope, which smooths more and
      delays onsets).
    - ``emg_activation``: ``method="threshold"`` (the code's default, although its docstring
      says ``"mixture"``) at 0.1 × SD of the whole amplitude signal, so the threshold
      depends on how much of the recording is active; minimum activity and rest duration
      50 ms. It keeps only activations that start after a rest, so one already on at the
      first sample is dropped.

    At or below 200 Hz the 100 Hz high-pass cannot be designed and ``emg_clean`` raises
    (``Digital filter critical frequencies must be 0 < Wn < 1``). This wrapper then cleans
    with ``emg_clean(method="none")`` followed by a 20 Hz high-pass
    (:data:`FALLBACK_HIGHPASS_HZ`) and removal of the mean, and runs the rest unchanged.
    Between 200 and 1000 Hz the 100 Hz high-pass leaves only 100 Hz to Nyquist (at 250 Hz,
    100–125 Hz, the upper tail of the sEMG spectrum).

    ``emg_activation`` builds its per-sample output with a Python loop over pandas, which
    dominates the run time (see the benchmark report).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> emg = rng.normal(0.0, 0.005, 10_000)
    >>> emg[4_000:6_000] += rng.normal(0.0, 0.5, 2_000)
    >>> [(round(on, 1), round(off, 1)) for on, off in neurokit_intervals(emg, 1000.0)]
    [(3.9, 6.1)]
    """
    emg = _as_channel(emg_mv, sample_rate_hz)
    nk = _import_peer("neurokit2")
    try:
        if sample_rate_hz > 2.0 * PEER_HIGHPASS_HZ:
            cleaned = nk.emg_clean(emg, sampling_rate=sample_rate_hz)
        else:
            cleaned = _fallback_highpass(nk.emg_clean(emg, method="none"), sample_rate_hz)
        amplitude = nk.emg_amplitude(np.asarray(cleaned, dtype=np.float64))
        _, info = nk.emg_activation(emg_amplitude=amplitude, sampling_rate=sample_rate_hz)
        onsets = np.asarray(info["EMG_Onsets"], dtype=np.int64)
        offsets = np.asarray(info["EMG_Offsets"], dtype=np.int64)
    except Exception as error:  # any library failure: report it, return nothing
        _warn_failed("neurokit2", error)
        return []
    # emg_activation drops the offset of an activation still on at the last sample, so
    # onsets may outnumber offsets by one: that activation ends at the last sample.
    offsets = np.concatenate([offsets, np.full(len(onsets) - len(offsets), len(emg) - 1)])
    return _to_intervals(onsets, offsets, sample_rate_hz)


def biosppy_intervals(emg_mv: npt.ArrayLike, sample_rate_hz: float) -> Intervals:
    """Detect activations with BioSPPy's Solnik (TKEO) onset/offset detector.

    The signal is first high-passed the way ``biosppy.signals.emg.emg`` does
    (``tools.filter_signal``: 4th-order Butterworth at 100 Hz, zero-phase), then passed to
    ``biosppy.signals.emg.solnik_onset_detector``, whose returned indices alternate onset,
    offset, onset, …

    Parameters
    ----------
    emg_mv : array_like, shape (n,)
        One channel of surface EMG, in mV.
    sample_rate_hz : float
        Sample rate of ``emg_mv``, in Hz.

    Returns
    -------
    list of (float, float)
        ``(onset_s, offset_s)`` of each activation, in s from the first sample, sorted. An
        activation still on at the last sample ends there.

    Raises
    ------
    ValueError
        If ``emg_mv`` is not 1-D and finite, or ``sample_rate_hz`` is not positive.
    RuntimeError
        If BioSPPy (or ``peakutils``, which it imports without declaring) is not installed.

    Warns
    -----
    PeerFailedWarning
        If BioSPPy raises; the function then returns ``[]``.

    Notes
    -----
    Why Solnik: of BioSPPy's detectors, ``emg.emg``/``find_onsets`` and Hodges–Bui return
    bare threshold crossings, and Silva needs a fixed threshold in signal units. Solnik
    returns onset/offset pairs from a threshold relative to rest, and its TKEO conditioning
    is the most cited of them. It still needs three choices BioSPPy leaves to the user:

    - **Rest.** A spasm recording has no announced rest period, and its first seconds may
      hold a spasm. The rest is estimated instead: the signal is cut into 1 s windows
      (:data:`REST_WINDOW_S`) and those with RMS at or below the median
      (:data:`REST_QUANTILE`) are rest. This assumes the muscle rests at least half of the
      time. Their mean and SD are taken **of |TKEO|**, and passed as
      ``rest={"mean": ..., "std_dev": ...}``: given rest samples, BioSPPy would take the
      SD of the filtered EMG (mV) and compare it with |TKEO| (mV²), a unit mismatch that
      makes the threshold depend on the signal's scale. Solnik et al. set the threshold on
      the conditioned signal.
    - **Threshold**: mean + 15 SD of rest |TKEO| (:data:`SOLNIK_THRESHOLD_SD`).
    - **Minimum state duration**: 25 ms (:data:`SOLNIK_MIN_STATE_S`).

    BioSPPy's implementation differs from the published method in two ways that a
    benchmark will see. It counts the samples beyond the threshold since the first crossing
    without ever resetting the count, so isolated noise spikes add up to an onset, and,
    since the raw |TKEO| of an active muscle dips below any threshold within milliseconds,
    the offset is placed at the first such dip after an onset: **offsets come early and
    long activations are cut into pieces**. And it applies no low-pass to the TKEO, which
    Solnik et al. did. The detector also runs as a Python loop over every sample.

    At or below 200 Hz the 100 Hz high-pass cannot be designed (BioSPPy raises); a 20 Hz
    high-pass (:data:`FALLBACK_HIGHPASS_HZ`) is used instead. Between 200 Hz and 1 kHz the
    100 Hz high-pass leaves only 100 Hz to Nyquist.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> emg = rng.normal(0.0, 0.005, 10_000)
    >>> emg[4_000:6_000] += rng.normal(0.0, 0.5, 2_000)
    >>> intervals = biosppy_intervals(emg, 1000.0)
    >>> round(intervals[0][0], 1)
    4.0
    """
    emg = _as_channel(emg_mv, sample_rate_hz)
    biosppy_emg = _import_peer("biosppy.signals.emg")
    biosppy_tools = _import_peer("biosppy.signals.tools")
    try:
        if sample_rate_hz > 2.0 * PEER_HIGHPASS_HZ:
            filtered, _, _ = biosppy_tools.filter_signal(
                signal=emg,
                ftype="butter",
                band="highpass",
                order=PEER_HIGHPASS_ORDER,
                frequency=PEER_HIGHPASS_HZ,
                sampling_rate=sample_rate_hz,
            )
        else:
            filtered = _fallback_highpass(emg, sample_rate_hz)
        filtered = np.asarray(filtered, dtype=np.float64)
        rest_mean, rest_sd = _rest_tkeo_stats(filtered, sample_rate_hz)
        min_state_samples = max(1, round(SOLNIK_MIN_STATE_S * sample_rate_hz))
        (indices, _) = biosppy_emg.solnik_onset_detector(
            signal=filtered,
            rest={"mean": rest_mean, "std_dev": rest_sd},
            sampling_rate=sample_rate_hz,
            threshold=SOLNIK_THRESHOLD_SD,
            active_state_duration=min_state_samples,
        )
        indices = np.asarray(indices, dtype=np.int64)
    except Exception as error:  # any library failure: report it, return nothing
        _warn_failed("biosppy", error)
        return []
    if len(indices) % 2:  # still active at the end
        indices = np.append(indices, len(emg) - 1)
    return _to_intervals(indices[0::2], indices[1::2], sample_rate_hz)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_channel(emg_mv: npt.ArrayLike, sample_rate_hz: float) -> FloatArray:
    """Validate one EMG channel and its rate; return it as a float64 array."""
    if not (np.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValueError(f"sample_rate_hz must be a positive number, got {sample_rate_hz}")
    emg = np.asarray(emg_mv, dtype=np.float64)
    if emg.ndim != 1:
        raise ValueError(f"emg_mv must be one channel, shape (n,), got shape {emg.shape}")
    if not np.all(np.isfinite(emg)):
        raise ValueError("emg_mv holds NaN or infinite samples; fill or cut gaps first")
    return emg


def _import_peer(module: str) -> Any:
    """Import a peer library, or raise RuntimeError saying how to install it."""
    try:
        imported: ModuleType = importlib.import_module(module)
    except ImportError as error:
        raise RuntimeError(f"peer detector {module!r} is unavailable ({error}); {_INSTALL_ADVICE}") from error
    return imported


def _warn_failed(peer: str, error: Exception) -> None:
    warnings.warn(
        f"{peer} failed, no intervals returned: {type(error).__name__}: {error}",
        PeerFailedWarning,
        stacklevel=3,
    )


def _fallback_highpass(emg: FloatArray, sample_rate_hz: float) -> FloatArray:
    """Zero-phase 4th-order Butterworth high-pass at FALLBACK_HIGHPASS_HZ, mean removed."""
    sos = scipy.signal.butter(
        PEER_HIGHPASS_ORDER, FALLBACK_HIGHPASS_HZ, btype="highpass", fs=sample_rate_hz, output="sos"
    )
    filtered = np.asarray(scipy.signal.sosfiltfilt(sos, emg), dtype=np.float64)
    centred: FloatArray = filtered - filtered.mean()
    return centred


def _rest_tkeo_stats(filtered: FloatArray, sample_rate_hz: float) -> tuple[float, float]:
    """Mean and SD of |TKEO| over the quietest windows (RMS at or below REST_QUANTILE)."""
    window = max(3, round(REST_WINDOW_S * sample_rate_hz))
    n_windows = len(filtered) // window
    if n_windows == 0:
        windows = filtered[None, :]
    else:
        windows = filtered[: n_windows * window].reshape(n_windows, window)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    rest = windows[rms <= np.quantile(rms, REST_QUANTILE)]
    tkeo = np.abs(rest[:, 1:-1] ** 2 - rest[:, 2:] * rest[:, :-2])  # per window, no seams
    return float(tkeo.mean()), float(tkeo.std())


def _to_intervals(
    onsets: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64], sample_rate_hz: float
) -> Intervals:
    """Pair onset and offset sample indices into sorted (onset_s, offset_s) intervals."""
    return sorted(
        (float(on) / sample_rate_hz, float(off) / sample_rate_hz)
        for on, off in zip(onsets, offsets, strict=True)
    )
