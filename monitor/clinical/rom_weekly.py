"""Range of motion over the physical-therapy weeks: the best range per joint and week.

Stretching and PT aim to keep or regain range; a clinician reads the trend of the *best*
range a joint reached each week (the weekly maximum), which is robust to days the patient
did not exercise. Ranges come from ``rom`` records (``range_deg``) of the exercise-set and
window periods by default; the hour and day periods merge unrelated movements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.store.schema import ROM
from monitor.types import NS_PER_S, Record

NS_PER_WEEK = 7 * 86_400 * NS_PER_S
DEFAULT_PERIODS = ("set", "window")


@dataclass(frozen=True, slots=True)
class WeeklyRom:
    """The best range of one joint in one week.

    Attributes
    ----------
    joint : str
        Joint name (``knee``, ``elbow``, ...).
    week : int
        Week number from ``start_ns`` (0 is the first week).
    week_start_ns : int
        UTC start of that week, ns.
    max_range_deg : float
        Largest ``range_deg`` of the week, degrees.
    windows : int
        Number of ``rom`` records that week.
    """

    joint: str
    week: int
    week_start_ns: int
    max_range_deg: float
    windows: int


def weekly_rom(
    records: Iterable[Record], start_ns: int, periods: tuple[str, ...] = DEFAULT_PERIODS
) -> list[WeeklyRom]:
    """Weekly maximum range of motion per joint, from ``start_ns`` (e.g. the first PT session).

    Parameters
    ----------
    records : iterable of Record
        Any records; only ``rom`` records at or after ``start_ns`` of the given periods count.
    start_ns : int
        UTC start of week 0, ns.
    periods : tuple of str
        ``period`` tags to use.

    Returns
    -------
    list of WeeklyRom
        Sorted by joint, then week; weeks without records are absent.
    """
    best: dict[tuple[str, int], float] = {}
    counts: defaultdict[tuple[str, int], int] = defaultdict(int)
    for r in records:
        if r.measurement != ROM or r.time_ns < start_ns or r.tags.get("period") not in periods:
            continue
        key = (r.tags.get("joint", ""), (r.time_ns - start_ns) // NS_PER_WEEK)
        range_deg = float(r.fields["range_deg"])
        best[key] = max(best.get(key, range_deg), range_deg)
        counts[key] += 1
    return [
        WeeklyRom(joint, week, start_ns + week * NS_PER_WEEK, best[(joint, week)], counts[(joint, week)])
        for joint, week in sorted(best)
    ]
