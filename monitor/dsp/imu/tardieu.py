"""The Modified Tardieu Scale from a joint angle (and EMG): R1, R2 and V3 per stretch.

A carer stretches the relaxed muscle slowly (V1) to the end of its passive range (R2),
then as fast as they can (V3) until the stretch reflex "catches" the limb (R1; Boyd &
Graham 1999, Eur J Neurol 6:S23). :func:`tardieu_trials` finds those stretches in a joint
angle and measures them.

Stretches. A stretch is a movement (smoothed speed above ``_MOVING_DPS``) of at least
``_MIN_EXCURSION_DEG`` in the stretch direction; movements back (the carer returning the
limb) are not trials. A peak velocity up to ``SLOW_MAX_DPS`` makes a slow trial, whose R2
is the angle farthest from its start; faster ones are fast trials, scored only from
``FAST_MIN_DPS`` (a "fast" stretch below it is reported with ``scored=False``: too slow
to bring out a velocity-dependent reflex, and the reason most manual R1 differ; Banky et
al. 2019, J Rehabil Med 51).

The catch (R1). The examiner feels the catch as the limb slowing against the reflex
torque, so R1 is the angle at the onset of the reflex deceleration. A carer's fast
stretch is a smooth bell of velocity (a minimum-jerk-like movement: Flash & Hogan 1985),
whose velocity a quadratic fitted over the last 50 ms predicts well 30 ms ahead. The
reflex torque rises within 20-30 ms (a twitch), far faster than the carer's own
deceleration, so the rule is: **a catch is a velocity falling below that prediction by at
least** ``CATCH_DROP_FRACTION`` **of the peak velocity, sustained over 30 ms, while the
limb moves at least half its peak velocity** (the reflex fires at high velocity; the
carer's own stopping at the end of the range comes later and slower). Its onset is then
located where the shortfall reaches half its size, less half a typical torque rise time.

EMG. When given, the EMG of the stretched muscle confirms a catch: a burst (envelope
above the rest before the stretch) must begin during the stretch, and the deceleration is
searched 30-100 ms after its onset (reflex latency is before the EMG; this window is the
electromechanical delay, 30-60 ms, plus a margin) with half the threshold, which locates
weak catches the angle alone misses. The burst's own angle is ``emg_onset_deg``: earlier
in the range than R1 by velocity × delay (10-20° at V3), so it is reported apart. With
EMG worn, a deceleration without a burst is no catch (a carer's hesitation, or an error
of the angle), and a burst without a visible deceleration gives R1 at its onset plus the
typical delay (``_TYPICAL_DELAY_S``).

Limits: the angle of a two-IMU pipeline lags or jumps by 1-2° where its accelerometer
correction acts during fast motion, which sets the kinematic threshold; a hard end-feel of
a contracture stopping a fast stretch looks like a clasp; and a carer who brakes abruptly
mid-range makes a false catch unless EMG is worn.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

FloatArray = npt.NDArray[np.float64]
Speed = Literal["slow", "fast"]
CatchSource = Literal["emg", "deceleration"]

# A stretch peaking at or below this is a slow (V1) trial, °/s; faster ones are fast trials.
SLOW_MAX_DPS = 45.0
# Fast trials are scored from this peak velocity, °/s (V3 in the clinic is "as fast as
# possible", typically 180-400 °/s in the upper and lower limb).
FAST_MIN_DPS = 180.0
# Kinematic catch: the velocity shortfall below the carer's smooth profile, as a fraction
# of the trial's peak velocity (with EMG confirming, half of it).
CATCH_DROP_FRACTION = 0.12
# Electromechanical delay window searched after the EMG onset, s.
EMG_TO_CATCH_S = (0.030, 0.100)
_TYPICAL_DELAY_S = 0.045  # mid-range electromechanical delay (Cavanagh & Komi 1979)
_MOVING_DPS = 5.0
_MIN_EXCURSION_DEG = 15.0
_FIT_S = 0.05  # quadratic fitted over this much velocity ...
_AHEAD_S = 0.03  # ... predicts this far ahead
_PERSIST_S = 0.03  # a shortfall must last this long
_HALF_RISE_S = 0.0125  # half the reflex torque's rise time (20-30 ms)
_MIN_ANGLE_RATE_HZ = 50.0
_MIN_EMG_RATE_HZ = 400.0


@dataclass(frozen=True, slots=True)
class TardieuTrial:
    """One stretch of a Tardieu test.

    Attributes
    ----------
    speed : {"slow", "fast"}
    onset_ns : int
        UTC time the stretch started moving, ns.
    peak_velocity_dps : float
        Peak stretch velocity, °/s (V1 for slow trials, V3 for fast ones).
    r2_deg : float or None
        Slow trials: the passive end range, the angle farthest from the trial's start.
    r1_deg : float or None
        Scored fast trials with a catch: the angle at the onset of the reflex
        deceleration (the mechanical catch).
    emg_onset_deg : float or None
        Scored fast trials with EMG: the angle when the reflex EMG burst began.
    catch_source : {"emg", "deceleration"} or None
        What found the catch: EMG burst and deceleration, deceleration alone (no EMG),
        or None (no catch, or not scored).
    scored : bool
        False for a fast trial too slow to be scored (see ``reason``).
    reason : str
        Why a trial is not scored, "" otherwise.
    start_deg : float
        The angle the stretch started from, degrees.
    """

    speed: Speed
    onset_ns: int
    peak_velocity_dps: float
    r2_deg: float | None
    r1_deg: float | None
    emg_onset_deg: float | None
    catch_source: CatchSource | None
    scored: bool = True
    reason: str = ""
    start_deg: float = math.nan


def tardieu_trials(
    angle_deg: npt.ArrayLike,
    angle_rate_hz: float,
    emg_mv: npt.ArrayLike | None = None,
    emg_rate_hz: float | None = None,
    t0_ns: int = 0,
    *,
    stretch_sign: int | None = None,
) -> list[TardieuTrial]:
    """The slow and fast stretches of a Tardieu test, with R2, R1 and V3.

    Parameters
    ----------
    angle_deg : array_like, shape (n,)
        Joint angle in the joint's convention (:mod:`monitor.dsp.imu.joints`), degrees,
        from the start of the test (after any calibration routine).
    angle_rate_hz : float
        Its sample rate, Hz (at least 50).
    emg_mv : array_like, shape (m,), optional
        sEMG of the stretched muscle, mV, starting at the same instant ``t0_ns``.
    emg_rate_hz : float, optional
        Its sample rate, Hz (at least 400); required with ``emg_mv``.
    t0_ns : int
        UTC time of the first sample of both signals, ns.
    stretch_sign : {+1, -1}, optional
        +1 when stretching the muscle raises the angle (ankle plantarflexors), -1 when it
        lowers it (knee and elbow flexors). By default the direction of the fastest
        movement, which in a Tardieu test is a fast stretch; give it for slow-only tests.

    Returns
    -------
    list of TardieuTrial
        In time order.

    Raises
    ------
    ValueError
        Inputs of the wrong shape, non-finite values, a rate too low, EMG without its
        rate, or EMG whose length differs from the angle's by more than 1 s.

    Examples
    --------
    >>> t = np.arange(0, 6, 0.01)
    >>> angle = 90 - 80 * np.clip((t - 1) / 4, 0, 1)  # one slow extension at 20 °/s
    >>> [(tr.speed, round(tr.r2_deg)) for tr in tardieu_trials(angle, 100.0, stretch_sign=-1)]
    [('slow', 10)]
    """
    angle = _checked(angle_deg, angle_rate_hz, emg_mv, emg_rate_hz, stretch_sign)
    emg = None if emg_mv is None else np.asarray(emg_mv, dtype=np.float64)
    rate = float(angle_rate_hz)
    velocity = np.gradient(angle) * rate
    strokes = _strokes(angle, velocity, rate)
    if not strokes:
        return []
    if stretch_sign is None:
        fastest = max(strokes, key=lambda s: float(np.abs(velocity[s[0] : s[1] + 1]).max()))
        stretch_sign = 1 if angle[fastest[1]] > angle[fastest[0]] else -1
    envelope = None if emg is None or emg_rate_hz is None else _emg_envelope(emg, float(emg_rate_hz))
    trials = []
    for start, end in strokes:
        if np.sign(angle[end] - angle[start]) != stretch_sign:
            continue  # the limb going back
        u = stretch_sign * velocity
        peak = float(u[start : end + 1].max())
        onset_ns = t0_ns + round(start * 1e9 / rate)
        start_deg = float(angle[start])
        if peak <= SLOW_MAX_DPS:
            extreme = start + int(np.argmax(stretch_sign * angle[start : end + 1]))
            trials.append(
                TardieuTrial(
                    "slow", onset_ns, peak, float(angle[extreme]), None, None, None, start_deg=start_deg
                )
            )
            continue
        if peak < FAST_MIN_DPS:
            reason = f"too slow for a fast stretch: {peak:.0f} °/s, move faster (at least {FAST_MIN_DPS:.0f})"
            trials.append(
                TardieuTrial("fast", onset_ns, peak, None, None, None, None, False, reason, start_deg)
            )
            continue
        r1, emg_deg, source = _catch(angle, u, rate, start, end, peak, envelope, emg_rate_hz)
        trials.append(TardieuTrial("fast", onset_ns, peak, None, r1, emg_deg, source, start_deg=start_deg))
    return trials


def _checked(
    angle_deg: npt.ArrayLike,
    angle_rate_hz: float,
    emg_mv: npt.ArrayLike | None,
    emg_rate_hz: float | None,
    stretch_sign: int | None,
) -> FloatArray:
    angle = np.asarray(angle_deg, dtype=np.float64)
    if angle.ndim != 1:
        raise ValueError(f"angle_deg must have shape (n,), got {angle.shape}")
    if not np.isfinite(angle).all():
        raise ValueError("angle_deg has NaN or inf samples: pass one gap-free stretch of the test")
    if not (math.isfinite(angle_rate_hz) and angle_rate_hz >= _MIN_ANGLE_RATE_HZ):
        raise ValueError(
            f"angle_rate_hz must be >= {_MIN_ANGLE_RATE_HZ:g} Hz to time a catch, got {angle_rate_hz}"
        )
    if stretch_sign not in (None, 1, -1):
        raise ValueError(f"stretch_sign must be +1, -1 or None, got {stretch_sign}")
    if emg_mv is None:
        if emg_rate_hz is not None:
            raise ValueError("emg_rate_hz given without emg_mv")
        return angle
    emg = np.asarray(emg_mv, dtype=np.float64)
    if emg_rate_hz is None:
        raise ValueError("emg_mv needs emg_rate_hz")
    if not (math.isfinite(emg_rate_hz) and emg_rate_hz >= _MIN_EMG_RATE_HZ):
        raise ValueError(f"emg_rate_hz must be >= {_MIN_EMG_RATE_HZ:g} Hz, got {emg_rate_hz}")
    if emg.ndim != 1:
        raise ValueError(f"emg_mv must have shape (m,), got {emg.shape}")
    if not np.isfinite(emg).all():
        raise ValueError("emg_mv has NaN or inf samples")
    difference_s = abs(emg.size / emg_rate_hz - angle.size / angle_rate_hz)
    if difference_s > 1.0:
        raise ValueError(
            f"emg_mv and angle_deg must cover the same time; their lengths differ by {difference_s:.1f} s"
        )
    return angle


def _strokes(angle: FloatArray, velocity: FloatArray, rate: float) -> list[tuple[int, int]]:
    """(first, last) sample of every one-way movement of at least _MIN_EXCURSION_DEG."""
    width = max(1, round(0.05 * rate))
    smooth = np.convolve(velocity, np.ones(width) / width, mode="same")
    moving = np.abs(smooth) > _MOVING_DPS
    sign = np.sign(smooth) * moving
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sign, [0]])) != 0)
    strokes = []
    for first, stop in itertools.pairwise(edges):
        if sign[first] == 0:
            continue
        last = stop - 1
        if abs(angle[last] - angle[first]) >= _MIN_EXCURSION_DEG:
            strokes.append((int(first), int(last)))
    return strokes


def _catch(
    angle: FloatArray,
    u: FloatArray,
    rate: float,
    start: int,
    end: int,
    peak: float,
    envelope: tuple[FloatArray, float] | None,
    emg_rate_hz: float | None,
) -> tuple[float | None, float | None, CatchSource | None]:
    """R1, the EMG onset angle and the catch source of one scored fast stretch."""
    shortfall, anchors = _shortfall(u, rate, start, end, peak)
    if envelope is None or emg_rate_hz is None:
        onset = _first_catch(shortfall, anchors, CATCH_DROP_FRACTION * peak, None)
        if onset is None:
            return None, None, None
        return _angle_at(angle, _locate(u, rate, onset)), None, "deceleration"
    times = np.arange(angle.size) / rate
    emg_onset_s = _burst_onset(envelope[0], float(emg_rate_hz), times[start], times[end], envelope[1])
    if emg_onset_s is None:
        return None, None, None
    emg_deg = float(np.interp(emg_onset_s, times, angle))
    window = (emg_onset_s + EMG_TO_CATCH_S[0], emg_onset_s + EMG_TO_CATCH_S[1])
    onset = _first_catch(shortfall, anchors, 0.5 * CATCH_DROP_FRACTION * peak, (window, rate))
    if onset is None:
        return float(np.interp(emg_onset_s + _TYPICAL_DELAY_S, times, angle)), emg_deg, "emg"
    return _angle_at(angle, _locate(u, rate, onset)), emg_deg, "emg"


def _fit_filter(n_fit: int, n_ahead: int) -> FloatArray:
    """FIR weights predicting a sample ``n_ahead`` after the last of ``n_fit`` from their
    least-squares quadratic."""
    j = np.arange(-(n_fit - 1), 1, dtype=np.float64)
    design = np.stack([np.ones(n_fit), j, j * j], axis=1)
    weights: FloatArray = np.array([1.0, n_ahead, n_ahead**2]) @ np.linalg.pinv(design)
    return weights


def _shortfall(
    u: FloatArray, rate: float, start: int, end: int, peak: float
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Mean shortfall of the velocity below its prediction over _PERSIST_S, for each
    anchor sample (the last one fitted), °/s, and the anchors."""
    n_fit = max(3, round(_FIT_S * rate))
    n_ahead = max(1, round(_AHEAD_S * rate))
    n_persist = max(1, round(_PERSIST_S * rate))
    anchors = np.arange(start + n_fit - 1, end - n_ahead - n_persist + 2, dtype=np.int64)
    anchors = anchors[u[anchors] >= 0.5 * peak] if anchors.size else anchors
    shortfall = np.zeros(anchors.size)
    for i, a in enumerate(anchors):
        window = u[a - n_fit + 1 : a + 1]
        predicted = [_fit_filter(n_fit, n_ahead + m) @ window for m in range(n_persist)]
        shortfall[i] = float(np.mean(np.array(predicted) - u[a + n_ahead : a + n_ahead + n_persist]))
    return shortfall, anchors


def _first_catch(
    shortfall: FloatArray,
    anchors: npt.NDArray[np.int64],
    threshold_dps: float,
    window: tuple[tuple[float, float], float] | None,
) -> int | None:
    """The first anchor whose shortfall reaches the threshold (inside an EMG window)."""
    hits = shortfall >= threshold_dps
    if window is not None:
        (lo_s, hi_s), rate = window
        # The deceleration starts after the anchor and before the predicted sample.
        onset_s = (anchors + 1) / rate
        hits &= (onset_s >= lo_s - _AHEAD_S) & (onset_s <= hi_s)
    found = np.flatnonzero(hits)
    return None if found.size == 0 else int(anchors[found[0]])


def _locate(u: FloatArray, rate: float, anchor: int) -> float:
    """Fractional sample of the deceleration onset after ``anchor``: where the shortfall
    below the extrapolated profile first reaches half its size in the next 60 ms, less
    half a torque rise time."""
    n_fit = max(3, round(_FIT_S * rate))
    n_after = max(2, round(0.06 * rate))
    window = u[anchor - n_fit + 1 : anchor + 1]
    stop = min(u.size, anchor + 1 + n_after)
    ahead = np.arange(1, stop - anchor)
    predicted = np.array([_fit_filter(n_fit, int(m)) @ window for m in ahead])
    short = np.concatenate([[0.0], predicted - u[anchor + 1 : stop]])
    half = 0.5 * float(short.max())
    k = int(np.argmax(short >= half))
    fraction = (half - short[k - 1]) / (short[k] - short[k - 1]) if k > 0 and short[k] > short[k - 1] else 0.0
    return anchor + (k - 1 + fraction) - _HALF_RISE_S * rate


def _angle_at(angle: FloatArray, index: float) -> float:
    return float(np.interp(index, np.arange(angle.size), angle))


def _emg_envelope(emg: FloatArray, rate: float) -> tuple[FloatArray, float]:
    """Linear envelope (20 Hz high-pass, removing motion artefact; rectified; 40 Hz
    low-pass), mV, and the rate. Zero-phase: a batch measurement may look ahead."""
    high = signal.butter(4, 20.0, "highpass", fs=rate, output="sos")
    low = signal.butter(2, 40.0, "lowpass", fs=rate, output="sos")
    envelope: FloatArray = signal.sosfiltfilt(low, np.abs(signal.sosfiltfilt(high, emg)))
    return envelope, rate


def _burst_onset(envelope: FloatArray, rate: float, start_s: float, end_s: float, _: float) -> float | None:
    """Onset of the reflex burst during a stretch, s, or None: the envelope above the
    rest before the stretch by 8 SD for 20 ms (Hodges & Bui 1996, Electroencephalogr Clin
    Neurophysiol 101:511 use 3 SD for voluntary onsets; a reflex burst is sharper, and a
    higher bar keeps motion artefact out), traced back to where it left 3 SD."""
    lo = max(0, round((start_s - 0.5) * rate))
    hi = round(start_s * rate)
    first, last = hi, min(envelope.size, round((end_s + 0.05) * rate))
    if hi - lo < round(0.1 * rate) or last - first < 2:
        return None
    rest = envelope[lo:hi]
    mean, sd = float(rest.mean()), float(rest.std()) + 1e-9
    above = envelope[first:last] > mean + 8 * sd
    n_hold = max(1, round(0.02 * rate))
    run = np.convolve(above, np.ones(n_hold, dtype=int), mode="valid") == n_hold
    found = np.flatnonzero(run)
    if found.size == 0:
        return None
    k = first + int(found[0])
    while k > first and envelope[k - 1] > mean + 3 * sd:
        k -= 1
    return k / rate
