"""Spasms per day before and after a botulinum toxin injection.

Botulinum toxin A takes days to act, has its peak effect in about weeks 2–6 and wears off
towards the end of the 12-week injection cycle. So, as issue 6 specifies, the comparison is
the 14 days before the injection against weeks 2–6 after it (days 7 to 41 after day 0,
35 days), each as spasms per local day.

Effect measures: the change in mean spasms per day (post − pre), the relative change in
percent, and a standardized mean difference (Cohen's d with the pooled SD) so that
patients with very different rates can be compared. A negative change is an improvement.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical.events import local_midnight_ns, spasm_rows, to_local
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
        Days in each window that were observed (or all days when coverage is not given).
    pre_spasms, post_spasms : int
        Spasms in each window.
    pre_per_day, post_per_day : float
        Mean spasms per day; NaN for a window with no day.
    change_per_day : float
        ``post_per_day - pre_per_day``.
    change_pct : float
        Relative change, percent; NaN when there were no spasms before.
    cohens_d : float
        Standardized mean difference of the daily counts; NaN when undefined.
    """

    injection_ns: int
    pre_days: int
    post_days: int
    pre_spasms: int
    post_spasms: int
    pre_per_day: float
    post_per_day: float
    change_per_day: float
    change_pct: float
    cohens_d: float


def pre_post(
    onsets_ns: Iterable[int],
    injection_date: dt.date,
    tz: ZoneInfo,
    observed_dates: set[dt.date] | None = None,
) -> PrePost:
    """Compare spasms per day in the 14 days before an injection with weeks 2–6 after it.

    Parameters
    ----------
    onsets_ns : iterable of int
        UTC spasm onsets, ns.
    injection_date : date
        Local date of the injection (day 0).
    tz : ZoneInfo
        The patient's timezone; days are local calendar days.
    observed_dates : set of date, optional
        Local dates with data. Days not in it are left out of both windows, so an
        unworn sensor does not read as a spasm-free day. All days count when omitted.

    Returns
    -------
    PrePost

    Examples
    --------
    >>> day = dt.date(2026, 3, 1)
    >>> tz = ZoneInfo("UTC")
    >>> pre = [local_midnight_ns(day - dt.timedelta(days=d), tz) for d in range(1, 15) for _ in range(4)]
    >>> post = [local_midnight_ns(day + dt.timedelta(days=d), tz) for d in range(7, 42)]
    >>> r = pre_post(pre + post, day, tz)
    >>> r.pre_per_day, r.post_per_day, r.change_pct
    (4.0, 1.0, -75.0)
    """
    per_date = Counter(to_local(t, tz).date() for t in onsets_ns)
    pre_dates = [injection_date - dt.timedelta(days=d) for d in range(PRE_DAYS, 0, -1)]
    post_dates = [injection_date + dt.timedelta(days=d) for d in range(POST_FIRST_DAY, POST_END_DAY)]
    if observed_dates is not None:
        pre_dates = [d for d in pre_dates if d in observed_dates]
        post_dates = [d for d in post_dates if d in observed_dates]
    pre = np.array([per_date[d] for d in pre_dates], dtype=float)
    post = np.array([per_date[d] for d in post_dates], dtype=float)
    pre_mean = float(pre.mean()) if pre.size else math.nan
    post_mean = float(post.mean()) if post.size else math.nan
    change = post_mean - pre_mean
    return PrePost(
        injection_ns=local_midnight_ns(injection_date, tz),
        pre_days=int(pre.size),
        post_days=int(post.size),
        pre_spasms=int(pre.sum()),
        post_spasms=int(post.sum()),
        pre_per_day=pre_mean,
        post_per_day=post_mean,
        change_per_day=change,
        change_pct=100.0 * change / pre_mean if pre_mean > 0 else math.nan,
        cohens_d=_cohens_d(pre, post),
    )


def _cohens_d(pre: np.ndarray, post: np.ndarray) -> float:
    if pre.size < 2 or post.size < 2:
        return math.nan
    pooled_var = ((pre.size - 1) * pre.var(ddof=1) + (post.size - 1) * post.var(ddof=1)) / (
        pre.size + post.size - 2
    )
    if pooled_var == 0:
        return math.nan
    return float((post.mean() - pre.mean()) / math.sqrt(pooled_var))


def pre_post_records(records: Iterable[Record], tz: ZoneInfo | str = "UTC") -> list[Record]:
    """Pre/post comparisons around every botulinum toxin injection in ``records``.

    Parameters
    ----------
    records : iterable of Record
        Spool records covering at least 14 days before and 42 days after the injections:
        ``treatment`` records of kind ``botox`` give the injections, ``spasm_event``
        records the spasms, and any other device record marks its local date as observed.
    tz : ZoneInfo or str
        The patients' timezone (IANA name).

    Returns
    -------
    list of Record
        One ``clinical_score`` record per injection, tagged ``patient`` and
        ``period=injection``, stamped at the injection, with the :class:`PrePost` numbers as
        fields (``pre_days``, ``post_days``, ``pre_spasms``, ``post_spasms``, ``pre_per_day``,
        ``post_per_day``, ``change_per_day``, ``change_pct``, ``cohens_d``; undefined ones left out).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    onsets: defaultdict[str, list[int]] = defaultdict(list)
    observed: defaultdict[str, set[dt.date]] = defaultdict(set)
    injections: list[tuple[str, dt.date]] = []
    spasm_records: list[Record] = []
    for r in records:
        patient = r.tags.get("patient", "")
        if r.measurement == "treatment":
            if r.tags.get("kind") == "botox":
                injections.append((patient, to_local(r.time_ns, zone).date()))
            continue
        if r.measurement in ("clinical_score", "alert"):
            continue
        observed[patient].add(to_local(r.time_ns, zone).date())
        if r.measurement == "spasm_event":
            spasm_records.append(r)
    for row in spasm_rows(spasm_records):  # one spasm seen on several channels counts once
        onsets[row.patient].append(row.onset_ns)
    out = []
    for patient, day in sorted(set(injections)):
        result = pre_post(onsets[patient], day, zone, observed[patient])
        fields: dict[str, FieldValue] = {
            name: value
            for name, value in asdict(result).items()
            if name != "injection_ns" and not (isinstance(value, float) and math.isnan(value))
        }
        tags = {"patient": patient, "period": "injection"} if patient else {"period": "injection"}
        out.append(Record("clinical_score", result.injection_ns, fields, tags))
    return out
