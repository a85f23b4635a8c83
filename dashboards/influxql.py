"""An InfluxQL query for grafana-foundation-sdk, added through its dataquery-variant hook.

The SDK ships builders for the core datasources but none for InfluxDB. Its documented
extension point ("Defining a custom query type") is a ``cogvariants.Dataquery`` subclass with
``to_json``/``from_json``, a builder, and ``cogruntime.register_dataquery_variant`` so that
dashboards read back from JSON decode our targets instead of an ``UnknownDataquery`` bag.

The JSON written is what Grafana's InfluxDB datasource saves for a raw InfluxQL target
(``rawQuery: true``, ``query``, ``resultFormat``, ``alias``).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

# Grafana's plugin id for InfluxDB; the SDK's runtime picks a variant by the datasource type.
INFLUXDB_TYPE = "influxdb"

ResultFormat = Literal["time_series", "table", "logs"]


class InfluxQLQuery(cogvariants.Dataquery):
    """A raw InfluxQL target of a panel.

    Parameters
    ----------
    query : str
        The InfluxQL statement, with Grafana macros (``$timeFilter``, ``$__interval``, variables).
    ref_id : str
        Target id within the panel (A, B, ...).
    result_format : {"time_series", "table", "logs"}
        How Grafana shapes the response.
    alias : str or None
        Series name pattern (``$tag_kind``, ``$col``).
    datasource : DataSourceRef or None
        The InfluxDB datasource.
    hide : bool or None
        Whether Grafana drops this target's result from the panel.
    """

    def __init__(
        self,
        query: str = "",
        ref_id: str = "",
        result_format: ResultFormat = "time_series",
        alias: str | None = None,
        datasource: dashboard.DataSourceRef | None = None,
        hide: bool | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias
        self.datasource = datasource
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "query": self.query,
            "rawQuery": True,  # the query text is the source of truth, not the visual editor
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            query=str(data.get("query", "")),
            ref_id=str(data.get("refId", "")),
            result_format=data.get("resultFormat", "time_series"),
            alias=data.get("alias"),
            datasource=dashboard.DataSourceRef.from_json(data["datasource"])
            if "datasource" in data
            else None,
            hide=data.get("hide"),
        )


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builder of an :class:`InfluxQLQuery`, in the SDK's fluent style.

    Examples
    --------
    >>> q = InfluxQL('SELECT count("duration_s") FROM "spasm_event" WHERE $timeFilter').ref_id("A")
    >>> q.build().to_json()["rawQuery"]
    True
    """

    def __init__(self, query: str) -> None:
        self._internal = InfluxQLQuery(query=query)

    def build(self) -> InfluxQLQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self

    def result_format(self, result_format: ResultFormat) -> Self:
        self._internal.result_format = result_format
        return self

    def alias(self, alias: str) -> Self:
        self._internal.alias = alias
        return self

    def datasource(self, datasource: dashboard.DataSourceRef) -> Self:
        self._internal.datasource = datasource
        return self

    def hide(self, hide: bool) -> Self:
        self._internal.hide = hide
        return self


class InfluxAnnotation(cogbuilder.Builder[dashboard.AnnotationQuery]):
    """An annotation read by an InfluxQL query (the SDK's ``AnnotationTarget`` only fits Grafana's own).

    Parameters
    ----------
    name : str
        Name of the annotation toggle on the dashboard.
    query : str
        InfluxQL returning the annotation points.
    datasource : DataSourceRef
        The InfluxDB datasource.
    icon_color : str
        Marker colour.
    text_column, tags_column : str
        Columns Grafana shows as the annotation's text and tags.
    """

    def __init__(
        self,
        name: str,
        query: str,
        datasource: dashboard.DataSourceRef,
        icon_color: str,
        text_column: str = "note",
        tags_column: str = "kind",
    ) -> None:
        self._internal = _InfluxAnnotationQuery(
            name=name, datasource=datasource, enable=True, icon_color=icon_color
        )
        self._internal.influx_target = {
            "refId": "Anno",
            "query": query,
            "rawQuery": True,
            "resultFormat": "table",
            "fromAnnotations": True,
            "textColumn": text_column,
            "tagsColumn": tags_column,
        }

    def build(self) -> dashboard.AnnotationQuery:
        return self._internal


class _InfluxAnnotationQuery(dashboard.AnnotationQuery):
    influx_target: dict[str, object]

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload["target"] = self.influx_target
        return payload


def register() -> None:
    """Register the InfluxQL variant with the SDK runtime (idempotent)."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=INFLUXDB_TYPE, from_json_hook=InfluxQLQuery.from_json)
    )


register()
