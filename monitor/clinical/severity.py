"""Spasm severity graded against the patient's own reference distribution.

A fixed threshold on the peak envelope over the resting baseline (the old rule: ≥ 10× is
severe) is reached by almost every spasm of a spastic muscle, so it never moves: 47/47
"severe" untreated and 44/47 after a 40 % drop in amplitude. Intensity is graded instead
against the patient's own spasms in a **reference period** (our choice, to be calibrated
against clinician ratings):

- the 14 days before the patient's first logged botulinum toxin injection, or, when no
  injection is logged, the first 14 days from the first observed day (and the reference
  says so: ``source = "first observed days"``);
- a spasm's grade is the tertile of its peak (× resting baseline) among the reference
  spasms: 1 (mild) at or below the lower tertile, 3 (severe) above the upper one, else 2.
  An untreated patient is thus a third mild, a third moderate, a third severe, and weaker
  spasms after an injection move down the grades;
- fewer than :data:`MIN_REFERENCE_SPASMS` reference spasms with an EMG peak grade nothing
  (None): a grade needs a distribution to stand on. IMU-only spasms (no EMG peak) are not
  graded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical.affected import KnownAffected
from monitor.clinical.cycle import BASELINE_DAYS, injections
from monitor.clinical.events import local_midnight_ns, spasm_rows, to_local
from monitor.clinical.observed import observed_seconds_by_date
from monitor.types import Record, SpasmEvent

MIN_REFERENCE_SPASMS = 20
PRE_INJECTION = "pre-injection"
FIRST_OBSERVED = "first observed days"


@dataclass(frozen=True, slots=True)
class SeverityReference:
    """A patient's reference for severity grades.

    Attributes
    ----------
    start_ns, end_ns : int
        UTC span of the reference period (local midnights), ns.
    source : str
        :data:`PRE_INJECTION` or :data:`FIRST_OBSERVED` (no injection logged).
    spasms : int
        Reference spasms with an EMG peak.
    lower_x_baseline, upper_x_baseline : float
        Tertiles of their peaks, × resting baseline.
    """

    start_ns: int
    end_ns: int
    source: str
    spasms: int
    lower_x_baseline: float
    upper_x_baseline: float

    def grade(self, peak_x_baseline: float | None) -> int | None:
        """Severity 1–3 of one spasm, None without an EMG peak or a usable reference.

        Examples
        --------
        >>> ref = SeverityReference(0, 1, PRE_INJECTION, 30, 8.0, 14.0)
        >>> ref.grade(6.0), ref.grade(10.0), ref.grade(20.0), ref.grade(None)
        (1, 2, 3, None)
        """
        if peak_x_baseline is None or self.spasms < MIN_REFERENCE_SPASMS:
            return None
        if peak_x_baseline <= self.lower_x_baseline:
            return 1
        return 3 if peak_x_baseline > self.upper_x_baseline else 2


def severity_references(
    records: Iterable[Record],
    tz: ZoneInfo | str = "UTC",
    days: int = BASELINE_DAYS,
    known_affected: KnownAffected | None = None,
) -> dict[str, SeverityReference]:
    """Each patient's :class:`SeverityReference` from ``records``.

    ``records`` must reach back over the reference period: the ``days`` before the first
    injection (``treatment`` kind ``botox``), else the first ``days`` observed days. The
    reference spasms are the affected limbs' (``known_affected``: from the whole history, as
    for :func:`monitor.clinical.events.episodes`).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    records = list(records)
    first_shot: dict[str, dt.date] = {}
    for shot in injections(records, zone):
        first_shot.setdefault(shot.patient, shot.date)
    observed = observed_seconds_by_date(records, zone)
    rows = spasm_rows(records, known_affected=known_affected)
    out = {}
    for patient in set(observed) | set(first_shot):
        if patient in first_shot:
            end, source = first_shot[patient], PRE_INJECTION
            start = end - dt.timedelta(days=days)
        elif observed.get(patient):
            start, source = min(observed[patient]), FIRST_OBSERVED
            end = start + dt.timedelta(days=days)
        else:
            continue
        start_ns, end_ns = local_midnight_ns(start, zone), local_midnight_ns(end, zone)
        peaks = [
            r.peak_x_baseline
            for r in rows
            if r.patient == patient and start_ns <= r.onset_ns < end_ns and r.peak_x_baseline is not None
        ]
        lower, upper = np.quantile(peaks, [1 / 3, 2 / 3]) if peaks else (np.nan, np.nan)
        out[patient] = SeverityReference(start_ns, end_ns, source, len(peaks), float(lower), float(upper))
    return out


def severity_distribution(rows: Sequence[SpasmEvent], reference: SeverityReference) -> dict[int, int]:
    """Spasms per grade (1, 2, 3) of ``rows``; ungraded spasms are left out."""
    counts = {1: 0, 2: 0, 3: 0}
    for row in rows:
        grade = reference.grade(row.peak_x_baseline)
        if grade is not None:
            counts[grade] += 1
    return counts


def reference_text(reference: SeverityReference, zone: ZoneInfo) -> str:
    """One line saying what the grades are relative to."""
    first = to_local(reference.start_ns, zone).date()
    last = to_local(reference.end_ns, zone).date() - dt.timedelta(days=1)
    why = "" if reference.source == PRE_INJECTION else " (no injection logged)"
    return f"severity relative to {reference.spasms} spasms of {first}..{last}, {reference.source}{why}"


__all__ = [
    "FIRST_OBSERVED",
    "MIN_REFERENCE_SPASMS",
    "PRE_INJECTION",
    "SeverityReference",
    "reference_text",
    "severity_distribution",
    "severity_references",
]
