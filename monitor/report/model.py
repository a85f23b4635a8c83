"""What the patient report shows, as plain typed data (no HTML here).

:func:`monitor.report.source.build_report` fills a :class:`ReportData` from a spool;
:func:`monitor.report.html.render_html` turns it into one self-contained HTML file. Keeping
the numbers in a typed value lets the tests check them without parsing HTML.

Spasm counts follow :mod:`monitor.clinical`: a spasm seen on several EMG channels at once
counts once (:func:`monitor.clinical.spasm_rows`), and rates are per *observed* hour or day,
never per calendar hour, so an unworn sensor is not read as a spasm-free patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitor.clinical import NightWindow, PrePost, WeeklyRom
from monitor.clinical.cycle import RateRatio
from monitor.errors import SpasmMonitorError
from monitor.types import FieldValue, SpasmEvent


class ReportError(SpasmMonitorError):
    """The report cannot be built from what was given (missing spool, unknown patient...)."""

    default_advice = "check --spool, --patient and --timezone"


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the report period the patient was monitored, and how that was measured.

    Attributes
    ----------
    period_h : float
        Length of the report period, h (local midnight to local midnight).
    observed_hours : int
        Local clock hours with observed time (:mod:`monitor.clinical.observed`: ``observation``
        intervals, else ``coverage`` minutes).
    days_with_data : int
        Local dates with observed time.
    monitored_h : float
        Observed time in the period (union of the intervals), h.
    gap_s : float
        Stream lost to BLE drops and sequence gaps (``gap`` records), s.
    gap_count : int
        Number of ``gap`` records.
    signal_loss_s : float
        Unusable EMG (``signal_quality`` records: electrode off...), s, summed over channels.
    completeness_pct : float
        ``monitored_h`` over ``period_h``, percent.
    basis : str
        One sentence saying what the percentage is based on.
    """

    period_h: float
    observed_hours: int
    days_with_data: int
    monitored_h: float
    gap_s: float
    gap_count: int
    signal_loss_s: float
    completeness_pct: float
    basis: str


@dataclass(frozen=True, slots=True)
class DayScores:
    """One observed local day: counts and the daily clinical scores of :mod:`monitor.clinical`.

    ``penn_severity`` is None on a day without spasms; ``snow_frequency`` is None on a day
    observed for less than ``[clinical] min_wear_h``, and ``snow_note`` then says why
    ("not scored: 3 h worn"). ``spasms_per_h`` and ``penn_frequency`` are None on a day
    observed for less than :data:`~monitor.clinical.enough.MIN_RATE_H`, and ``rate_note`` then
    says so ("too little data: 1 min"; "" when they are stated).
    """

    date: dt.date
    spasms: int
    observed_s: float
    spasms_per_h: float | None
    day_spasms: int
    night_spasms: int
    penn_frequency: int | None
    penn_severity: int | None
    snow_frequency: int | None
    snow_note: str
    rate_note: str = ""


@dataclass(frozen=True, slots=True)
class Treatment:
    """One treatment-log entry: ``kind`` is ``botox`` or ``pt``; ``label`` is human-readable."""

    time_ns: int
    kind: str
    label: str


@dataclass(frozen=True, slots=True)
class Injection:
    """One botulinum toxin injection and its before/after comparison (:func:`monitor.clinical.pre_post`)."""

    date: dt.date
    label: str
    pre_post: PrePost


@dataclass(frozen=True, slots=True)
class Cycle:
    """One botulinum toxin cycle (:mod:`monitor.clinical.cycle`, :mod:`monitor.clinical.response`).

    Attributes
    ----------
    date : date
        The injection's local date (day 0).
    label : str
        Dose, product, side and muscles.
    response : dict
        The fields of its ``treatment_response`` record.
    windows : tuple of RateRatio
        Each window's rate and rate ratio against the baseline.
    weeks : tuple of (int, float, float)
        (week, observed hours, spasms per observed hour) of the weeks with observed time.
    """

    date: dt.date
    label: str
    response: dict[str, FieldValue]
    windows: tuple[RateRatio, ...]
    weeks: tuple[tuple[int, float, float], ...]


@dataclass(frozen=True, slots=True)
class KindSummary:
    """Spasms of one type (``tonic``, ``clonus``, ``myoclonic``, ``mixed``) over the period."""

    kind: str
    count: int
    mean_duration_s: float
    max_duration_s: float


@dataclass(frozen=True, slots=True)
class RomDay:
    """Range of motion of one joint of one side on one local day.

    ``best_range_deg`` is the largest ``range_deg`` of the day's exercise sets and 60-s
    windows (as :func:`monitor.clinical.weekly_rom`); ``reps`` the repetitions of its sets;
    ``side`` the records' ``side`` tag (``left``, ``right``; "" when not recorded).
    """

    joint: str
    date: dt.date
    best_range_deg: float
    reps: int
    side: str = ""


@dataclass(frozen=True, slots=True)
class TardieuPoint:
    """One guided Tardieu test (a ``tardieu`` session record): the latest of its local day.

    Angles in degrees of the joint's convention; None where the test found none (no catch).
    """

    joint: str
    side: str
    date: dt.date
    time_ns: int
    r2_deg: float | None
    r1_deg: float | None
    r2_minus_r1_deg: float | None
    v3_dps: float | None
    catch_source: str


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert that fired (``alert`` record)."""

    time_ns: int
    rule: str
    message: str
    delivered: bool


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the patient report shows.

    Attributes
    ----------
    patient : str
        Patient pseudonym ("" for untagged records).
    timezone : str
        The patient's IANA timezone; every date and clock time shown is local to it.
    start_ns, end_ns : int
        UTC bounds of the period (local midnights), ns; equal when there is no data.
    generated_ns : int
        UTC time the report was built, ns.
    simulated : bool
        The data is simulated (asked for, or tagged so in the spool).
    simulated_reason : str
        Why it is labelled simulated ("" when it is not).
    coverage : Coverage
    spasms : int
        Spasms in the period (overlapping channels once).
    spasms_per_h : float or None
        Spasms per observed hour (the observed days' spasms over their observed time), as
        :mod:`monitor.clinical` rates them; None with less observed time than
        :data:`~monitor.clinical.enough.MIN_RATE_H`.
    penn_frequency : int or None
        Penn Spasm Frequency Scale of ``spasms_per_h`` (0, 2, 3 or 4; 1 is never produced).
    penn_severity : int or None
        Penn severity grade (1–3) of the typical spasm: the upper median over the period.
    snow_median : int or None
        Median daily Snow frequency score (1–5) over the days worn at least ``min_wear_h``.
    snow_days : int
        Days with a Snow score.
    min_wear_h : float
        Observed hours a day needed for its Snow score.
    night : NightWindow
        The local night of the day/night split.
    day_spasms, night_spasms : int
        Spasms in the local day and night.
    days : tuple of DayScores
    treatments : tuple of Treatment
    injections : tuple of Injection
    kinds : tuple of KindSummary
    durations_s : tuple of float
        Duration of every spasm, s (for the distribution).
    rom : tuple of RomDay
    rom_weeks : tuple of WeeklyRom
        Best range per joint and week from the first PT session (:func:`monitor.clinical.weekly_rom`);
        empty without a PT session.
    events : tuple of SpasmEvent
        The most recent detector events (one per EMG channel or IMU), newest first.
    events_total : int
        All detector events in the period (the table may show fewer).
    alerts : tuple of AlertRow
    cycles : tuple of Cycle
        The Botox cycles of the period's injections, read on all data around them.
    tardieu : tuple of TardieuPoint
        The guided Tardieu tests of the period, per joint and side in time order.
    """

    patient: str
    timezone: str
    start_ns: int
    end_ns: int
    generated_ns: int
    simulated: bool
    simulated_reason: str
    coverage: Coverage
    spasms: int
    spasms_per_h: float | None
    penn_frequency: int | None
    penn_severity: int | None
    snow_median: int | None
    snow_days: int
    min_wear_h: float
    night: NightWindow
    day_spasms: int
    night_spasms: int
    days: tuple[DayScores, ...]
    treatments: tuple[Treatment, ...]
    injections: tuple[Injection, ...]
    kinds: tuple[KindSummary, ...]
    durations_s: tuple[float, ...]
    rom: tuple[RomDay, ...]
    rom_weeks: tuple[WeeklyRom, ...]
    events: tuple[SpasmEvent, ...]
    events_total: int
    alerts: tuple[AlertRow, ...]
    cycles: tuple[Cycle, ...] = ()  # Botox cycles of the period's injections
    tardieu: tuple[TardieuPoint, ...] = ()  # guided Tardieu tests (monitor/report/html_tardieu.py)
