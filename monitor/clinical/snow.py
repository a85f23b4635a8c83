"""Snow's 24-hour spasm frequency score (1–5).

Source: Snow BJ, Tsui JKC, Bhatt MH, Varelas M, Hashimoto SA, Calne DB. Treatment of
spasticity with botulinum toxin: a double-blind study. Ann Neurol 1990;28:512–515.
"How many spasms has the patient had in the last 24 hours?"

- 1: no spasms
- 2: one spasm or fewer per day
- 3: between one and five spasms per day
- 4: between five and nine spasms per day
- 5: ten or more spasms per day

With whole counts this reads 0 → 1, 1 → 2, 2–4 → 3, 5–9 → 4, >= 10 → 5 ("between one and
five" excludes five, which starts "five to nine").

Snow also defines a rapid series of spasms without a significant pause as one spasm; the
detector already merges clonic bursts into one event, so its count is Snow's count.

The score is a count per 24 hours, so it is honest only for a day that was mostly observed:
a local day gets it only when at least ``min_wear_h`` hours of it were observed
(:data:`DEFAULT_MIN_WEAR_H`, ``[clinical] min_wear_h`` in config.toml). That threshold is our
own choice, not Snow's (the scale assumes the whole day was seen); the count is never
extrapolated to 24 h. Other days say "not scored: N h worn" (:func:`not_scored_text`).
"""

from __future__ import annotations

# Lower bounds of scores 3, 4 and 5, spasms per 24 h (Snow et al. 1990).
SNOW_SCORE_3_FROM = 2
SNOW_SCORE_4_FROM = 5
SNOW_SCORE_5_FROM = 10
# Observed hours a local day needs for a 24-hour count (our choice: a third of the day, so
# that a night-and-morning or a working day of wear is scored; docs/clinical.md).
DEFAULT_MIN_WEAR_H = 8.0


def snow_scorable(observed_s: float, min_wear_h: float = DEFAULT_MIN_WEAR_H) -> bool:
    """Whether a day with ``observed_s`` seconds observed gets Snow's 24-hour score.

    Examples
    --------
    >>> snow_scorable(8 * 3600.0), snow_scorable(3 * 3600.0)
    (True, False)
    """
    return observed_s > 0 and observed_s >= min_wear_h * 3600.0


def not_scored_text(observed_s: float) -> str:
    """What a day without Snow's score says instead, e.g. ``"not scored: 3 h worn"``.

    Examples
    --------
    >>> not_scored_text(3 * 3600.0), not_scored_text(1800.0), not_scored_text(7.94 * 3600)
    ('not scored: 3 h worn', 'not scored: 0.5 h worn', 'not scored: 7.9 h worn')
    >>> not_scored_text(61.0)
    'not scored: 1 min worn'
    """
    if observed_s < 360.0:  # under 0.1 h: "0 h worn" would read as not worn at all
        return f"not scored: {max(1, round(observed_s / 60.0))} min worn"
    # One decimal, so that 7.96 h does not read as the 8 h it fell short of.
    hours = f"{observed_s / 3600.0:.1f}".removesuffix(".0")
    return f"not scored: {hours} h worn"


def snow_frequency(spasms_24h: int) -> int:
    """Snow's spasm frequency score of a 24-hour spasm count.

    Parameters
    ----------
    spasms_24h : int
        Spasms in the 24 hours (or local calendar day), >= 0.

    Returns
    -------
    int
        1 to 5.

    Examples
    --------
    >>> [snow_frequency(n) for n in (0, 1, 2, 4, 5, 9, 10, 40)]
    [1, 2, 3, 3, 4, 4, 5, 5]
    """
    if spasms_24h < 0:
        raise ValueError(f"spasms_24h must be >= 0, got {spasms_24h}")
    if spasms_24h == 0:
        return 1
    if spasms_24h < SNOW_SCORE_3_FROM:
        return 2
    if spasms_24h < SNOW_SCORE_4_FROM:
        return 3
    if spasms_24h < SNOW_SCORE_5_FROM:
        return 4
    return 5
