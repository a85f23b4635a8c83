"""Clinical summaries of the spasm record stream, in the scales clinicians already use.

- :mod:`~monitor.clinical.penn`: Penn Spasm Frequency Scale (0–4) per hour and per day, and
  a Penn-style severity grade (1–3) per spasm.
- :mod:`~monitor.clinical.snow`: Snow's 24-hour spasm frequency score (1–5).
- :mod:`~monitor.clinical.daynight`: day versus night counts in the patient's local time.
- :mod:`~monitor.clinical.observed`: observed time, the one denominator of every rate.
- :mod:`~monitor.clinical.enough`: the one rule for enough observed time to state a rate.
- :mod:`~monitor.clinical.prepost`: spasms per observed hour before and after each injection.
- :mod:`~monitor.clinical.cycle`: the Botox cycle's windows, weekly curve and rate ratios (95 % CI).
- :mod:`~monitor.clinical.response`: onset, peak-effect and wearing-off days per cycle, as
  ``treatment_response`` records.
- :mod:`~monitor.clinical.severity`: severity graded against the patient's reference period.
- :mod:`~monitor.clinical.rom_weekly`: weekly best range of motion per joint.
- :mod:`~monitor.clinical.scores`: all of the above as ``clinical_score`` records.

Everything here is pure: records in, numbers or records out, time from the records.
"""

from monitor.clinical.daynight import NightWindow, day_night_counts
from monitor.clinical.enough import MIN_RATE_H, rate_stated, too_little_text
from monitor.clinical.events import spasm_rows
from monitor.clinical.observed import observed_intervals, observed_seconds_by_date, observed_seconds_by_hour
from monitor.clinical.penn import (
    penn_daily_frequency,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_hourly_frequency,
    penn_severity,
)
from monitor.clinical.prepost import PrePost, pre_post, pre_post_by_injection, pre_post_records
from monitor.clinical.rom_weekly import WeeklyRom, weekly_rom
from monitor.clinical.scores import clinical_scores, score_spool
from monitor.clinical.snow import DEFAULT_MIN_WEAR_H, not_scored_text, snow_frequency, snow_scorable

__all__ = [
    "DEFAULT_MIN_WEAR_H",
    "MIN_RATE_H",
    "NightWindow",
    "PrePost",
    "WeeklyRom",
    "clinical_scores",
    "day_night_counts",
    "not_scored_text",
    "observed_intervals",
    "observed_seconds_by_date",
    "observed_seconds_by_hour",
    "penn_daily_frequency",
    "penn_daily_severity",
    "penn_frequency_for_rate",
    "penn_hourly_frequency",
    "penn_severity",
    "pre_post",
    "pre_post_by_injection",
    "pre_post_records",
    "rate_stated",
    "score_spool",
    "snow_frequency",
    "snow_scorable",
    "spasm_rows",
    "too_little_text",
    "weekly_rom",
]
