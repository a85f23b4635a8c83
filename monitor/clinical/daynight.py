"""Day versus night spasm counts, in the patient's local time.

Nocturnal spasms disturb sleep and are a reason to change the evening dose; daytime ones
hinder transfers and therapy. The night is a window of local clock time, 22:00–07:00 by
default, which may cross midnight. Counts are reported per **local calendar date**: the
night count of a date is its spasms before the night ends (00:00–07:00) plus those after
it starts (22:00–24:00), so that each date's day and night counts add up to its total.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.clinical.events import to_local


@dataclass(frozen=True, slots=True)
class NightWindow:
    """Local clock times that bound the night; ``start`` after ``end`` means it crosses midnight.

    Examples
    --------
    >>> night = NightWindow()
    >>> night.contains(dt.time(23, 30)), night.contains(dt.time(12, 0))
    (True, False)
    """

    start: dt.time = dt.time(22, 0)
    end: dt.time = dt.time(7, 0)

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"night start and end are both {self.start}: the night would be empty")

    def contains(self, clock: dt.time) -> bool:
        """Whether local clock time ``clock`` is at night (start inclusive, end exclusive)."""
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


@dataclass(frozen=True, slots=True)
class DayNight:
    """Spasms of one local date, split into day and night."""

    date: dt.date
    day: int
    night: int


def day_night_counts(
    onsets_ns: Iterable[int], tz: ZoneInfo, night: NightWindow | None = None
) -> list[DayNight]:
    """Count spasms per local date, split into day and night.

    Parameters
    ----------
    onsets_ns : iterable of int
        UTC spasm onsets, ns.
    tz : ZoneInfo
        The patient's timezone.
    night : NightWindow, optional
        Local night window; 22:00–07:00 by default.

    Returns
    -------
    list of DayNight
        One per local date that had a spasm, in date order.

    Examples
    --------
    >>> from monitor.types import NS_PER_S
    >>> t = 1_700_000_000 * NS_PER_S  # 2023-11-14 22:13:20 UTC
    >>> [(c.day, c.night) for c in day_night_counts([t, t + 12 * 3600 * NS_PER_S], ZoneInfo("UTC"))]
    [(0, 1), (1, 0)]
    """
    window = night or NightWindow()
    days: Counter[dt.date] = Counter()
    nights: Counter[dt.date] = Counter()
    for t in onsets_ns:
        local = to_local(t, tz)
        (nights if window.contains(local.time()) else days)[local.date()] += 1
    dates = sorted(set(days) | set(nights))
    return [DayNight(d, days[d], nights[d]) for d in dates]
