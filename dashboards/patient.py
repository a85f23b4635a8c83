"""The patient dashboard: one patient's spasms, scores, ROM, signal quality and treatments.

Template variables: ``$datasource`` (which InfluxDB), ``$patient`` (pseudonym), ``$location``
(sensor body location, multi, All) and ``$tz`` (a constant: the configured patient timezone, so
every ``GROUP BY time(1d)`` groups local days through InfluxQL's ``tz()``). Spasms are counted as
``spasm_episode`` records (one per limb episode, the scores' own count; docs/clinical.md), never
as ``spasm_event`` rows (one per channel). Injections are the ``treatment`` records (annotations
and the before/after table), never a typed date. The clinical numbers (spasms per observed hour, Penn, Snow,
day/night, before/after each injection) are read from the ``clinical_score`` records that
``monitor.clinical`` computes over observed time, never re-derived here: an hour or day without
observed time has no point, so it shows as no data, never as 0 (no ``fill(0)`` on them). Panel
descriptions are in ``dashboards/README.md``.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import histogram, table
from grafana_foundation_sdk.models import dashboard

from dashboards.influxql import InfluxAnnotation
from dashboards.panels import (
    DATASOURCE,
    PATIENT,
    PATIENT_LOCATION_RANGE,
    PATIENT_RANGE,
    PanelBuilder,
    bars,
    datasource_variable,
    lines,
    target,
)

UID = "spasm-patient"
TITLE = "Spasms: patient"

F = PATIENT_LOCATION_RANGE
# clinical_score rows carry no location: they summarise all of a patient's spasms.
# Episodes of the affected limbs: what the Penn and Snow scores count (monitor.clinical.episodes).
EPISODES = f'FROM "spasm_episode" WHERE {PATIENT_RANGE} AND "affected" = true'
LOCAL_DAYS = "tz('$tz')"  # group by the patient's local day, not the UTC one
DAILY_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'day\''
HOURLY_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'hour\''
INJECTION_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'injection\''


def build(timezone: str = "UTC") -> dash.Dashboard:
    """The patient dashboard builder (call ``.build()`` for the model).

    Parameters
    ----------
    timezone : str
        The patient's IANA timezone (``[patient] timezone``): daily groupings and the time axis.
    """
    return (
        dash.Dashboard(TITLE)
        .uid(UID)
        .tags(["spasm-monitor", "patient"])
        .time("now-7d", "now")
        .refresh("5m")
        .timezone(timezone)
        .with_variable(datasource_variable())
        .with_variable(_patient_variable())
        .with_variable(_location_variable())
        .with_variable(dash.ConstantVariable("tz").value(timezone))
        .annotation(
            _treatment_annotation("Botox injections", "botox", "red", ("muscles", "product", "dose_u"))
        )
        .annotation(_treatment_annotation("PT sessions", "pt", "blue", ("exercises", "pt_kind")))
        .with_row(dash.Row("Spasm frequency"))
        .with_panel(_spasms_per_hour())
        .with_panel(_daily_scores())
        .with_panel(_timeline_by_type())
        .with_panel(_day_night())
        .with_row(dash.Row("Spasm character"))
        .with_panel(_distribution("Spasm duration distribution", "duration_s", "s"))
        .with_panel(_distribution("Spasm intensity distribution", "peak_x_baseline", "none"))
        .with_panel(_clonus_trend())
        .with_row(dash.Row("Treatment response"))
        .with_panel(_pre_post())
        .with_panel(_treatment_response())
        .with_panel(_weekly_rom())
        .with_panel(_tardieu())
        .with_row(dash.Row("Range of motion"))
        .with_panel(_rom())
        .with_panel(_repetitions())
        .with_panel(_time_in_motion())
        .with_row(dash.Row("Signal quality and connectivity"))
        .with_panel(_wear_time())
        .with_panel(_gaps())
        .with_panel(_signal_quality())
        .with_panel(_battery())
    )


def _patient_variable() -> dash.QueryVariable:
    return (
        dash.QueryVariable("patient")
        .label("Patient")
        .datasource(DATASOURCE)
        # Every wearable writes coverage, so a patient shows before a first spasm, IMU-only too.
        .query('SHOW TAG VALUES FROM "coverage" WITH KEY = "patient"')
        .refresh(dashboard.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dashboard.VariableSort.ALPHABETICAL_ASC)
    )


def _location_variable() -> dash.QueryVariable:
    return (
        dash.QueryVariable("location")
        .label("Location")
        .datasource(DATASOURCE)
        .query(f'SHOW TAG VALUES FROM "coverage" WITH KEY = "location" WHERE {PATIENT}')
        .refresh(dashboard.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .all_value(".*")  # also matches events without a location tag
    )


def _treatment_annotation(name: str, kind: str, color: str, fields: tuple[str, ...]) -> InfluxAnnotation:
    # The first field is the annotation's text, the second its tag (product, session kind).
    columns = ", ".join(f'"{f}"' for f in fields)
    query = f'SELECT {columns} FROM "treatment" WHERE {PATIENT} AND "kind" = \'{kind}\' AND $timeFilter'
    return InfluxAnnotation(name, query, DATASOURCE, color, text_column=fields[0], tags_column=fields[1])


def _spasms_per_hour() -> PanelBuilder:
    # The hourly clinical scores: one point per observed local hour, none for an unobserved one.
    q = f'SELECT "spasms_per_h" {HOURLY_SCORES}'
    description = (
        "Spasms per observed hour in each local clock hour: episodes of the affected limbs (a spasm seen "
        "on several channels or wearables of one limb once), from monitor.clinical; hours without "
        "observed time have no bar (no data, not 0)."
    )
    return bars("Spasms per observed hour", description).with_target(target(q)).span(12)


def _daily_scores() -> PanelBuilder:
    q = f'SELECT "penn_frequency", "penn_severity", "snow_frequency" {DAILY_SCORES}'
    description = (
        "EMG-derived equivalents of the self-reported scales (docs/clinical.md), per observed local day, "
        "over the affected limbs' spasm episodes: Penn frequency (0–4) of the spasms per observed hour, "
        "Penn severity (1–3) and Snow's 24-hour frequency (1–5, only on days worn at least "
        "[clinical] min_wear_h), "
        "as computed by monitor.clinical."
    )
    panel = lines("Daily Penn and Snow scores (EMG-derived)", description, "none").min(0).max(5)
    return panel.with_target(target(q)).span(12)


def _timeline_by_type() -> PanelBuilder:
    # fill(none): an interval without a spasm may be one without data; it has no bar, not a 0.
    q = f'SELECT count("duration_s") {EPISODES} GROUP BY time($__interval), "kind" fill(none) {LOCAL_DAYS}'
    description = (
        "Spasms of the affected limbs per interval, stacked by type (Thomas et al. 2014 classes; "
        "movement: seen by an IMU alone). One per limb episode, as the scores count them; counts, "
        "not rates: read them beside the wear time."
    )
    panel = bars("Spasm timeline by type", description, stacked=True)
    return panel.with_target(target(q, alias="$tag_kind")).span(12)


def _day_night() -> PanelBuilder:
    q = f'SELECT "day_spasms" AS "day", "night_spasms" AS "night" {DAILY_SCORES}'
    description = "Spasms per local day split into day and night (22:00–07:00 local), from monitor.clinical."
    return bars("Day / night split", description, stacked=True).with_target(target(q)).span(12)


def _distribution(title: str, field: str, unit: str) -> PanelBuilder:
    q = f'SELECT "{field}" {EPISODES}'
    return (
        histogram.Panel()
        .title(title)
        .description(f"Histogram of {field} over the spasm episodes of the affected limbs in range.")
        .datasource(DATASOURCE)
        .unit(unit)
        .with_target(target(q, result_format="table"))
        .span(8)
    )


def _clonus_trend() -> PanelBuilder:
    q = (
        f'SELECT mean("clonus_hz") AS "mean", max("clonus_hz") AS "max" FROM "spasm_event" '
        f"WHERE {F} GROUP BY time(1d) fill(none) {LOCAL_DAYS}"
    )
    return (
        lines("Clonus frequency trend", "Daily mean and max clonus rhythm.", "hertz")
        .with_target(target(q))
        .span(8)
    )


def _pre_post() -> PanelBuilder:
    # The stored comparison of every injection in range (monitor.clinical.pre_post_records,
    # which the report shows too): spasms per observed hour before and after it.
    q = (
        'SELECT "pre_per_h" AS "before_per_h", "post_per_h" AS "after_per_h", "change_pct", '
        f'"pre_observed_h", "post_observed_h" {INJECTION_SCORES}'
    )
    return (
        table.Panel()
        .title("Spasms per observed hour: 14 days before vs days 7–41 after each injection")
        .description(
            "One row per Botox injection in range (its local date): spasms per observed hour in the 14 "
            "days before it and in days 7–41 after it, the change in percent and the observed hours "
            "behind each rate, as monitor.clinical computes them for the report."
        )
        .datasource(DATASOURCE)
        .with_target(target(q, result_format="table"))
        .span(12)
    )


def _treatment_response() -> PanelBuilder:
    # The stored cycle of every injection in range (monitor.clinical.response, as the report shows):
    # the effect as a rate ratio with its CI, and the onset, peak-effect and wearing-off days.
    q = (
        'SELECT "dose_u", "muscles", "baseline_per_h", "rate_ratio_peak", "rr_ci_low", "rr_ci_high", '
        '"onset_day", "peak_day", "wearing_off_day", "wearing_off_pct", "rate_ratio_injected", '
        f'"rate_ratio_control", "control_muscles" FROM "treatment_response" WHERE {PATIENT_RANGE} '
        'GROUP BY "injection"'
    )
    return (
        table.Panel()
        .title("Botox cycles: rate ratio and wearing-off")
        .description(
            "One row per Botox injection in range: its dose and muscles, the rate ratio of spasms per "
            "observed hour in days 21-42 over the 14 days before (95 % CI), the onset, peak-effect and "
            "wearing-off days after it (empty: not detected), the rate from wearing-off on as a percent "
            "of the pre-injection rate, and injected against non-injected muscles where both were worn."
        )
        .datasource(DATASOURCE)
        .with_target(target(q, result_format="table"))
        .span(24)
    )


def _weekly_rom() -> PanelBuilder:
    q = (
        # Set and 60 s window ranges, as monitor.clinical.weekly_rom: a whole day's max - min
        # would join unrelated movements and pick up IMU drift.
        f'SELECT max("range_deg") FROM "rom" WHERE {PATIENT_RANGE} '
        "AND (\"period\" = 'set' OR \"period\" = 'window') "
        f'GROUP BY time(7d), "joint" fill(none) {LOCAL_DAYS}'
    )
    panel = lines(
        "Weekly best ROM per joint (PT weeks)",
        "Best range of motion of an exercise set or a 60 s window in each week.",
        "degree",
    )
    return panel.with_target(target(q, alias="$tag_joint")).span(12)


def _tardieu() -> PanelBuilder:
    # The session medians of `spasm-monitor tardieu` (docs/schema.md tardieu), the latest of
    # each local day; the injections and PT sessions are the dashboard's annotations.
    q = (
        'SELECT last("r1_deg") AS "R1", last("r2_deg") AS "R2", last("r2_minus_r1_deg") AS "R2 − R1" '
        f'FROM "tardieu" WHERE {PATIENT_RANGE} AND "scope" = \'session\' '
        f'GROUP BY time(1d), "joint", "side" fill(none) {LOCAL_DAYS}'
    )
    panel = lines(
        "Tardieu R1, R2 and R2 − R1 per joint",
        "Guided Tardieu tests: catch angle R1, passive range R2 and the dynamic part R2 − R1 (the part "
        "Botox acts on), degrees in the joint's convention (docs/clinical.md).",
        "degree",
    )
    return panel.with_target(target(q, alias="$tag_side $tag_joint $col")).span(12)


def _rom() -> PanelBuilder:
    q = (
        f'SELECT max("range_deg") FROM "rom" WHERE {PATIENT_RANGE} AND "period" = \'window\' '
        'GROUP BY time($__interval), "joint" fill(none)'
    )
    panel = lines(
        "ROM per joint", "Range of motion of each joint (max over the windows of an interval).", "degree"
    )
    return panel.with_target(target(q, alias="$tag_joint")).span(12)


def _repetitions() -> PanelBuilder:
    q = (
        f'SELECT sum("reps") FROM "rom" WHERE {PATIENT_RANGE} AND "period" = \'day\' '
        f'GROUP BY time(1d), "joint" fill(0) {LOCAL_DAYS}'
    )
    panel = bars("Repetitions per joint per day", "Exercise repetitions counted from the joint angle.")
    return panel.with_target(target(q, alias="$tag_joint")).span(12)


def _gaps() -> PanelBuilder:
    q = (
        f'SELECT sum("duration_s") FROM "gap" WHERE {PATIENT_RANGE} '
        'GROUP BY time($__interval), "device" fill(0)'
    )
    panel = bars(
        "Connectivity gaps", "Seconds of stream lost to BLE drops and sequence gaps.", unit="s", stacked=True
    )
    return panel.with_target(target(q, alias="$tag_device")).span(8)


def _signal_quality() -> PanelBuilder:
    q = (
        f'SELECT sum("duration_s") FROM "signal_quality" WHERE {F} '
        'GROUP BY time($__interval), "issue" fill(0)'
    )
    panel = bars(
        "Electrode off and poor signal", "Seconds of unusable EMG, by issue.", unit="s", stacked=True
    )
    return panel.with_target(target(q, alias="$tag_issue")).span(8)


def _battery() -> PanelBuilder:
    q = (
        f'SELECT last("battery_pct") FROM "device_status" WHERE {PATIENT_RANGE} '
        'GROUP BY time($__interval), "device" fill(previous)'
    )
    panel = lines("Battery", "Battery level of each wearable.", "percent").min(0).max(100)
    return panel.with_target(target(q, alias="$tag_device")).span(8)


def _time_in_motion() -> PanelBuilder:
    q = (
        f'SELECT sum("active_s") / 60 FROM "movement" WHERE {F} '
        f'GROUP BY time(1d), "location" fill(0) {LOCAL_DAYS}'
    )
    panel = bars(
        "Time in motion per day",
        "Minutes each IMU turned faster than 20 deg/s: the activity the spasm counts sit in.",
        unit="m",
    )
    return panel.with_target(target(q, alias="$tag_location")).span(12)


def _wear_time() -> PanelBuilder:
    q = (
        f'SELECT sum("covered_s") / 36 FROM "coverage" WHERE {PATIENT_RANGE} '
        'GROUP BY time(1h), "device", "sensor" fill(0)'
    )
    panel = lines(
        "Wear time per wearable",
        "Share of each hour every stream of every wearable delivered samples (100 % = the whole hour).",
        "percent",
    )
    return panel.with_target(target(q, alias="$tag_device $tag_sensor")).min(0).max(100).span(24)
