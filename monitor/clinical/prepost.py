"""Spasms per observed hour before and after a botulinum toxin injection.

The comparison is the 14 days before the injection against days 7 to 41 after it (day 0 is
the injection's local date). Both windows are rates: spasms over the observed time
(:mod:`monitor.clinical.observed`) of the window's days, so a day worn for ten minutes and a
day worn for twenty hours weigh by what was seen, and an unworn day counts for nothing.

A window with less than an hour observed (:mod:`monitor.clinical.enough`) has no rate, and
no change is stated from it. Effect measures: the change in spasms per observed hour
(post − pre), the relative change in percent (the ratio of the two rates, minus one), and a
standardized mean difference (Cohen's d with the pooled SD) of the observed days' rates,
each day weighted by its observed hours. A negative change is an improvement. Cohen's d
treats the daily rates as independent, which autocorrelated and over-dispersed counts are
not: read it as descriptive only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical.affected import KnownAffected
from monitor.clinical.enough import rate_stated
from monitor.clinical.events import local_midnight_ns, spasm_rows, to_local
from monitor.clinical.observed import observed_seconds_by_date
from monitor.store.schema import CLINICAL_SCORE, TREATMENT
from monitor.types import FieldValue, Record

PRE_DAYS = 14
POST_FIRST_DAY = 7  # start of week 2 after the injection
POST_END_DAY = 42  # end of week 6


@dataclass(frozen=True, slots=True)
class PrePost:
    """Spasm rates around one injection.

    Attributes
    ----------
    injection_ns : int
        UTC time of the injection (local midnight of its date), ns.
    pre_days, post_days : int
        Days in each window with observed time.
    pre_observed_h, post_observed_h : float
        Observed time in each window, h.
    pre_spasms, post_spasms : int
        Spasms in each window's observed days.
    pre_per_h, post_per_h : float
        Spasms per observed hour; NaN for a window with less observed time than
        :data:`~monitor.clinical.enough.MIN_RATE_H` (none stated: too little data).
    change_per_h : float
        ``post_per_h - pre_per_h``; NaN unless both rates are stated.
    change_pct : float
        Relative change, percent; NaN when there were no spasms before.
    cohens_d : float
        Standardized mean difference of the observed days' rates; NaN when undefined.
    """

    injection_ns: int
    pre_days: int
    post_days: int
    pre_observed_h: float
    post_observed_h: float
    pre_spasms: int
    post_spasms: int
    pre_per_h: float
    post_per_h: float
    change_per_h: float
    change_pct: float
    cohens_d: float


def pre_post(
    onsets_ns: Iterable[int],
    injection_date: dt.date,
    tz: ZoneInfo,
    observed_s: Mapping[dt.date, float],
) -> PrePost:
    """Compare spasms per observed hour in the 14 days before an injection with days 7–41 after.

    Parameters
    ----------
    onsets_ns : iterable of int
        UTC spasm onsets, ns.
    injection_date : date
        Local date of the injection (day 0).
    tz : ZoneInfo
        The patient's timezone; days are local calendar days.
    observed_s : mapping of date to float
        Observed seconds per local date (:func:`monitor.clinical.observed.observed_seconds_by_date`);
        dates without observed time are left out of both windows.

    Returns
    -------
    PrePost

    Examples
    --------
    >>> day = dt.date(2026, 3, 1)
    >>> tz = ZoneInfo("UTC")
    >>> worn = {day + dt.timedelta(days=d): 2 * 3600.0 for d in range(-14, 42)}  # 2 h a day
    >>> pre = [local_midnight_ns(day - dt.timedelta(days=d), tz) for d in range(1, 15) for _ in range(4)]
    >>> post = [local_midnight_ns(day + dt.timedelta(days=d), tz) for d in range(7, 42)]
    >>> r = pre_post(pre + post, day, tz, worn)
    >>> r.pre_per_h, r.post_per_h, r.change_pct
    (2.0, 0.5, -75.0)
    """
    per_date = Counter(to_local(t, tz).date() for t in onsets_ns)
    pre_dates = [injection_date - dt.timedelta(days=d) for d in range(PRE_DAYS, 0, -1)]
    post_dates = [injection_date + dt.timedelta(days=d) for d in range(POST_FIRST_DAY, POST_END_DAY)]
    pre_dates = [d for d in pre_dates if observed_s.get(d, 0.0) > 0]
    post_dates = [d for d in post_dates if observed_s.get(d, 0.0) > 0]
    pre_n = np.array([per_date[d] for d in pre_dates], dtype=float)
    post_n = np.array([per_date[d] for d in post_dates], dtype=float)
    pre_h = np.array([observed_s[d] / 3600.0 for d in pre_dates])
    post_h = np.array([observed_s[d] / 3600.0 for d in post_dates])
    # A window's rate is stated only on enough observed time (monitor.clinical.enough), so a
    # change from 10 s of data is "not enough worn time", never "-100 %".
    pre_rate = float(pre_n.sum() / pre_h.sum()) if rate_stated(3600.0 * pre_h.sum()) else math.nan
    post_rate = float(post_n.sum() / post_h.sum()) if rate_stated(3600.0 * post_h.sum()) else math.nan
    change = post_rate - pre_rate
    return PrePost(
        injection_ns=local_midnight_ns(injection_date, tz),
        pre_days=int(pre_n.size),
        post_days=int(post_n.size),
        pre_observed_h=float(pre_h.sum()),
        post_observed_h=float(post_h.sum()),
        pre_spasms=int(pre_n.sum()),
        post_spasms=int(post_n.sum()),
        pre_per_h=pre_rate,
        post_per_h=post_rate,
        change_per_h=change,
        change_pct=100.0 * change / pre_rate if pre_rate > 0 else math.nan,
        cohens_d=_cohens_d(pre_n / pre_h, pre_h, post_n / post_h, post_h)
        if math.isfinite(change)
        else math.nan,
    )


def _cohens_d(pre: np.ndarray, pre_h: np.ndarray, post: np.ndarray, post_h: np.ndarray) -> float:
    """Standardized difference of the daily rates, each day weighted by its observed hours.

    Weighted, so that the means are the windows' rates (spasms over observed time) and a day
    seen for one minute (a rate of 600/h from 10 spasms) does not outweigh a day seen for
    nine hours. With equal hours on every day it is the usual pooled-SD Cohen's d.
    """
    if pre.size < 2 or post.size < 2:
        return math.nan
    squares, dof = 0.0, 0.0
    for rates, hours in ((pre, pre_h), (post, post_h)):
        mean = np.average(rates, weights=hours)
        squares += float(np.sum(hours * (rates - mean) ** 2))
        dof += float(hours.sum() - np.sum(hours**2) / hours.sum())  # reliability weights
    if squares == 0 or dof <= 0:
        return math.nan
    pre_rate, post_rate = np.average(pre, weights=pre_h), np.average(post, weights=post_h)
    return float((post_rate - pre_rate) / math.sqrt(squares / dof))


def pre_post_records(
    records: Iterable[Record], tz: ZoneInfo | str = "UTC", known_affected: KnownAffected | None = None
) -> list[Record]:
    """Pre/post comparisons around every botulinum toxin injection in ``records``.

    The one computation of the comparison: the report and the demo's terminal summary read
    it, and :func:`~monitor.clinical.scores.score_spool` stores it.

    Parameters
    ----------
    records : iterable of Record
        Spool records covering at least 14 days before and 42 days after the injections:
        ``treatment`` records of kind ``botox`` give the injections, ``spasm_event``
        records the spasms, ``observation`` and ``coverage`` records the observed time.
    tz : ZoneInfo or str
        The patients' timezone (IANA name).
    known_affected : mapping of str to iterable of str, optional
        Affected sides per patient from the whole history
        (:func:`~monitor.clinical.affected.stored_affected`); by default from ``records``.

    Returns
    -------
    list of Record
        One ``clinical_score`` record per injection, tagged ``patient`` and
        ``period=injection``, stamped at the injection's local midnight, with the
        :class:`PrePost` numbers as fields (undefined ones left out).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    found = pre_post_by_injection(records, zone, known_affected)
    return [_injection_record(patient, result) for patient, result in found]


def pre_post_by_injection(
    records: Iterable[Record], zone: ZoneInfo, known_affected: KnownAffected | None = None
) -> list[tuple[str, PrePost]]:
    """(patient, :class:`PrePost`) for every botulinum toxin injection in ``records``, in order.

    ``known_affected`` as for :func:`pre_post_records`."""
    records = list(records)
    onsets: defaultdict[str, list[int]] = defaultdict(list)
    injections = sorted(
        {
            (r.tags.get("patient", ""), to_local(r.time_ns, zone).date())
            for r in records
            if r.measurement == TREATMENT and r.tags.get("kind") == "botox"
        }
    )
    for row in spasm_rows(records, known_affected=known_affected):  # one spasm of several channels: one
        onsets[row.patient].append(row.onset_ns)
    observed = observed_seconds_by_date(records, zone)
    return [
        (patient, pre_post(onsets[patient], day, zone, observed.get(patient, {})))
        for patient, day in injections
    ]


def _injection_record(patient: str, result: PrePost) -> Record:
    fields: dict[str, FieldValue] = {
        name: value
        for name, value in asdict(result).items()
        if name != "injection_ns" and not (isinstance(value, float) and math.isnan(value))
    }
    tags = {"patient": patient, "period": "injection"} if patient else {"period": "injection"}
    return Record(CLINICAL_SCORE, result.injection_ns, fields, tags)
