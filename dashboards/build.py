"""``spasm-monitor dashboards build``: dashboard JSON and Grafana provisioning YAML on disk.

Layout of the output folder (what Grafana's ``provisioning/`` folder expects)::

    dashboards/spasm-patient.json, dashboards/spasm-cohort.json
    provisioning/datasources/spasm-influxdb.yaml
    provisioning/dashboards/spasm-monitor.yaml
    provisioning/alerting/spasm-alert-rules.yaml, provisioning/alerting/spasm-contact-point.yaml
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import cohort, patient
from dashboards.alert_rules import alert_rules_provisioning
from dashboards.provisioning import (
    DASHBOARDS_PATH,
    ProvisioningSettings,
    contact_point_provisioning,
    dashboard_provider,
    datasources_provisioning,
)
from monitor.alerts.thresholds import AlertThresholds

# Each takes the patients' IANA timezone (local days, tz() in the queries).
DASHBOARDS: dict[str, Callable[[str], dash.Dashboard]] = {
    patient.UID: patient.build,
    cohort.UID: cohort.build,
}


def dashboard_json(builder: dash.Dashboard) -> str:
    """The dashboard as Grafana JSON, keys sorted so that rebuilds diff cleanly."""
    model = builder.build()
    # Fixed panel ids keep links such as ?viewPanel=3 valid across rebuilds and publishes.
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
    return json.dumps(model, cls=JSONEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def dashboard_models(timezone: str = "UTC") -> dict[str, dict[str, Any]]:
    """Each dashboard's JSON model by uid, for patients in ``timezone`` (IANA name)."""
    return {uid: json.loads(dashboard_json(build(timezone))) for uid, build in DASHBOARDS.items()}


def build_all(
    out: Path, settings: ProvisioningSettings | None = None, thresholds: AlertThresholds | None = None
) -> list[Path]:
    """Write the dashboards and the provisioning files under ``out``.

    Parameters
    ----------
    out : Path
        Output folder (created).
    settings : ProvisioningSettings, optional
        InfluxDB URLs, database and the names of the secrets' environment variables.
    thresholds : AlertThresholds, optional
        The alert rules' thresholds (config.toml's ``[alerts]``).

    Returns
    -------
    list of Path
        The files written.
    """
    settings = settings or ProvisioningSettings()
    thresholds = thresholds or AlertThresholds()
    files: dict[Path, str] = {
        out / DASHBOARDS_PATH / f"{uid}.json": dashboard_json(build(settings.timezone))
        for uid, build in DASHBOARDS.items()
    }
    provisioning = out / "provisioning"
    documents = {
        provisioning / "datasources" / "spasm-influxdb.yaml": datasources_provisioning(settings),
        provisioning / "dashboards" / "spasm-monitor.yaml": dashboard_provider(),
        provisioning / "alerting" / "spasm-alert-rules.yaml": alert_rules_provisioning(thresholds, settings),
        provisioning / "alerting" / "spasm-contact-point.yaml": contact_point_provisioning(settings),
    }
    for path, document in documents.items():
        files[path] = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
