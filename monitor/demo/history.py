"""A simulated treatment history, built through the real pipeline and stored in the spool.

Weeks of home monitoring cannot be shown live, so the demo builds them: each day it
samples a few EMG windows (calf; one channel by default), once a week the patient wears the
calf sensor for a whole working day (``wear_day_h`` hours from 08:00, enough for Snow's
24-hour score, which needs ``[clinical] min_wear_h`` observed hours), and on PT days and
every other day there is a knee exercise window (thigh and shank IMUs). Sampled days are
rated per observed hour like the others, but say "not scored: 0.5 h worn" for Snow. The
physiology of every window comes from :mod:`monitor.synth` with its rate, strength and range set by a
:class:`~monitor.demo.course.TreatmentCourse` around one botulinum toxin injection and
twice-weekly physiotherapy. The signals then go through :class:`~monitor.pipeline.Pipeline`,
configured with the demo's own wearables (:mod:`monitor.demo.wearables`, the live part's
``[[device]]`` tables), as a live run, a replay and ``analyze`` feed it, one frame per stream
and window (:mod:`monitor.demo.windows`), and every resulting record enters the spool, with:

- the pipeline's ``observation`` records (any wearable streaming: the EMG windows and the
  exercise windows), so rates are per observed hour and an unsampled hour is not read as
  spasm-free, and its ``coverage`` records per stream and minute;
- ``treatment`` records of the injection and the PT sessions (via :mod:`monitor.treatment`);
- ``clinical_score`` and ``spasm_episode`` records of the whole range (hourly, daily,
  pre/post injection, the cycle's response).

Every record carries the tag ``source=simulated`` (:data:`SIMULATED_TAGS`), so the
report and the dashboards can label it and a query can leave it out.

Speed: an hour of 200 Hz EMG through the detector costs about 0.3 s. Wearing the sensor
8+ hours every day of 6 weeks would take minutes, more than a demo may; one worn day a week
(6 × 9 h) beside the sampled windows (42 × 30 min) keeps the default history within about
half a minute on an idle 2-core machine. Fewer or shorter windows cut it in proportion.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from monitor.clinical import (
    NightWindow,
    observed_intervals,
    pre_post,
    pre_post_by_injection,
    score_spool,
    spasm_rows,
)
from monitor.clinical.affected import stored_affected
from monitor.clinical.events import to_local, to_ns
from monitor.demo.course import TreatmentCourse
from monitor.demo.summary import DaySummary, HistorySummary
from monitor.demo.wearables import demo_config
from monitor.demo.windows import ExerciseResult, run_emg_window, run_exercise_window
from monitor.store import Spool
from monitor.store.schema import SIMULATED_SOURCE, SPASM_EVENT, TREATMENT
from monitor.treatment import BotoxInjection, PtSession
from monitor.types import NS_PER_S, Record

SIMULATED_TAGS = {"source": SIMULATED_SOURCE}
# Local clock times of the sessions (a PT visit in the morning, home exercise before dinner).
PT_TIME = dt.time(10, 30)
HOME_EXERCISE_TIME = dt.time(17, 30)
INJECTION_TIME = dt.time(9, 0)
PT_KINDS = ("stretching", "strengthening")
PT_EXERCISES = ("standing hamstring curl", "calf stretch")
INJECTED_MUSCLES = ("gastrocnemius", "soleus")
INJECTION_DOSE_U = 200.0  # onabotulinumtoxinA, within the usual lower-limb range (label max 400 U)
WEAR_DAY_START = dt.time(8, 0)  # a worn day starts at 08:00 local (morning care)
WEAR_DAY_OF_WEEK = 3  # the 4th day of each simulated week is a worn day
PRE_POST_CONTEXT_DAYS = 42  # the comparison reads up to 6 weeks around an injection


def simulate_history(
    spool: Spool,
    *,
    start_date: dt.date,
    weeks: int = 6,
    injection_week: int = 2,
    pt_days: Sequence[int] | None = None,
    windows_per_day: int = 3,
    window_s: float = 600.0,
    wear_days: Sequence[int] | None = None,
    wear_day_h: float = 9.0,
    home_exercise_every_days: int = 2,
    emg_rate_hz: float = 200.0,
    channels: int = 1,
    seed: int = 0,
    patient: str = "demo",
    timezone: ZoneInfo | str = "UTC",
    course: TreatmentCourse | None = None,
    keep_features: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> HistorySummary:
    """Simulate weeks of home monitoring around a botulinum toxin injection and PT.

    Parameters
    ----------
    spool : Spool
        Where every record goes (open it in the thread that calls this).
    start_date : date
        Local date of the first simulated day; the history covers ``weeks * 7`` days
        from it, so ``today - 42 days`` ends it at today's local midnight, before live data.
    weeks : int
        Length of the history, weeks.
    injection_week : int
        Week (0-based) whose first day has the injection, at 09:00 local time.
    pt_days : sequence of int, optional
        Day indices (from ``start_date``) with a PT session; by default twice a week
        (the 2nd and 5th day of every week).
    windows_per_day : int
        EMG windows sampled per day, one at a random time in each of as many equal slots
        of the day (night included).
    window_s : float
        Length of each EMG window, s.
    wear_days : sequence of int, optional
        Day indices on which the calf sensor is worn ``wear_day_h`` hours from 08:00 instead
        of being sampled; by default one a week (the 4th day of each week).
    wear_day_h : float
        Hours worn on a worn day (at most 16); 9 by default, above ``min_wear_h``'s 8.
    home_exercise_every_days : int
        A home exercise window every this many days on days without PT; 0 for none.
    emg_rate_hz : float
        EMG sample rate, Hz: 200 (Myo class) is 5x cheaper than 1000 and enough for the
        detector.
    channels : int
        EMG channels on the calf, each with its own spasms; the patient's rate is shared
        between them. One (the gastrocnemius) halves the cost of two.
    seed : int
        Seed of every random draw: equal arguments give equal records.
    patient : str
        Patient pseudonym (``[patient] id``) for the ``patient`` tag.
    timezone : ZoneInfo or str
        The patient's IANA timezone: windows, sessions and days are local.
    course : TreatmentCourse, optional
        The simulated course; the defaults of :class:`TreatmentCourse` by default.
    keep_features : bool
        Also store the high-rate feature series (``emg_envelope`` at 1 Hz, ``joint_angle``
        at 10 Hz); off by default because nothing over weeks needs them.
    progress : callable, optional
        Called as ``progress(days_done, days_total)`` after each simulated day.

    Returns
    -------
    HistorySummary

    Raises
    ------
    ValueError
        On a bad size, or when the spool already holds simulated treatment records of
        this patient in the range (a second build would double every count).

    Examples
    --------
    >>> s = simulate_history(Spool(":memory:"), start_date=dt.date(2026, 1, 5), weeks=3,
    ...                      injection_week=1, windows_per_day=1, window_s=60, wear_days=(),
    ...                      home_exercise_every_days=0)
    >>> len(s.days), str(s.injection_date), s.records["treatment"]
    (21, '2026-01-12', 7)
    """
    t_start = time.perf_counter()
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    n_days = weeks * 7
    if weeks < 1 or not 0 <= injection_week < weeks:
        raise ValueError(f"need weeks >= 1 and 0 <= injection_week < weeks, got {weeks}, {injection_week}")
    if windows_per_day < 1 or not 60.0 <= window_s <= min(3600.0, 86_400.0 / windows_per_day):
        raise ValueError(
            "need windows_per_day >= 1 and 60 <= window_s <= min(3600, 86400 / windows_per_day),"
            f" got {windows_per_day}, {window_s}"
        )
    if not 0 < wear_day_h <= 16:
        raise ValueError(f"wear_day_h must be in (0, 16], got {wear_day_h}")
    if home_exercise_every_days < 0:
        raise ValueError(f"home_exercise_every_days must be >= 0, got {home_exercise_every_days}")
    course = course or TreatmentCourse()
    injection_day = injection_week * 7
    pt_set = set(range(n_days)) & set(pt_days if pt_days is not None else _twice_weekly(n_days))
    wear_set = set(range(n_days)) & set(
        wear_days if wear_days is not None else [d for d in range(n_days) if d % 7 == WEAR_DAY_OF_WEEK]
    )
    start_ns = _local_ns(start_date, dt.time(0), zone)
    end_ns = _local_ns(start_date + dt.timedelta(days=n_days), dt.time(0), zone)
    _refuse_second_build(spool, patient, start_ns, end_ns)

    # The live part's wearables: the same routing, tags and rules as a live run.
    config = demo_config(patient, zone.key)
    written: Counter[str] = Counter()
    treatments = _treatment_records(start_date, injection_day, sorted(pt_set), zone, patient)
    written.update(_append(spool, treatments))

    rng = np.random.default_rng(seed)
    night = NightWindow()
    days: list[DaySummary] = []
    true_onsets: list[int] = []
    pt_done = 0
    for day in range(n_days):
        date = start_date + dt.timedelta(days=day)
        since = None if day < injection_day else float(day - injection_day)
        records: list[Record] = []
        truth: list[Record] = []
        for t0_ns, length_s in _emg_windows(
            date, day in wear_set, windows_per_day, window_s, wear_day_h, zone, rng
        ):
            at_night = night.contains(to_local(t0_ns, zone).time())
            clock_h = (t0_ns - _local_ns(date, dt.time(0), zone)) / 3600 / NS_PER_S
            offset_days = None if since is None else since + clock_h / 24.0
            window = run_emg_window(
                config,
                t0_ns,
                window_s=length_s,
                rate_hz=emg_rate_hz,
                channels=channels,
                spasms_per_h=course.spasms_per_h(offset_days, at_night),
                amplitude_factor=course.amplitude_factor(offset_days),
                seed=int(rng.integers(2**31)),
                extra_tags=SIMULATED_TAGS,
                keep_envelope=keep_features,
            )
            records += window.records
            truth += window.truth
        exercise: list[ExerciseResult] = []
        home = home_exercise_every_days and day % home_exercise_every_days == 0
        if day in pt_set or home:
            pt = day in pt_set
            pt_done += pt
            exercise.append(
                run_exercise_window(
                    config,
                    _local_ns(date, PT_TIME if pt else HOME_EXERCISE_TIME, zone),
                    supervised=pt,
                    range_scale=course.range_scale(since, pt_done),
                    seed=int(rng.integers(2**31)),
                    extra_tags=SIMULATED_TAGS,
                    keep_angle=keep_features,
                )
            )
            records += [r for e in exercise for r in e.records]
        # The pipeline's observation intervals of the day (windows may overlap: merged).
        observed_s = sum((end - start) / NS_PER_S for start, end in _observed(records, zone))
        true_rows = spasm_rows(truth)
        true_onsets += [row.onset_ns for row in true_rows]
        days.append(
            DaySummary(
                date=date,
                observed_s=observed_s,
                true_spasms=len(true_rows),
                detected_spasms=len(spasm_rows(r for r in records if r.measurement == SPASM_EVENT)),
                toxin_effect=course.toxin_effect(since),
                pt_session=day in pt_set,
                true_reps=sum(e.true_reps for e in exercise),
                detected_reps=sum(e.detected_reps for e in exercise),
                true_range_deg=max((e.true_range_deg for e in exercise), default=math.nan),
                detected_range_deg=max((e.detected_range_deg for e in exercise), default=math.nan),
            )
        )
        written.update(_append(spool, records))
        if progress is not None:
            progress(day + 1, n_days)

    scores = [
        Record(r.measurement, r.time_ns, r.fields, {**r.tags, **SIMULATED_TAGS})
        for r in score_spool(spool, start_ns, end_ns, zone)
        if r.tags.get("patient", "") == patient
    ]
    written.update(_append(spool, scores))
    injection_date = start_date + dt.timedelta(days=injection_day)
    observed = {d.date: d.observed_s for d in days}
    # What was found: the one computation the report and the stored scores use, on the spool.
    context_ns = PRE_POST_CONTEXT_DAYS * 86_400 * NS_PER_S
    found = pre_post_by_injection(
        spool.query(start_ns - context_ns, end_ns + context_ns, patient=patient, kept_only=True),
        zone,
        stored_affected(spool),  # the patient's affected limbs, not the window's
    )
    return HistorySummary(
        patient=patient,
        start_ns=start_ns,
        end_ns=end_ns,
        injection_date=injection_date,
        pt_dates=tuple(start_date + dt.timedelta(days=d) for d in sorted(pt_set)),
        days=tuple(days),
        true_pre_post=pre_post(true_onsets, injection_date, zone, observed),
        detected_pre_post=next(
            r for _, r in found if r.injection_ns == _local_ns(injection_date, dt.time(0), zone)
        ),
        records=dict(written),
        wall_s=time.perf_counter() - t_start,
    )


def build_history_file(path: str | Path, **kwargs: Any) -> HistorySummary:
    """:func:`simulate_history` into the spool file at ``path``, opened here.

    For a worker process or thread next to the live demo: SQLite connections cannot
    cross threads, and WAL mode lets both write the same file. ``kwargs`` are those of
    :func:`simulate_history` (``progress`` must be callable in the worker).
    """
    with Spool(path) as spool:
        return simulate_history(spool, **kwargs)


def _emg_windows(
    date: dt.date,
    worn: bool,
    windows_per_day: int,
    window_s: float,
    wear_day_h: float,
    zone: ZoneInfo,
    rng: np.random.Generator,
) -> list[tuple[int, float]]:
    """The EMG windows of one day: (UTC start, ns; length, s)."""
    if worn:  # continuous wear from 08:00, in windows of at most an hour
        start_ns, left_s, out = _local_ns(date, WEAR_DAY_START, zone), wear_day_h * 3600.0, []
        while left_s > 0:
            length_s = min(3600.0, left_s)
            out.append((start_ns, length_s))
            start_ns += round(length_s * NS_PER_S)
            left_s -= length_s
        return out
    # Stratified sampling: one window at a random time in each of n equal slots of the day,
    # so night and day are observed in proportion to their length and the day/night counts
    # compare like with like over the weeks.
    slot_h = 24.0 / windows_per_day
    return [
        (_local_ns(date, _clock(slot_h * k + rng.uniform(0.0, slot_h - window_s / 3600.0)), zone), window_s)
        for k in range(windows_per_day)
    ]


def _observed(records: list[Record], zone: ZoneInfo) -> list[tuple[int, int]]:
    """The observed intervals of one day's records (one patient), UTC ns."""
    return [interval for intervals in observed_intervals(records, zone).values() for interval in intervals]


def _twice_weekly(n_days: int) -> list[int]:
    return [d for d in range(n_days) if d % 7 in (1, 4)]


def _treatment_records(
    start_date: dt.date, injection_day: int, pt_days: list[int], zone: ZoneInfo, patient: str
) -> list[Record]:
    """The injection and the PT sessions, built by the treatment log's own entry types."""
    entries: list[BotoxInjection | PtSession] = [
        BotoxInjection(
            date=start_date + dt.timedelta(days=injection_day),
            muscles=INJECTED_MUSCLES,
            side="left",
            dose_u=INJECTION_DOSE_U,
            product="onabotulinumtoxinA",
            time=INJECTION_TIME,
            note="simulated",
        )
    ]
    entries += [
        PtSession(
            date=start_date + dt.timedelta(days=d),
            pt_kind=PT_KINDS[i % len(PT_KINDS)],
            exercises=PT_EXERCISES,
            time=PT_TIME,
            note="simulated",
        )
        for i, d in enumerate(pt_days)
    ]
    return [
        Record(r.measurement, r.time_ns, r.fields, {**r.tags, **SIMULATED_TAGS})
        for r in (e.to_record(zone, patient) for e in entries)
    ]


def _refuse_second_build(spool: Spool, patient: str, start_ns: int, end_ns: int) -> None:
    existing = spool.query(start_ns, end_ns, measurement=TREATMENT, patient=patient)
    if any(r.tags.get("source") == SIMULATED_TAGS["source"] for r in existing):
        raise ValueError(
            f"the spool already holds a simulated history of patient {patient!r} in this range:"
            " use a fresh spool (or another patient or start_date)"
        )


def _append(spool: Spool, records: list[Record]) -> Counter[str]:
    spool.append(records)
    return Counter(r.measurement for r in records)


def _clock(hours: float) -> dt.time:
    minutes = int(hours * 60) % (24 * 60)
    return dt.time(minutes // 60, minutes % 60)


def _local_ns(date: dt.date, clock: dt.time, zone: ZoneInfo) -> int:
    return to_ns(dt.datetime.combine(date, clock, tzinfo=zone))
