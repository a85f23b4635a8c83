"""Treatment response per botulinum toxin cycle: onset, peak effect and wearing-off.

For each injection (day 0 its local date), from the patient's daily spasms and observed
hours (:mod:`monitor.clinical.cycle`):

- **Baseline** ``λ0``: spasms per observed hour on days −14..−1.
- **Effect**: the peak window's (days 21–42) rate ratio with its 95 % CI. Only a cycle whose
  upper CI bound is below 1 has an effect to find the onset and wearing-off of.
- **Peak-effect day**: the centre of the 21-day span (centres on days 7–69) with the lowest rate.
- **Half-effect rate** ``λm = (λ0 + λ1) / 2``, with ``λ1`` the peak window's rate.
- **Onset** and **wearing-off**: one-sided CUSUMs of the daily Poisson log-likelihood ratio,
  ``n_d·log(λm/λ) − (λm − λ)·h_d``: from ``λ0`` towards ``λm`` from day 0 (onset), and from
  ``λ1`` towards ``λm`` after the peak-effect day (wearing-off). The alarm threshold is
  calibrated per cycle by simulation (:data:`N_CALIBRATION` histories with the cycle's own
  observed hours, the flat null rate and the baseline's over-dispersion, a gamma-Poisson
  mixture), so that a flat rate alarms with probability :data:`FALSE_ALARM` over the cycle.
  The day reported is the first day at which a monotone (isotonic, hour-weighted) fit of
  the daily rates has crossed ``λm`` (the CUSUM run's first day when it has not yet): the
  day the rate is halfway back. The CUSUM decides whether; the fit dates it.

Results are ``treatment_response`` records (``docs/schema.md``); a cycle also carries its
dose and muscles, so cycles can be compared, and where channels on injected and
non-injected muscles were both worn, the rate ratios of both (an internal control: a fall
on the injected muscles only is the toxin; a fall on both is something else, such as
regression to the mean or a change of medication).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical.affected import KnownAffected
from monitor.clinical.cycle import (
    CYCLE_LAST_DAY,
    HourlyCounts,
    Injection,
    hourly_counts,
    injections,
    rate_ratio,
)
from monitor.clinical.enough import rate_stated
from monitor.clinical.events import local_midnight_ns
from monitor.store.schema import SPASM_EVENT, TREATMENT_RESPONSE
from monitor.types import FieldValue, Record

FALSE_ALARM = 0.05  # probability that a flat rate alarms over one cycle (onset or wearing-off)
N_CALIBRATION = 400  # simulated flat histories per threshold
# Span of the rolling rate whose minimum is the peak-effect day, days: three weeks, because the
# effect holds for weeks (a plateau) and a shorter span dates the peak by the noise of a few days.
PEAK_SPAN_DAYS = 21
PEAK_SEARCH = (7, 69)  # days searched for the peak effect (onset to late windows)
PEAK_WINDOW = (21, 42)


@dataclass(frozen=True, slots=True)
class Response:
    """One cycle's response; days are after the injection, NaN when not found.

    Attributes
    ----------
    baseline_per_h : float
        Spasms per observed hour on days −14..−1.
    rate_ratio_peak, rr_ci_low, rr_ci_high : float
        Peak window (days 21–42) over baseline, with its 95 % CI.
    onset_day, peak_day, wearing_off_day : float
    wearing_off_pct : float
        Rate from the wearing-off day to the cycle's end, percent of the baseline rate.
    last_day : int
        Last day of the cycle analysed: its last observed day, at most the day before the next
        injection.
    """

    baseline_per_h: float
    rate_ratio_peak: float
    rr_ci_low: float
    rr_ci_high: float
    onset_day: float
    peak_day: float
    wearing_off_day: float
    wearing_off_pct: float
    last_day: int


def detect_response(counts: HourlyCounts, last_day: int = CYCLE_LAST_DAY, seed: int = 0) -> Response:
    """Onset, peak-effect and wearing-off days of one cycle from its hourly counts.

    Parameters
    ----------
    counts : HourlyCounts
        The patient's observed hours around the injection.
    last_day : int
        The cycle's last day (the day before the next injection, or the last observed day).
    seed : int
        Seed of the threshold calibration: equal input gives equal output.
    """
    nan = math.nan
    baseline = counts.select(-14, -1)
    peak_window = counts.select(*PEAK_WINDOW)
    ratio, low, high = rate_ratio(baseline, peak_window)
    base_h = float(baseline.observed_h.sum())
    lam0 = float(baseline.spasms.sum()) / base_h if rate_stated(3600.0 * base_h) else nan
    result = Response(lam0, ratio, low, high, nan, nan, nan, nan, last_day)
    if not (high < 1.0 and lam0 > 0):
        return result  # no established effect: nothing to find the onset or wearing-off of
    days, spasms, hours = counts.select(0, last_day).daily()
    lam1 = float(peak_window.spasms.sum() / peak_window.observed_h.sum())
    lam_mid = 0.5 * (lam0 + lam1)
    rng = np.random.default_rng(seed)
    k = _dispersion(*baseline.daily()[1:], lam0)
    peak_day = _peak_day(days, spasms, hours)
    before = days <= peak_day
    onset = _cusum_day(days[before], spasms[before], hours[before], lam0, lam_mid, k, rng, falling=True)
    after = days > peak_day
    wearing = _cusum_day(days[after], spasms[after], hours[after], lam1, lam_mid, k, rng, falling=False)
    pct = nan
    if math.isfinite(wearing):
        late = days >= wearing
        pct = 100.0 * float(spasms[late].sum() / hours[late].sum()) / lam0
    return Response(lam0, ratio, low, high, onset, peak_day, wearing, pct, last_day)


def treatment_responses(
    records: Iterable[Record],
    tz: ZoneInfo | str = "UTC",
    seed: int = 0,
    known_affected: KnownAffected | None = None,
) -> list[Record]:
    """One ``treatment_response`` record per botulinum toxin injection in ``records``.

    Parameters
    ----------
    records : iterable of Record
        Spool records from 14 days before the first injection to the end of the last cycle:
        ``treatment`` (kind ``botox``), ``spasm_event``, ``observation`` / ``coverage``.
    tz : ZoneInfo or str
        The patients' timezone.
    seed : int
        Seed of the threshold calibration.
    known_affected : mapping of str to iterable of str, optional
        Affected sides per patient from the whole history
        (:func:`~monitor.clinical.affected.stored_affected`); by default from ``records``.

    Returns
    -------
    list of Record
        Stamped at the injection's local midnight, tagged ``patient`` and ``injection``
        (its local date); undefined fields left out.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    records = list(records)
    shots = injections(records, zone)
    out = []
    for i, shot in enumerate(shots):
        later = [s for s in shots[i + 1 :] if s.patient == shot.patient]
        mine = [r for r in records if r.tags.get("patient", "") == shot.patient]
        counts = hourly_counts(mine, shot.date, zone, shot.patient, known_affected)
        last_observed = int(counts.day.max()) if counts.day.size else 0
        # The cycle ends the day before the next injection; it is analysed up to the last day with data.
        end_day = (later[0].date - shot.date).days - 1 if later else last_observed
        last_day = min(end_day, last_observed)
        response = detect_response(counts, last_day, seed)
        fields = _fields(response, shot)
        fields.update(_muscle_control(mine, shot, zone, known_affected))
        tags = {"patient": shot.patient, "injection": shot.date.isoformat()} if shot.patient else {}
        tags.setdefault("injection", shot.date.isoformat())
        out.append(Record(TREATMENT_RESPONSE, local_midnight_ns(shot.date, zone), fields, tags))
    return out


def wearing_off_text(fields: dict[str, FieldValue]) -> str | None:
    """The clinic's line for a response record with a wearing-off day, else None.

    Examples
    --------
    >>> wearing_off_text({"wearing_off_day": 84, "wearing_off_pct": 71.4})
    'wearing off from day 84: 71 % of the pre-injection rate'
    """
    day, pct = fields.get("wearing_off_day"), fields.get("wearing_off_pct")
    if not isinstance(day, int | float) or not isinstance(pct, int | float):
        return None
    return f"wearing off from day {day:.0f}: {pct:.0f} % of the pre-injection rate"


# -- helpers -------------------------------------------------------------------------------


def _fields(response: Response, shot: Injection) -> dict[str, FieldValue]:
    values: dict[str, FieldValue] = {
        "baseline_per_h": response.baseline_per_h,
        "rate_ratio_peak": response.rate_ratio_peak,
        "rr_ci_low": response.rr_ci_low,
        "rr_ci_high": response.rr_ci_high,
        "onset_day": response.onset_day,
        "peak_day": response.peak_day,
        "wearing_off_day": response.wearing_off_day,
        "wearing_off_pct": response.wearing_off_pct,
        "last_day": response.last_day,
        "dose_u": shot.dose_u,
        "muscles": ",".join(shot.muscles),
    }
    return {k: v for k, v in values.items() if not (isinstance(v, float) and math.isnan(v))}


def _muscle_control(
    records: Sequence[Record], shot: Injection, zone: ZoneInfo, known_affected: KnownAffected | None
) -> dict[str, FieldValue]:
    """Peak-window rate ratios of injected and non-injected muscles, when both were worn."""
    events = [r for r in records if r.measurement == SPASM_EVENT and r.tags.get("muscle")]
    injected = set(shot.muscles)
    control = sorted({r.tags["muscle"] for r in events} - injected)
    if not injected or not control:
        return {}
    rest = [r for r in records if r.measurement != SPASM_EVENT]
    out: dict[str, FieldValue] = {"control_muscles": ",".join(control)}
    for name, on_injected in (("injected", True), ("control", False)):
        mine = rest + [r for r in events if (r.tags["muscle"] in injected) == on_injected]
        counts = hourly_counts(mine, shot.date, zone, shot.patient, known_affected)
        ratio, low, high = rate_ratio(counts.select(-14, -1), counts.select(*PEAK_WINDOW))
        if math.isnan(ratio):
            return {}  # one side not worn in both windows: no side-by-side comparison
        out[f"rate_ratio_{name}"] = ratio
        if math.isfinite(low):
            out[f"rr_{name}_ci_low"], out[f"rr_{name}_ci_high"] = low, high
    return out


def _peak_day(days: np.ndarray, spasms: np.ndarray, hours: np.ndarray) -> float:
    best, best_rate = math.nan, math.inf
    last = int(days.max()) if days.size else PEAK_SEARCH[0]
    for d in range(PEAK_SEARCH[0], min(PEAK_SEARCH[1], last) + 1):  # no peak dated past the data
        near = np.abs(days - d) <= PEAK_SPAN_DAYS // 2
        h = hours[near].sum()
        if h > 0 and spasms[near].sum() / h < best_rate:
            best, best_rate = float(d), float(spasms[near].sum() / h)
    return best


def _dispersion(spasms: np.ndarray, hours: np.ndarray, rate: float) -> float:
    """Gamma-Poisson ``k`` (Var = μ + k·μ²) of daily counts by moments, clipped to [0, 2]."""
    mu = rate * hours
    if mu.size < 2 or not np.all(mu > 0):
        return 0.0
    return float(np.clip(np.mean(((spasms - mu) ** 2 - mu) / mu**2), 0.0, 2.0))


def _cusum_day(
    days: np.ndarray,
    spasms: np.ndarray,
    hours: np.ndarray,
    null_rate: float,
    alt_rate: float,
    k: float,
    rng: np.random.Generator,
    falling: bool,
) -> float:
    """The change day found by a one-sided CUSUM from ``null_rate`` towards ``alt_rate``, or NaN."""
    if days.size == 0 or null_rate <= 0 or alt_rate <= 0:
        return math.nan
    threshold = _threshold(hours, null_rate, alt_rate, k, rng)
    llr = spasms * math.log(alt_rate / null_rate) - (alt_rate - null_rate) * hours
    s, start = 0.0, 0
    for i, step in enumerate(llr):
        s = max(0.0, s + step)
        if s == 0.0:
            start = i + 1
        elif s > threshold:
            return _crossing(days, spasms, hours, start, i, alt_rate, falling)
    return math.nan


def _threshold(
    hours: np.ndarray, null_rate: float, alt_rate: float, k: float, rng: np.random.Generator
) -> float:
    """CUSUM threshold that a flat ``null_rate`` crosses with probability :data:`FALSE_ALARM`."""
    mu = null_rate * hours
    if k > 0:
        mu = mu * rng.gamma(1.0 / k, k, size=(N_CALIBRATION, hours.size))
    n = rng.poisson(np.broadcast_to(mu, (N_CALIBRATION, hours.size)))
    llr = n * math.log(alt_rate / null_rate) - (alt_rate - null_rate) * hours
    s = np.zeros(N_CALIBRATION)
    peak = np.zeros(N_CALIBRATION)
    for step in llr.T:
        s = np.maximum(0.0, s + step)
        peak = np.maximum(peak, s)
    return float(np.quantile(peak, 1.0 - FALSE_ALARM))


def _crossing(
    days: np.ndarray,
    spasms: np.ndarray,
    hours: np.ndarray,
    start: int,
    alarm: int,
    level: float,
    falling: bool,
) -> float:
    """First day whose rate, fitted monotone over the span, has crossed ``level``; else the run's first day.

    The span is the whole series given (the detection is the CUSUM's; this only dates it). A
    monotone (isotonic, hour-weighted) fit pools the noise of single days, so that one
    noisy day does not date the change early, as the first crossing of a rolling rate does.
    """
    from scipy.optimize import isotonic_regression

    fit = isotonic_regression(spasms / hours, weights=hours, increasing=not falling).x
    crossed = np.flatnonzero(fit <= level if falling else fit >= level)
    if crossed.size == 0:  # detected, but not yet halfway: date it by the CUSUM run's start
        return float(days[min(start, alarm)])
    return float(days[crossed[0]])


def response_days(record: Record) -> dict[str, float]:
    """The day fields of a response record (NaN when absent), for reports and tests."""
    return {
        name: float(v) if isinstance(v := record.fields.get(name), int | float) else math.nan
        for name in ("onset_day", "peak_day", "wearing_off_day")
    }


def injection_date(record: Record) -> dt.date:
    """The local date of a response record's injection (its ``injection`` tag)."""
    return dt.date.fromisoformat(record.tags["injection"])


__all__ = [
    "FALSE_ALARM",
    "Response",
    "detect_response",
    "injection_date",
    "response_days",
    "treatment_responses",
    "wearing_off_text",
]
