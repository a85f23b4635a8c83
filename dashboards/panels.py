"""Pieces shared by the dashboards: the datasource variable, InfluxQL filters, panel helpers.

Every query is raw InfluxQL, the one language that InfluxDB 1.x, 2.x (through DBRP mappings)
and 3.x all serve, so one dashboard JSON works on all three datasources of the provisioning.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common, dashboard

from dashboards.influxql import INFLUXDB_TYPE, InfluxQL, ResultFormat

PanelBuilder = cogbuilder.Builder[dashboard.Panel]

# The dashboards point at this variable, so one JSON serves the 1.x, 2.x and 3.x datasources.
DATASOURCE = dashboard.DataSourceRef(type_val=INFLUXDB_TYPE, uid="${datasource}")

# Grafana interpolates $patient/$location inside /.../ as escaped regexes (a multi-value
# selection becomes (a|b)); the regex form also matches points that lack the tag when "All"
# (.*) is selected, which the equality form would not.
PATIENT = '"patient" =~ /^$patient$/'
LOCATION = '"location" =~ /^$location$/'
PATIENT_RANGE = f"{PATIENT} AND $timeFilter"
PATIENT_LOCATION_RANGE = f"{PATIENT} AND {LOCATION} AND $timeFilter"


def target(
    query: str, ref_id: str = "A", alias: str | None = None, result_format: ResultFormat = "time_series"
) -> InfluxQL:
    """An InfluxQL target on the dashboard's datasource variable."""
    built = InfluxQL(query).ref_id(ref_id).datasource(DATASOURCE).result_format(result_format)
    return built.alias(alias) if alias is not None else built


def datasource_variable() -> dash.DatasourceVariable:
    """``$datasource``: any InfluxDB datasource (the provisioning names one per InfluxDB version)."""
    return dash.DatasourceVariable("datasource").label("InfluxDB").type(INFLUXDB_TYPE).regex("/Spasm/")


def bars(title: str, description: str, unit: str = "short", stacked: bool = False) -> timeseries.Panel:
    """A time series drawn as bars (counts per bucket read best as bars)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(80)
        .min(0)
    )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    return panel


def lines(title: str, description: str, unit: str) -> timeseries.Panel:
    """A time series drawn as lines with points (sparse trends stay visible)."""
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .show_points(common.VisibilityMode.ALWAYS)
    )


def transformation(id_val: str, options: dict[str, object]) -> dashboard.DataTransformerConfig:
    """A Grafana transformation (``merge``, ``organize``, ``calculateField``...)."""
    return dashboard.DataTransformerConfig(id_val=id_val, options=options)
