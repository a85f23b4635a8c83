"""Grafana provisioning documents: InfluxDB datasources, the dashboard provider, the contact point.

Secrets never appear in these files: they hold ``${NAME}`` references that Grafana
expands from its own environment when it reads the provisioning folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards.influxql import INFLUXDB_TYPE

FOLDER_UID = "spasm-monitor"
FOLDER_TITLE = "Spasm monitor"
CONTACT_POINT = "spasm-monitor"
DASHBOARDS_PATH = "dashboards"
# One datasource per InfluxDB generation, all serving InfluxQL; the dashboards' $datasource
# variable lists them by the "Spasm" in their names.
DATASOURCE_UIDS = {"1": "spasm-influxdb-v1", "2": "spasm-influxdb-v2", "3": "spasm-influxdb-v3"}


@dataclass(frozen=True, slots=True)
class ProvisioningSettings:
    """Where the data lives and which environment variables hold the secrets.

    Attributes
    ----------
    influx_v1_url, influx_v2_url, influx_v3_url : str
        Base URLs of the InfluxDB 1.x, 2.x and 3.x servers.
    database : str
        1.x database; on 2.x the DBRP-mapped database name; on 3.x the database (bucket).
    default_version : {"1", "2", "3"}
        Which datasource the dashboards and alert rules use by default.
    influx_password_env : str
        Environment variable with the 1.x password (user ``influx_user``).
    influx_token_env : str
        Environment variable with the 2.x/3.x API token.
    webhook_url_env : str
        Environment variable with the contact point's webhook URL (it may embed a credential).
    dashboards_dir : str
        Where Grafana finds the dashboard JSON (the provider's ``path``).
    """

    influx_v1_url: str = "http://localhost:8086"
    influx_v2_url: str = "http://localhost:8086"
    influx_v3_url: str = "http://localhost:8181"
    database: str = "spasm"
    default_version: str = "1"
    influx_user: str = "grafana"
    influx_password_env: str = "SPASM_INFLUXDB_PASSWORD"
    influx_token_env: str = "SPASM_INFLUXDB_TOKEN"
    webhook_url_env: str = "SPASM_ALERT_WEBHOOK_URL"
    dashboards_dir: str = "/var/lib/grafana/dashboards/spasm-monitor"
    timezone: str = "UTC"  # the patient's ([patient] timezone): local days on the dashboards

    def __post_init__(self) -> None:
        if self.default_version not in DATASOURCE_UIDS:
            raise ValueError(f"default_version must be one of 1, 2, 3, got {self.default_version!r}")

    @property
    def default_datasource_uid(self) -> str:
        return DATASOURCE_UIDS[self.default_version]


def datasources(settings: ProvisioningSettings) -> list[dict[str, Any]]:
    """The three InfluxQL datasources, as the datasource API and provisioning both take them."""
    token_header = {"httpHeaderName1": "Authorization"}
    token_secret = {"httpHeaderValue1": f"Token ${{{settings.influx_token_env}}}"}
    common = {"type": INFLUXDB_TYPE, "access": "proxy"}
    return [
        common | {
            "uid": DATASOURCE_UIDS["1"], "name": "Spasm InfluxDB 1.x", "url": settings.influx_v1_url,
            "user": settings.influx_user,
            "jsonData": {"dbName": settings.database, "httpMode": "POST"},
            "secureJsonData": {"password": f"${{{settings.influx_password_env}}}"},
        },
        # 2.x serves InfluxQL through its v1-compatible /query once a DBRP mapping exists.
        common | {
            "uid": DATASOURCE_UIDS["2"], "name": "Spasm InfluxDB 2.x (InfluxQL, DBRP)",
            "url": settings.influx_v2_url,
            "jsonData": {"dbName": settings.database, "httpMode": "POST"} | token_header,
            "secureJsonData": token_secret,
        },
        common | {
            "uid": DATASOURCE_UIDS["3"], "name": "Spasm InfluxDB 3.x (InfluxQL)",
            "url": settings.influx_v3_url,
            "jsonData": {"version": "InfluxQL", "dbName": settings.database, "httpMode": "POST"}
            | token_header,
            "secureJsonData": token_secret,
        },
    ]  # fmt: skip


def datasources_provisioning(settings: ProvisioningSettings) -> dict[str, Any]:
    """``provisioning/datasources/*.yaml``."""
    return {
        "apiVersion": 1,
        "datasources": [
            ds | {"orgId": 1, "isDefault": ds["uid"] == settings.default_datasource_uid, "editable": False}
            for ds in datasources(settings)
        ],
    }


def dashboard_provider(settings: ProvisioningSettings | None = None) -> dict[str, Any]:
    """``provisioning/dashboards/*.yaml``: load the dashboard JSON into the Spasm monitor folder."""
    settings = settings or ProvisioningSettings()
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "spasm-monitor",
                "orgId": 1,
                "folder": FOLDER_TITLE,
                "folderUid": FOLDER_UID,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,  # the code is the source of truth
                "updateIntervalSeconds": 60,
                "options": {"path": settings.dashboards_dir, "foldersFromFilesStructure": False},
            }
        ],
    }


def contact_point(settings: ProvisioningSettings) -> dict[str, Any]:
    """The webhook contact point, as the alerting provisioning API takes it."""
    return {
        "uid": "spasm-monitor-webhook",
        "name": CONTACT_POINT,
        "type": "webhook",
        "settings": {"url": f"${{{settings.webhook_url_env}}}", "httpMethod": "POST"},
        "disableResolveMessage": False,
    }


def contact_point_provisioning(settings: ProvisioningSettings) -> dict[str, Any]:
    """``provisioning/alerting/*.yaml`` holding the contact point."""
    point = contact_point(settings)
    receiver = {k: point[k] for k in ("uid", "type", "settings", "disableResolveMessage")}
    return {"apiVersion": 1, "contactPoints": [{"orgId": 1, "name": point["name"], "receivers": [receiver]}]}
