"""Enough observed time to state a rate, a change or a Penn score: the one rule.

A rate (spasms per observed hour), a Penn frequency score (a per-hour scale), a weekly or
per-day rate, and each side of a before/after change are stated only when the time they
divide by is at least :data:`MIN_RATE_H` observed hours. Below it the count is still shown
(it is what was seen), but the rate, the score and the change say "too little data: N min".

Why half an hour (our choice, with a statistical reason):

- A count ``n`` in ``T`` observed hours bounds the rate only loosely when ``T`` is short. With
  no spasm seen, the exact one-sided 95 % Poisson upper bound of the rate is
  ``-ln(0.05) / T ~= 3.0 / T`` per hour: 1,080/h after 10 s, 180/h after 1 min, 6/h after
  half an hour. Half an hour is the shortest observation in which seeing no spasm rules out
  Penn's top category (more than 10 an hour, Penn et al. 1989) with a margin; a minute
  cannot tell a calm patient from a severe one.
- An hourly score must allow an hour that was not watched whole (a reconnect, a charge, a
  sensor put on at a quarter past): a whole-hour rule would leave almost every real hour
  without a score.
- A minute is not a sample of the patient's day: spasms cluster (transfers, a full bladder,
  night), so a short stretch says more about that moment than about the rate. The 95 %
  interval of a window's rate ratio (:mod:`monitor.clinical.cycle`) then decides whether a
  change is clear; this rule decides only whether there is a rate to compare at all.

It is a constant, not a ``[clinical]`` setting: it is the scale's unit, and two clinics must
not score Penn differently from the same data. ``[clinical] min_wear_h`` (Snow's 24-hour
count, :mod:`monitor.clinical.snow`) is the other, longer threshold.
"""

from __future__ import annotations

MIN_RATE_H = 0.5  # observed hours a rate, a change or a Penn frequency score needs


def rate_stated(observed_s: float) -> bool:
    """Whether ``observed_s`` seconds of observed time are enough to state a rate.

    Parameters
    ----------
    observed_s : float
        Observed time the rate divides by, s.

    Examples
    --------
    >>> rate_stated(1800.0), rate_stated(61.0), rate_stated(0.0)
    (True, False, False)
    """
    return observed_s > 0 and observed_s >= MIN_RATE_H * 3600.0


def too_little_text(observed_s: float) -> str:
    """What a rate below the rule says instead: ``"too little data: 1 min"``.

    Examples
    --------
    >>> too_little_text(61.0), too_little_text(10.0), too_little_text(0.0), too_little_text(2520.0)
    ('too little data: 1 min', 'too little data: 10 s', 'no data', 'too little data: 42 min')
    """
    if observed_s <= 0:
        return "no data"
    if observed_s < 60.0:
        return f"too little data: {observed_s:.0f} s"
    return f"too little data: {observed_s / 60.0:.0f} min"


__all__ = ["MIN_RATE_H", "rate_stated", "too_little_text"]
