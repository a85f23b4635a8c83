"""The cohort dashboard: one table row per patient, for the clinic's overview.

Columns: last seen, latest daily Penn and Snow scores (from ``clinical_score``), spasms per
observed hour in the range and in the week before it (the trend; from the hourly
``clinical_score`` records, so unobserved time is in neither numerator nor denominator),
alerts in the range and data completeness. A second panel lists the Grafana alert rules now firing.
Each column is its own InfluxQL query grouped by ``patient``; Grafana joins them on the
``patient`` column.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import dashboard

from dashboards.panels import DATASOURCE, datasource_variable, target, transformation
from dashboards.provisioning import FOLDER_UID
from monitor.clinical.enough import MIN_RATE_H

UID = "spasm-cohort"
TITLE = "Spasms: cohort"


def _rate_query(name: str, time_filter: str) -> str:
    inner = (
        f'SELECT sum("spasms") * 3600.0 / sum("observed_s") AS "{name}", sum("observed_s") AS "observed_s" '
        f'FROM "clinical_score" WHERE "period" = \'hour\' AND {time_filter} GROUP BY "patient"'
    )
    return f'SELECT "{name}" FROM ({inner}) WHERE "observed_s" >= {MIN_RATE_H * 3600:g} GROUP BY "patient"'


QUERIES: dict[str, str] = {
    # The time column of this one is the start of the last minute with samples from any of the
    # patient's wearables (``coverage``, written per stream and minute): when they were last seen.
    "last_seen": (
        'SELECT last("covered_s") AS "last_covered_s" FROM "coverage" WHERE $timeFilter GROUP BY "patient"'
    ),
    # A live run re-scores the day each hour; look back three days for a gateway that was off.
    "latest_scores": (
        'SELECT last("penn_frequency") AS "penn_frequency", last("snow_frequency") AS "snow_frequency" '
        'FROM "clinical_score" WHERE "period" = \'day\' AND time >= ${__to}ms - 3d AND time <= ${__to}ms '
        'GROUP BY "patient"'
    ),
    # Spasms over observed time, from the hourly scores (one point per observed hour); stated
    # only on at least MIN_RATE_H observed hours, as everywhere (InfluxQL has no HAVING: the
    # outer query filters the inner one's observed time).
    "spasms_per_h": _rate_query("spasms_per_h", "$timeFilter"),
    "spasms_per_h_week_before": _rate_query(
        "spasms_per_h_week_before", "time >= ${__from}ms - 7d AND time < ${__from}ms"
    ),
    "alerts": 'SELECT count("value") AS "alerts" FROM "alert" WHERE $timeFilter GROUP BY "patient"',
    # Mean over the patient's streams (each sensor of each wearable) of the share of the range
    # they delivered samples in.
    "completeness_pct": (
        'SELECT mean("pct") AS "completeness_pct" FROM (SELECT sum("covered_s") * 100.0 / $__range_s '
        'AS "pct" FROM "coverage" WHERE $timeFilter GROUP BY "patient", "device", "sensor") '
        'GROUP BY "patient"'
    ),
}


def build(timezone: str = "UTC") -> dash.Dashboard:
    """The cohort dashboard builder (call ``.build()`` for the model), times shown in ``timezone``."""
    return (
        dash.Dashboard(TITLE)
        .uid(UID)
        .tags(["spasm-monitor", "cohort"])
        .time("now-24h", "now")
        .refresh("5m")
        .timezone(timezone)
        .with_variable(datasource_variable())
        .with_panel(_patients_table())
        .with_panel(_alerts_firing())
    )


def _patients_table() -> table.Panel:
    panel = (
        table.Panel()
        .title("Patients")
        .description("One row per patient; click a patient to open the patient dashboard.")
        .datasource(DATASOURCE)
        .height(16)
        .span(24)
    )
    for index, (name, query) in enumerate(QUERIES.items()):
        panel = panel.with_target(target(query, chr(ord("A") + index), alias=name, result_format="table"))
    trend = {
        "mode": "binary",
        "alias": "trend_per_h",
        "binary": {"left": "spasms_per_h", "operator": "-", "right": "spasms_per_h_week_before"},
        "replaceFields": False,
    }
    link = {
        "title": "Patient dashboard",
        "url": "/d/spasm-patient?var-patient=${__data.fields.patient}&${__url_time_range}",
    }
    return (
        panel.with_transformation(transformation("joinByField", {"byField": "patient", "mode": "outer"}))
        .with_transformation(transformation("calculateField", trend))
        .with_transformation(
            transformation(
                "organize",
                # After the join each query's time column shows as "Time <n>", in query order:
                # the first one (last_seen's) is the last-seen time, the others say nothing.
                {
                    "excludeByName": {"last_covered_s": True}
                    | {f"Time {n}": True for n in range(2, len(QUERIES) + 1)},
                    "renameByName": {"Time 1": "last seen"},
                },
            )
        )
        .override_by_name("completeness_pct", [dashboard.DynamicConfigValue(id_val="unit", value="percent")])
        .override_by_name("patient", [dashboard.DynamicConfigValue(id_val="links", value=[link])])
    )


def _alerts_firing() -> dash.Panel:
    # Grafana's own alert list: the rules of dashboards/alert_rules.py that fire now, per patient.
    options = {
        "viewMode": "list",
        "groupMode": "default",
        "groupBy": ["patient"],
        "maxItems": 50,
        "sortOrder": 1,
        "stateFilter": {"firing": True, "pending": True, "noData": True, "error": True, "normal": False},
        "folder": {"uid": FOLDER_UID},
        "alertInstanceLabelFilter": '{source="spasm-monitor"}',
    }
    return (
        dash.Panel()
        .type("alertlist")
        .title("Alerts firing")
        .description("Spasm-monitor alert rules firing or pending now, grouped by patient.")
        .options(options)
        .height(8)
        .span(24)
    )
