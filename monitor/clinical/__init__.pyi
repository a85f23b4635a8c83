"""Types of the names :mod:`monitor.clinical` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .daynight import (
    NightWindow,
    day_night_counts,
)
from .enough import (
    MIN_RATE_H,
    rate_stated,
    too_little_text,
)
from .events import spasm_rows
from .observed import (
    observed_intervals,
    observed_seconds_by_date,
    observed_seconds_by_hour,
)
from .penn import (
    penn_daily_frequency,
    penn_daily_severity,
    penn_frequency_for_rate,
    penn_hourly_frequency,
    penn_severity,
)
from .prepost import (
    PrePost,
    pre_post,
    pre_post_by_injection,
    pre_post_records,
)
from .rom_weekly import (
    WeeklyRom,
    weekly_rom,
)
from .scores import (
    clinical_scores,
    score_spool,
)
from .snow import (
    DEFAULT_MIN_WEAR_H,
    not_scored_text,
    snow_frequency,
    snow_scorable,
)

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
