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
detector already merges clonic bursts into one event, so its count is Snow's count. A day
with only part of its 24 hours observed is scored on what was seen (never extrapolated);
the daily ``clinical_score`` carries ``observed_hours`` so a partial day can be discounted.
"""

from __future__ import annotations

# Lower bounds of scores 3, 4 and 5, spasms per 24 h (Snow et al. 1990).
SNOW_SCORE_3_FROM = 2
SNOW_SCORE_4_FROM = 5
SNOW_SCORE_5_FROM = 10


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
