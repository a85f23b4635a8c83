"""Penn Spasm Frequency Scale (0–4) and a Penn severity grade (1–3).

Source: Penn RD, Savoy SM, Corcos D, et al. Intrathecal baclofen for severe spinal
spasticity. N Engl J Med 1989;320:1517–1521. The frequency scale:

- 0: no spasms
- 1: spasms induced only by stimulation
- 2: infrequent spontaneous spasms, less than once per hour
- 3: spasms more than once per hour (the issue states it as 1 to 10 per hour)
- 4: spasms more than 10 times per hour

How the wearable maps onto it
-----------------------------
- **0** is no detected spasm in the period.
- **1 is never produced.** Whether a spasm was *induced by stimulation* (touch, transfer,
  a full bladder) cannot be seen in EMG; every detected spasm counts as spontaneous. A
  patient whose clinician rates 1 will show here as 0 or 2 depending on whether the
  provoked spasms were detected. Dashboards must say so.
- **2, 3, 4** come from the spasm rate: ``0 < rate < 1/h`` → 2, ``1/h <= rate <= 10/h`` → 3
  (a rate of exactly 1/h is "1 to 10"), ``rate > 10/h`` → 4.

Hourly and daily scores
-----------------------
Nothing is scored from less than half an observed hour (:mod:`monitor.clinical.enough`):
a minute's 10 spasms are no "more than 10 per hour".
An hour's rate is its integer count, so an hourly score is 0, 3 or 4 (one spasm in one
hour is already 1/h). The scale asks for the *typical* frequency over the recall period,
so the daily score is the score of the **mean hourly rate over the day's observed hours**
(spasms / observed hours). We chose the mean rate over the median or the maximum of the
hourly scores because the median erases the scale's own category 2 ("infrequent, less
than once an hour": 5 spasms in 24 h gives a median hourly score of 0, but a rate of
0.21/h, score 2), and the maximum lets one bad hour rate the whole day 4.

Severity
--------
Penn's severity grades (1 mild, 2 moderate, 3 severe) are a clinician's judgement with no
numeric definition. This rule, a project convention to be calibrated against clinician
ratings, grades one spasm by its duration and its peak envelope over the resting
baseline (a surface-EMG intensity measure that is comparable across electrode sites):

- 3 (severe): duration >= 10 s, or peak >= 10 × baseline
- 2 (moderate): duration >= 3 s, or peak >= 5 × baseline
- 1 (mild): otherwise (including IMU-only events with no EMG intensity)

The daily severity is the upper median of that day's per-spasm grades (the typical spasm,
as the frequency score is the typical rate), and is undefined on a day without spasms.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.clinical.enough import rate_stated

# Frequency thresholds of Penn et al. 1989, spasms per hour.
PENN_INFREQUENT_BELOW_PER_H = 1.0  # score 2 below this rate
PENN_FREQUENT_ABOVE_PER_H = 10.0  # score 4 above this rate

# Severity rule (project convention, see module docstring).
SEVERE_DURATION_S = 10.0
SEVERE_PEAK_X_BASELINE = 10.0
MODERATE_DURATION_S = 3.0
MODERATE_PEAK_X_BASELINE = 5.0


def penn_frequency_for_rate(rate_per_h: float) -> int:
    """Penn frequency score (0, 2, 3 or 4) of a spasm rate.

    Parameters
    ----------
    rate_per_h : float
        Spasms per hour, >= 0.

    Returns
    -------
    int
        0 for no spasms, 2 below 1/h, 3 for 1 to 10/h, 4 above 10/h. Never 1 (see module notes).

    Examples
    --------
    >>> [penn_frequency_for_rate(r) for r in (0, 0.2, 1, 10, 10.5)]
    [0, 2, 3, 3, 4]
    """
    if not rate_per_h >= 0:
        raise ValueError(f"rate_per_h must be >= 0, got {rate_per_h}")
    if rate_per_h == 0:
        return 0
    if rate_per_h < PENN_INFREQUENT_BELOW_PER_H:
        return 2
    if rate_per_h <= PENN_FREQUENT_ABOVE_PER_H:
        return 3
    return 4


def penn_hourly_frequency(spasms: int) -> int:
    """Penn frequency score of one observed hour with ``spasms`` spasms (0, 3 or 4)."""
    if spasms < 0:
        raise ValueError(f"spasms must be >= 0, got {spasms}")
    return penn_frequency_for_rate(float(spasms))


def penn_daily_frequency(spasms: int, observed_hours: float) -> int | None:
    """Daily Penn frequency score: the score of the mean hourly rate over the observed hours.

    Parameters
    ----------
    spasms : int
        Spasms detected in the day's observed hours.
    observed_hours : float
        Hours of the day with data, h (24 for a full day; 23 or 25 on DST days).

    Returns
    -------
    int or None
        The score, or None with less than :data:`~monitor.clinical.enough.MIN_RATE_H` observed
        (no data is not "no spasms", and a minute is no per-hour count).

    Examples
    --------
    >>> penn_daily_frequency(5, 24), penn_daily_frequency(48, 24), penn_daily_frequency(0, 0)
    (2, 3, None)
    >>> penn_daily_frequency(10, 61 / 3600)  # the demo's live minute: not 4
    """
    if not rate_stated(observed_hours * 3600.0):
        return None
    return penn_frequency_for_rate(spasms / observed_hours)


def penn_severity(duration_s: float, peak_x_baseline: float | None) -> int:
    """Severity grade 1–3 of one spasm from its duration and peak intensity (rule in module notes).

    Parameters
    ----------
    duration_s : float
        Spasm duration, s.
    peak_x_baseline : float or None
        Peak envelope as a multiple of the resting baseline; None when unknown.

    Examples
    --------
    >>> penn_severity(1.0, 3.0), penn_severity(4.0, 3.0), penn_severity(1.0, 12.0)
    (1, 2, 3)
    """
    peak = 0.0 if peak_x_baseline is None else peak_x_baseline
    if duration_s >= SEVERE_DURATION_S or peak >= SEVERE_PEAK_X_BASELINE:
        return 3
    if duration_s >= MODERATE_DURATION_S or peak >= MODERATE_PEAK_X_BASELINE:
        return 2
    return 1


def penn_daily_severity(grades: Sequence[int]) -> int | None:
    """The upper median of a day's per-spasm severity grades; None without spasms.

    Examples
    --------
    >>> penn_daily_severity([1, 1, 3, 3]), penn_daily_severity([1, 2, 3]), penn_daily_severity([])
    (3, 2, None)
    """
    if not grades:
        return None
    return sorted(grades)[len(grades) // 2]
