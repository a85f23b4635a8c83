"""The catch of a fast Tardieu stretch (R1), from the joint angle and, when worn, the EMG.

The examiner feels the catch as the limb slowing against the reflex torque, so R1 is the
angle at the onset of the reflex deceleration. What tells it from a stretch without a reflex
is its time course. A carer's stretch slows smoothly, as the carer ends the movement or the
passive end range stiffens: its velocity follows a smooth curve over any 80 ms. The reflex
torque rises within 20-30 ms (``_CATCH_RISE_S``), so a catch is a *step* down of the
velocity, well before the end, that lasts: the limb is held for 50 ms or more, then released
or stopped. Around every sample where the limb still moves at half its peak velocity or more
(``_CATCH_FLOOR``: the reflex is velocity-dependent, and a stretch's own ending is slower),
the velocity over ±40 ms is fitted with a quadratic (the carer) plus a smoothed step
starting at that sample (the reflex). A catch is the first run of samples whose step (i)
loses at least ``CATCH_MIN_LOSS`` of the velocity and (ii) stands ``CATCH_MIN_Z`` standard
errors above the trial's own noise around that model (its median residual over the stretch:
sensor noise and the orientation filter's corrections during fast motion, whatever the joint
or sensors), and (iii) is not made up by a step back up within 50 ms (a brief dip: a carer's
jitter, or the orientation filter correcting the angle during fast motion). R1 is the angle
at the best-fitting onset in that run, to a tenth of a sample.

EMG. When given, the EMG of the stretched muscle confirms a catch: a burst (envelope
above the rest before the stretch) must begin during the stretch, and the step is searched
30-100 ms after its onset (reflex latency is before the EMG; this window is the
electromechanical delay, 30-60 ms, plus a margin) with half the thresholds, which locates
weak catches the angle alone misses. The burst's own angle is ``emg_onset_deg``: earlier
in the range than R1 by velocity × delay (10-20° at V3), so it is reported apart. With
EMG worn, a step without a burst is no catch (a carer's hesitation), and a burst without a
visible step gives R1 at its onset plus the typical delay (``_TYPICAL_DELAY_S``).

Limits: the angle lags the truth by about 5 ms during fast stretches (1-2° at V3); a catch
losing less than 15 % of the velocity, or coming once the limb has slowed to under half its
peak, is found only with EMG; the step's shape assumes the 20-30 ms torque rise of
:mod:`monitor.synth.tardieu`: a catch rising over 40-60 ms is located about 2° late and a
quarter of them are missed without EMG (a slower step is no longer told from the carer's own
braking); at 50 Hz a catch's rise is one sample and one catch in five is missed without EMG;
a carer braking abruptly mid-range, or a hard end-feel of a contracture stopping a fast
stretch, looks like a catch unless EMG is worn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

FloatArray = npt.NDArray[np.float64]
CatchSource = Literal["emg", "deceleration"]

# Kinematic catch: a step down of the velocity of at least this fraction of the velocity
# at its onset, and this many standard errors of the trial's own noise (with EMG
# confirming, _EMG_CONFIRMED of both). The two-IMU angle's own dynamic error during fast
# stretches is a dip of 5-10 % of the velocity over 20-30 ms where the orientation filter
# corrects it (bench/tardieu_accuracy, no-reflex stretches): a catch must lose more.
CATCH_MIN_LOSS = 0.15
CATCH_MIN_Z = 5.0
_EMG_CONFIRMED = 0.5
# Electromechanical delay window searched after the EMG onset, s (Cavanagh & Komi 1979,
# Eur J Appl Physiol 42:159: 30-60 ms, with a margin for slower muscles).
EMG_TO_CATCH_S = (0.030, 0.100)
_TYPICAL_DELAY_S = 0.045  # mid-range electromechanical delay
_TIMING_MARGIN_S = 0.015  # the angle's timing error (the orientation filter lags ~5 ms)
# The reflex torque rises within 20-30 ms (the twitch of a reflex volley); the carer's
# smooth velocity is fitted this long on each side of a candidate onset.
_CATCH_RISE_S = 0.025
_STEP_HALF_WINDOW_S = 0.04
# The hold lasts 50 ms or more after the rise: a step back up within this is a brief dip.
_BRIEF_DIP_S = 0.05
# A catch comes while the limb moves at least this fraction of its peak velocity: the
# reflex is velocity-dependent, and a stretch ending by itself is slower than that.
_CATCH_FLOOR = 0.5


def find_catch(
    angle: FloatArray,
    u: FloatArray,
    rate: float,
    start: int,
    end: int,
    peak: float,
    envelope: tuple[FloatArray, float] | None,
) -> tuple[float | None, float | None, CatchSource | None]:
    """R1, the EMG onset angle and the catch source of one scored fast stretch.

    Parameters
    ----------
    angle : ndarray, shape (n,)
        Joint angle, degrees.
    u : ndarray, shape (n,)
        Its velocity in the stretch direction, °/s.
    rate : float
        Their sample rate, Hz.
    start, end : int
        First and last sample of the stretch.
    peak : float
        The stretch's peak velocity, °/s.
    envelope : (ndarray, float), optional
        The stretched muscle's EMG envelope (:func:`emg_envelope`), mV, and its rate, Hz,
        from the same instant as ``angle``; None without EMG.

    Returns
    -------
    r1_deg : float or None
        The angle at the catch's onset, degrees; None without a catch.
    emg_onset_deg : float or None
        The angle when the reflex burst began (with EMG), degrees.
    source : {"emg", "deceleration"} or None
    """
    steps = _velocity_steps(u, rate, start, end, peak)
    if envelope is None:
        onset = _first_catch(u, rate, steps, CATCH_MIN_LOSS, CATCH_MIN_Z, None)
        if onset is None:
            return None, None, None
        return _angle_at(angle, onset), None, "deceleration"
    times = np.arange(angle.size) / rate
    emg_onset_s = _burst_onset(envelope[0], envelope[1], times[start], times[end])
    if emg_onset_s is None:
        return None, None, None
    emg_deg = float(np.interp(emg_onset_s, times, angle))
    # The deceleration starts within the electromechanical delay after the burst, give or
    # take the angle's own timing error.
    window = (
        (emg_onset_s + EMG_TO_CATCH_S[0] - _TIMING_MARGIN_S) * rate,
        (emg_onset_s + EMG_TO_CATCH_S[1] + _TIMING_MARGIN_S) * rate,
    )
    confirmed = (_EMG_CONFIRMED * CATCH_MIN_LOSS, _EMG_CONFIRMED * CATCH_MIN_Z)
    onset = _first_catch(u, rate, steps, *confirmed, window)
    if onset is None:  # too weak to see in the angle: the burst plus the typical delay
        return float(np.interp(emg_onset_s + _TYPICAL_DELAY_S, times, angle)), emg_deg, "emg"
    return _angle_at(angle, onset), emg_deg, "emg"


@dataclass(frozen=True, slots=True)
class _Steps:
    """Candidate catch onsets of one stretch and the velocity step fitted at each."""

    onset: npt.NDArray[np.int64]  # sample of the step's start
    loss: FloatArray  # velocity lost, as a fraction of the velocity at the onset
    z: FloatArray  # the step over its standard error (the trial's own residual noise)


def _model_samples(rate: float) -> tuple[int, float]:
    """The model's half window (at least 3 samples, for 4 parameters) and the rise, samples."""
    return max(3, round(_STEP_HALF_WINDOW_S * rate)), max(1.0, _CATCH_RISE_S * rate)


def _step_design(half: int, rise: float, shift: float = 0.0) -> FloatArray:
    """Columns of the local model over samples -half..half: the carer's smooth velocity
    (a quadratic) and a reflex step down starting at ``shift`` and rising over ``rise``."""
    x = np.arange(-half, half + 1, dtype=np.float64)
    return np.column_stack([np.ones_like(x), x, x * x, -_smoothstep((x - shift) / rise)])


def _velocity_steps(u: FloatArray, rate: float, start: int, end: int, peak: float) -> _Steps:
    """Fit the smooth-plus-step model around every sample of the stretch where the limb
    moves at least ``_CATCH_FLOOR`` of its peak velocity (a catch comes well before the
    end; a stretch's own ending is slower than that)."""
    half, rise = _model_samples(rate)
    candidates = np.arange(max(start, half), min(end, u.size - 1 - half) + 1, dtype=np.int64)
    candidates = candidates[u[candidates] >= _CATCH_FLOOR * peak]
    if candidates.size == 0:
        return _Steps(candidates, np.zeros(0), np.zeros(0))
    design = _step_design(half, rise)
    windows = np.lib.stride_tricks.sliding_window_view(u, 2 * half + 1)[candidates - half]
    coef = windows @ np.linalg.pinv(design).T
    rss = np.sum((windows - coef @ design.T) ** 2, axis=1)
    # The noise of this trial around the model: most windows hold no catch, so the median
    # residual is the angle's own error during the stretch (sensor noise and the orientation
    # filter's corrections), whatever the joint or the sensors.
    sigma_dps = math.sqrt(float(np.median(rss)) / (design.shape[0] - design.shape[1]))
    standard_error = sigma_dps * math.sqrt(float(np.linalg.inv(design.T @ design)[-1, -1]))
    step_dps = coef[:, -1]
    return _Steps(candidates, step_dps / u[candidates], step_dps / max(standard_error, 1e-9))


def _first_catch(
    u: FloatArray,
    rate: float,
    steps: _Steps,
    min_loss: float,
    min_z: float,
    window: tuple[float, float] | None,
) -> float | None:
    """Fractional sample of the first catch's onset: the first run of candidates with a
    step of at least ``min_loss`` and ``min_z`` (inside ``window``, samples, if given) that
    the velocity does not make up within ``_BRIEF_DIP_S``; in it, the onset that fits best,
    refined to a tenth of a sample."""
    hits = (steps.loss >= min_loss) & (steps.z >= min_z)
    if window is not None:
        hits &= (steps.onset >= window[0]) & (steps.onset <= window[1])
    found = np.flatnonzero(hits)
    if found.size == 0:
        return None
    # A reflex holds the limb for 50 ms or more after its rise, so its release starts 75 ms
    # or more after the onset: a step back up as large within _BRIEF_DIP_S (75 ms less the
    # onsets' timing error) makes a brief dip (a carer's jitter, an angle correction).
    hold = round(_BRIEF_DIP_S * rate)
    step_dps = steps.loss * u[steps.onset]
    for run in np.split(found, np.flatnonzero(np.diff(steps.onset[found]) != 1) + 1):
        best = int(run[np.argmax(steps.z[run])])
        onset = int(steps.onset[best])
        after = (steps.onset > onset) & (steps.onset <= onset + hold)
        if np.any(after & (step_dps <= -0.5 * step_dps[best]) & (steps.z <= -min_z)):
            continue
        return onset + _subsample(u, rate, onset)
    return None


def _subsample(u: FloatArray, rate: float, onset: int) -> float:
    """The shift, in [-0.5, 0.5] samples, of the step onset that fits best around ``onset``."""
    half, rise = _model_samples(rate)
    y = u[onset - half : onset + half + 1]
    shifts = np.linspace(-0.5, 0.5, 11)
    rss = []
    for shift in shifts:
        design = _step_design(half, rise, float(shift))
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        rss.append(float(np.sum((y - design @ coef) ** 2)))
    return float(shifts[int(np.argmin(rss))])


def _angle_at(angle: FloatArray, index: float) -> float:
    return float(np.interp(index, np.arange(angle.size), angle))


def emg_envelope(emg: FloatArray, rate: float) -> tuple[FloatArray, float]:
    """The linear envelope of ``emg`` (mV, at ``rate`` Hz), mV, and the rate: 20 Hz
    high-pass (removing motion artefact), rectified, 40 Hz low-pass. Zero-phase: a batch
    measurement may look ahead."""
    high = signal.butter(4, 20.0, "highpass", fs=rate, output="sos")
    low = signal.butter(2, 40.0, "lowpass", fs=rate, output="sos")
    envelope: FloatArray = signal.sosfiltfilt(low, np.abs(signal.sosfiltfilt(high, emg)))
    return envelope, rate


def _burst_onset(envelope: FloatArray, rate: float, start_s: float, end_s: float) -> float | None:
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


def _smoothstep(x: FloatArray) -> FloatArray:
    x = np.clip(x, 0.0, 1.0)
    out: FloatArray = x * x * (3.0 - 2.0 * x)
    return out
