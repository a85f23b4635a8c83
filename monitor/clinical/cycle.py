"""The botulinum toxin cycle as trials measure it: windows, a weekly curve and rate ratios.

Days are counted from the injection's local date (day 0). The windows, per injection:

========== ========== ===========================================================
window     days       why
========== ========== ===========================================================
baseline   −14..−1    the pre-injection rate every other window is compared with
onset      7..20      effect builds (reported onset about day 13, Jacinto 2020)
peak       21..42     trial endpoints at weeks 4–6; peak effect about week 5
late       43..69     effect held or starting to fade
wearing    70..90     re-emergence at about 12–13 weeks (Jacinto 2020), and up to
                      the next injection when that comes later
========== ========== ===========================================================

Source: Jacinto J, et al. Front Neurol 2020;11:388 (onset about 13 days, peak about
5 weeks, re-emergence of symptoms at about 12–13 weeks); trial endpoints at weeks 4–6 and
re-injection at 12 weeks. A window stops at the next injection.

The effect of a window is a **rate ratio** against the baseline with a 95 % confidence
interval, from hourly spasm counts with their observed hours as exposure: a Poisson mean
model with ``log(observed hours)`` as offset (statsmodels GLM), and a variance from the data
(the sandwich estimator clustered by local day), so over-dispersion of any form and
correlation of the hours of one day widen the interval instead of being assumed away.
Observed time comes from :mod:`monitor.clinical.observed`; spasms from
:func:`monitor.clinical.events.spasm_rows` (one spasm per episode).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical.affected import KnownAffected
from monitor.clinical.enough import rate_stated
from monitor.clinical.events import local_hour_start_ns, spasm_rows, to_local
from monitor.clinical.observed import observed_seconds_by_hour
from monitor.store.schema import TREATMENT
from monitor.types import Record

# (name, first day, last day) after the injection, inclusive; see the module table.
WINDOWS: tuple[tuple[str, int, int], ...] = (
    ("baseline", -14, -1),
    ("onset", 7, 20),
    ("peak", 21, 42),
    ("late", 43, 69),
    ("wearing_off", 70, 90),
)
BASELINE_DAYS = 14
CYCLE_LAST_DAY = 90  # the wearing-off window's end when no injection follows sooner
MIN_DAYS_FOR_RATIO = 3  # observed days each side needs for a rate ratio (the sandwich needs clusters)
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Injection:
    """One logged botulinum toxin injection.

    Attributes
    ----------
    patient : str
    date : date
        Local date (day 0).
    time_ns : int
        UTC time of the treatment record, ns.
    dose_u : float
        Units (NaN when not logged).
    muscles : tuple of str
        Injected muscles, as in the treatment log.
    """

    patient: str
    date: dt.date
    time_ns: int
    dose_u: float
    muscles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HourlyCounts:
    """A patient's observed local hours: day after the injection, spasms and exposure.

    Attributes
    ----------
    day : ndarray of int
        Day relative to the injection's local date.
    spasms : ndarray of int
    observed_h : ndarray of float
        Observed hours (> 0) of each hour.
    """

    day: np.ndarray
    spasms: np.ndarray
    observed_h: np.ndarray

    def select(self, first_day: int, last_day: int) -> HourlyCounts:
        """The hours of days ``first_day..last_day`` (inclusive)."""
        keep = (self.day >= first_day) & (self.day <= last_day)
        return HourlyCounts(self.day[keep], self.spasms[keep], self.observed_h[keep])

    def daily(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(days, spasms, observed hours) per observed day, in day order."""
        days, index = np.unique(self.day, return_inverse=True)
        return (
            days,
            np.bincount(index, weights=self.spasms, minlength=days.size),
            np.bincount(index, weights=self.observed_h, minlength=days.size),
        )


@dataclass(frozen=True, slots=True)
class RateRatio:
    """A window's spasm rate against the baseline's.

    Attributes
    ----------
    window : str
    days, spasms : int
        Observed days and spasms in the window.
    observed_h : float
    per_h : float
        Spasms per observed hour; NaN below :data:`~monitor.clinical.enough.MIN_RATE_H` observed.
    ratio, ci_low, ci_high : float
        Rate ratio against the baseline and its 95 % CI; NaN when either side has fewer than
        :data:`MIN_DAYS_FOR_RATIO` observed days or the baseline has no spasm.
    """

    window: str
    days: int
    spasms: int
    observed_h: float
    per_h: float
    ratio: float
    ci_low: float
    ci_high: float


def injections(records: Iterable[Record], zone: ZoneInfo) -> list[Injection]:
    """The ``treatment`` records of kind ``botox`` as :class:`Injection`, in time order."""
    out = {}
    for r in records:
        if r.measurement != TREATMENT or r.tags.get("kind") != "botox":
            continue
        muscles = tuple(m.strip() for m in str(r.fields.get("muscles", "")).split(",") if m.strip())
        dose = r.fields.get("dose_u")
        patient = r.tags.get("patient", "")
        date = to_local(r.time_ns, zone).date()
        out[(patient, date)] = Injection(
            patient, date, r.time_ns, float(dose) if isinstance(dose, int | float) else math.nan, muscles
        )
    return sorted(out.values(), key=lambda i: i.time_ns)


def hourly_counts(
    records: Sequence[Record],
    injection_date: dt.date,
    zone: ZoneInfo,
    patient: str,
    known_affected: KnownAffected | None = None,
) -> HourlyCounts:
    """Spasms and observed hours of ``patient``'s observed local hours, by day after the injection.

    ``records`` are counted as given: pass the events of some muscles only for a per-muscle
    rate (:mod:`monitor.clinical.response`). ``known_affected``: the patient's affected
    sides from the whole history (:func:`monitor.clinical.events.episodes`).
    """
    seconds = observed_seconds_by_hour(records, zone).get(patient, {})
    counts: defaultdict[int, int] = defaultdict(int)
    for row in spasm_rows(records, known_affected=known_affected):
        if row.patient == patient:
            counts[local_hour_start_ns(row.onset_ns, zone)] += 1
    hours = list(seconds)
    return HourlyCounts(
        day=np.array([(to_local(h, zone).date() - injection_date).days for h in hours], dtype=int),
        spasms=np.array([counts.get(h, 0) for h in hours], dtype=int),
        observed_h=np.array([seconds[h] / 3600.0 for h in hours], dtype=float),
    )


def window_ratios(counts: HourlyCounts, last_day: int = CYCLE_LAST_DAY) -> list[RateRatio]:
    """Rate ratio of every window of a cycle against its baseline.

    ``last_day`` is the cycle's last day: the day before the next injection, or the last
    observed day when none follows (at least :data:`CYCLE_LAST_DAY`). Windows stop there.
    """
    baseline = counts.select(*WINDOWS[0][1:])
    out = []
    for name, first, last in WINDOWS:
        # The wearing-off window runs to the cycle's end (the next injection, or later data).
        last = last_day if name == "wearing_off" else min(last, last_day)
        if first > last:
            continue
        window = counts.select(first, last)
        out.append(_describe(name, window, *rate_ratio(baseline, window)))
    return out


def rate_ratio(baseline: HourlyCounts, window: HourlyCounts) -> tuple[float, float, float]:
    """Rate ratio of ``window`` over ``baseline`` and its 95 % CI from their observed hours.

    Poisson GLM, log link, offset ``log(observed hours)``, one indicator for the window; the
    variance is the sandwich clustered by day (over-dispersion and within-day correlation).
    NaN ratio when a side has fewer than :data:`MIN_DAYS_FOR_RATIO` observed days or less
    observed time than :data:`~monitor.clinical.enough.MIN_RATE_H`, or the baseline no spasm;
    a window without spasms has ratio 0 and a NaN interval.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> def hours(rate, days):
    ...     d = np.repeat(days, 4)
    ...     return HourlyCounts(d, rng.poisson(rate, d.size), np.ones(d.size))
    >>> rr, lo, hi = rate_ratio(hours(10.0, np.arange(-14, 0)), hours(5.0, np.arange(21, 43)))
    >>> bool(lo < 0.5 < hi and 0.45 < rr < 0.55)
    True
    """
    if min(np.unique(baseline.day).size, np.unique(window.day).size) < MIN_DAYS_FOR_RATIO:
        return math.nan, math.nan, math.nan
    if not (
        rate_stated(3600.0 * baseline.observed_h.sum()) and rate_stated(3600.0 * window.observed_h.sum())
    ):
        return math.nan, math.nan, math.nan  # a side without a rate (monitor.clinical.enough)
    if baseline.spasms.sum() == 0:
        return math.nan, math.nan, math.nan
    if window.spasms.sum() == 0:
        return 0.0, math.nan, math.nan
    from statsmodels.genmod.families import Poisson  # slow import: only where a ratio is fitted
    from statsmodels.genmod.generalized_linear_model import GLM

    y = np.concatenate([baseline.spasms, window.spasms]).astype(float)
    in_window = np.concatenate([np.zeros(baseline.spasms.size), np.ones(window.spasms.size)])
    exog = np.column_stack([np.ones_like(in_window), in_window])
    offset = np.log(np.concatenate([baseline.observed_h, window.observed_h]))
    days = np.unique(np.concatenate([baseline.day, window.day]), return_inverse=True)[1]  # 0-based ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on tiny data; the result is checked below
        fit = GLM(y, exog, family=Poisson(), offset=offset).fit(cov_type="cluster", cov_kwds={"groups": days})
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not (math.isfinite(beta) and math.isfinite(se)):
        return math.nan, math.nan, math.nan
    return math.exp(beta), math.exp(beta - Z_95 * se), math.exp(beta + Z_95 * se)


def weekly_curve(counts: HourlyCounts, last_day: int = CYCLE_LAST_DAY) -> list[tuple[int, float, float]]:
    """Spasms per observed hour per week of the cycle: (week, observed hours, rate).

    Week ``k`` is days ``7k..7k+6`` (week −2 and −1 are the baseline); weeks without observed
    time are absent, never 0; a week with less than
    :data:`~monitor.clinical.enough.MIN_RATE_H` observed has rate NaN (too little data).
    """
    out = []
    for week in range(-2, last_day // 7 + 1):
        part = counts.select(7 * week, min(7 * week + 6, last_day))
        hours = float(part.observed_h.sum())
        if hours > 0:
            rate = float(part.spasms.sum()) / hours if rate_stated(3600.0 * hours) else math.nan
            out.append((week, hours, rate))
    return out


def _describe(name: str, window: HourlyCounts, ratio: float, low: float, high: float) -> RateRatio:
    hours = float(window.observed_h.sum())
    spasms = int(window.spasms.sum())
    return RateRatio(
        window=name,
        days=int(np.unique(window.day).size),
        spasms=spasms,
        observed_h=hours,
        per_h=spasms / hours if rate_stated(3600.0 * hours) else math.nan,
        ratio=ratio,
        ci_low=low,
        ci_high=high,
    )


__all__ = [
    "BASELINE_DAYS",
    "CYCLE_LAST_DAY",
    "WINDOWS",
    "HourlyCounts",
    "Injection",
    "RateRatio",
    "hourly_counts",
    "injections",
    "rate_ratio",
    "weekly_curve",
    "window_ratios",
]
