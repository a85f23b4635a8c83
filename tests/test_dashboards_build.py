"""``spasm-monitor dashboards build``: valid JSON and YAML, stable uids, secrets by reference only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.influxql import InfluxQLQuery
from monitor.alerts.thresholds import AlertThresholds
from monitor.cli import main

PATIENT_PANELS = (
    "Spasms per observed hour", "Daily Penn and Snow scores (EMG-derived)", "Spasm timeline by type",
    "Day / night split",
    "Spasm duration distribution", "Spasm intensity distribution", "Clonus frequency trend",
    "Spasms per observed hour: 14 days before vs days 7–41 after each injection",
    "Weekly best ROM per joint (PT weeks)",
    "ROM per joint", "Repetitions per joint per day", "Connectivity gaps", "Electrode off and poor signal",
    "Battery",
)  # fmt: skip


def build(out: Path) -> dict[str, str]:
    assert main(["dashboards", "build", "--out", str(out)]) == 0
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def load(files: dict[str, str], name: str) -> Any:
    return yaml.safe_load(files[name])


def test_build_writes_dashboards_and_provisioning(tmp_path: Path) -> None:
    files = build(tmp_path)
    assert sorted(files) == [
        "dashboards/spasm-cohort.json",
        "dashboards/spasm-patient.json",
        "provisioning/alerting/spasm-alert-rules.yaml",
        "provisioning/alerting/spasm-contact-point.yaml",
        "provisioning/dashboards/spasm-monitor.yaml",
        "provisioning/datasources/spasm-influxdb.yaml",
    ]
    for name, text in files.items():
        json.loads(text) if name.endswith(".json") else yaml.safe_load(text)  # both parse


def test_rebuild_is_byte_identical_and_uids_are_stable(tmp_path: Path) -> None:
    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    assert first == second
    uids = {json.loads(first[f"dashboards/{uid}.json"])["uid"] for uid in ("spasm-patient", "spasm-cohort")}
    assert uids == {"spasm-patient", "spasm-cohort"}
    rules = load(first, "provisioning/alerting/spasm-alert-rules.yaml")["groups"][0]["rules"]
    assert [r["uid"] for r in rules] == [
        "spasm-rate-spike", "spasm-tonic-prolonged", "spasm-device-offline", "spasm-poor-signal",
    ]  # fmt: skip


def test_patient_dashboard_has_the_clinical_panels_and_variables(tmp_path: Path) -> None:
    model = json.loads(build(tmp_path)["dashboards/spasm-patient.json"])
    titles = [p["title"] for p in model["panels"] if p["type"] != "row"]
    assert len(titles) == len(set(titles))
    assert [p["id"] for p in model["panels"]] == list(range(1, len(model["panels"]) + 1))
    assert set(PATIENT_PANELS) <= set(titles)
    variables = {v["name"] for v in model["templating"]["list"]}
    assert {"datasource", "patient", "location"} <= variables
    assert [a["name"] for a in model["annotations"]["list"]] == ["Botox injections", "PT sessions"]
    targets = [t for p in model["panels"] for t in p.get("targets", [])]
    assert all(t["rawQuery"] and t["datasource"]["type"] == "influxdb" for t in targets)


def test_dashboard_json_reads_back_through_the_sdk_with_the_influxql_variant(tmp_path: Path) -> None:
    model = json.loads(build(tmp_path)["dashboards/spasm-patient.json"])
    dashboard = Dashboard.from_json(model)
    targets = [t for p in dashboard.panels or [] if hasattr(p, "targets") for t in p.targets or []]
    assert targets
    assert all(isinstance(t, InfluxQLQuery) for t in targets)


def test_datasources_cover_influxdb_1_2_and_3_with_secrets_by_reference(tmp_path: Path) -> None:
    files = build(tmp_path)
    sources = load(files, "provisioning/datasources/spasm-influxdb.yaml")["datasources"]
    assert [s["uid"] for s in sources] == ["spasm-influxdb-v1", "spasm-influxdb-v2", "spasm-influxdb-v3"]
    assert {s["type"] for s in sources} == {"influxdb"}
    assert [s["isDefault"] for s in sources] == [True, False, False]
    assert sources[2]["jsonData"]["version"] == "InfluxQL"
    assert sources[1]["secureJsonData"]["httpHeaderValue1"] == "Token ${SPASM_INFLUXDB_TOKEN}"
    point = load(files, "provisioning/alerting/spasm-contact-point.yaml")["contactPoints"][0]
    assert point["receivers"][0]["settings"]["url"] == "${SPASM_ALERT_WEBHOOK_URL}"
    provider = load(files, "provisioning/dashboards/spasm-monitor.yaml")["providers"][0]
    assert provider["folderUid"] == "spasm-monitor"


def test_alert_rules_use_the_alert_thresholds(tmp_path: Path) -> None:
    rules = load(build(tmp_path), "provisioning/alerting/spasm-alert-rules.yaml")["groups"][0]["rules"]
    by_uid = {r["uid"]: r for r in rules}
    conditions = {
        uid: next(q["model"]["expression"] for q in r["data"] if q["refId"] == "C")
        for uid, r in by_uid.items()
    }
    t = AlertThresholds()
    assert conditions["spasm-tonic-prolonged"] == f"$a > {t.tonic_max_s:g}"
    assert conditions["spasm-poor-signal"] == f"$a > {t.poor_signal_max_min * 60:g}"
    offline = next(q for q in by_uid["spasm-device-offline"]["data"] if q["refId"] == "A")
    assert f'moving_average(count("covered_s"), {t.offline_max_min:g})' in offline["model"]["query"]
    # No data is never read as a value: a rule with nothing to evaluate is OK or NoData.
    assert {uid: r["noDataState"] for uid, r in by_uid.items()} == {
        "spasm-rate-spike": "OK",
        "spasm-tonic-prolonged": "OK",
        "spasm-device-offline": "NoData",
        "spasm-poor-signal": "OK",
    }
    assert {r["notification_settings"]["repeat_interval"] for r in rules} == {f"{t.cooldown_min:g}m"}
    spike = conditions["spasm-rate-spike"]
    assert spike.startswith(f"$o >= {t.spike_min_baseline_h:g} && ")
    assert f">= {t.spike_min_count} && " in spike
    assert f">= {t.spike_sigma**2:g} * " in spike
    spike_ranges = {
        q["refId"]: q["relativeTimeRange"]
        for q in by_uid["spasm-rate-spike"]["data"]
        if "relativeTimeRange" in q
    }
    baseline_s = round(t.spike_baseline_days * 86400)
    assert spike_ranges["O"] == {"from": baseline_s, "to": 7200}  # ends before the last hour began
