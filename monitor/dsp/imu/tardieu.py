"""The Modified Tardieu Scale from a joint angle (and EMG): R1, R2 and V3 per stretch.

A carer stretches the relaxed muscle slowly (V1) to the end of its passive range (R2),
then as fast as they can (V3) until the stretch reflex "catches" the limb (R1; Boyd &
Graham 1999, Eur J Neurol 6:S23). :func:`tardieu_trials` finds those stretches in a joint
angle and measures them.

Stretches. A stretch is a movement (smoothed speed above ``_MOVING_DPS``) of at least
``_MIN_EXCURSION_DEG`` in the stretch direction; movements back (the carer returning the
limb) are not trials. A peak velocity up to ``SLOW_MAX_DPS`` makes a slow trial, whose R2
is the angle farthest from its start, searched up to the next movement (the last degrees of
a slow stretch creep on below the movement threshold); faster ones are fast trials, scored
only from ``FAST_MIN_DPS`` (a "fast" stretch below it is reported with ``scored=False``: too
slow to bring out a velocity-dependent reflex, and the reason most manual R1 differ; Banky
et al. 2019, J Rehabil Med 51).

The catch (R1) is the onset of the reflex deceleration the examiner feels, found from the
angle and, when worn, the EMG of the stretched muscle: :mod:`monitor.dsp.imu.tardieu_catch`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu.tardieu_catch import CatchSource, emg_envelope, find_catch

FloatArray = npt.NDArray[np.float64]
Speed = Literal["slow", "fast"]

# A stretch peaking at or below this is a slow (V1) trial, °/s; faster ones are fast trials.
SLOW_MAX_DPS = 45.0
# Fast trials are scored from this peak velocity, °/s (V3 in the clinic is "as fast as
# possible", typically 180-400 °/s in the upper and lower limb).
FAST_MIN_DPS = 180.0
_MOVING_DPS = 5.0
_MIN_EXCURSION_DEG = 15.0
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
    envelope = None if emg is None or emg_rate_hz is None else emg_envelope(emg, float(emg_rate_hz))
    trials = []
    for i, (start, end) in enumerate(strokes):
        if np.sign(angle[end] - angle[start]) != stretch_sign:
            continue  # the limb going back
        u = stretch_sign * velocity
        peak = float(u[start : end + 1].max())
        onset_ns = t0_ns + round(start * 1e9 / rate)
        start_deg = float(angle[start])
        if peak <= SLOW_MAX_DPS:
            # A slow stretch creeps on into the end range below the movement threshold:
            # its farthest angle is searched up to the next movement.
            until = strokes[i + 1][0] if i + 1 < len(strokes) else angle.size
            extreme = start + int(np.argmax(stretch_sign * angle[start:until]))
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
        r1, emg_deg, source = find_catch(angle, u, rate, start, end, peak, envelope)
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
