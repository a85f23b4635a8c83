"""The patient dashboard: one patient's spasms, scores, ROM, signal quality and treatments.

Template variables: ``$datasource`` (which InfluxDB), ``$patient`` (pseudonym) and ``$location``
(sensor body location, multi, All). The clinical numbers (spasms per observed hour, Penn, Snow,
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
DAILY_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'day\''
HOURLY_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'hour\''
INJECTION_SCORES = f'FROM "clinical_score" WHERE {PATIENT_RANGE} AND "period" = \'injection\''


def build() -> dash.Dashboard:
    """The patient dashboard builder (call ``.build()`` for the model)."""
    return (
        dash.Dashboard(TITLE)
        .uid(UID)
        .tags(["spasm-monitor", "patient"])
        .time("now-7d", "now")
        .refresh("5m")
        .timezone("browser")
        .with_variable(datasource_variable())
        .with_variable(_patient_variable())
        .with_variable(_location_variable())
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
        .with_panel(_weekly_rom())
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
        "Spasms per observed hour in each local clock hour (all of the patient's sensors, a spasm "
        "seen on several channels once), from monitor.clinical; hours without observed time have no bar."
    )
    return bars("Spasms per observed hour", description).with_target(target(q)).span(12)


def _daily_scores() -> PanelBuilder:
    q = f'SELECT "penn_frequency", "penn_severity", "snow_frequency" {DAILY_SCORES}'
    description = (
        "Per observed local day: Penn frequency (0–4) of the spasms per observed hour, Penn severity "
        "(1–3) and Snow's 24-hour frequency (1–5, only on days worn at least [clinical] min_wear_h), "
        "as computed by monitor.clinical."
    )
    panel = lines("Daily Penn and Snow scores", description, "none").min(0).max(5)
    return panel.with_target(target(q)).span(12)


def _timeline_by_type() -> PanelBuilder:
    # fill(none): an interval without a spasm may be one without data; it has no bar, not a 0.
    q = (
        f'SELECT count("duration_s") FROM "spasm_event" WHERE {F} '
        'GROUP BY time($__interval), "kind" fill(none)'
    )
    description = "Detector events per interval, stacked by type (one per channel: counts, not rates)."
    panel = bars("Spasm timeline by type", description, stacked=True)
    return panel.with_target(target(q, alias="$tag_kind")).span(12)


def _day_night() -> PanelBuilder:
    q = f'SELECT "day_spasms" AS "day", "night_spasms" AS "night" {DAILY_SCORES}'
    description = "Spasms per local day split into day and night (22:00–07:00 local), from monitor.clinical."
    return bars("Day / night split", description, stacked=True).with_target(target(q)).span(12)


def _distribution(title: str, field: str, unit: str) -> PanelBuilder:
    q = f'SELECT "{field}" FROM "spasm_event" WHERE {F}'
    return (
        histogram.Panel()
        .title(title)
        .description(f"Histogram of {field} over the spasms in range.")
        .datasource(DATASOURCE)
        .unit(unit)
        .with_target(target(q, result_format="table"))
        .span(8)
    )


def _clonus_trend() -> PanelBuilder:
    q = (
        f'SELECT mean("clonus_hz") AS "mean", max("clonus_hz") AS "max" FROM "spasm_event" '
        f"WHERE {F} GROUP BY time(1d) fill(none)"
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


def _weekly_rom() -> PanelBuilder:
    q = (
        # Set and 60 s window ranges, as monitor.clinical.weekly_rom: a whole day's max - min
        # would join unrelated movements and pick up IMU drift.
        f'SELECT max("range_deg") FROM "rom" WHERE {PATIENT_RANGE} '
        "AND (\"period\" = 'set' OR \"period\" = 'window') "
        'GROUP BY time(7d), "joint" fill(none)'
    )
    panel = lines(
        "Weekly best ROM per joint (PT weeks)",
        "Best range of motion of an exercise set or a 60 s window in each week.",
        "degree",
    )
    return panel.with_target(target(q, alias="$tag_joint")).span(12)


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
        'GROUP BY time(1d), "joint" fill(0)'
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
    q = f'SELECT sum("active_s") / 60 FROM "movement" WHERE {F} GROUP BY time(1d), "location" fill(0)'
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
