"""Publishing to Grafana, against a recording double of Grafana's HTTP API.

No Grafana server can be installed here (none is in the reachable package registries), so
these tests run ``spasm-monitor dashboards publish`` against a small HTTP server on 127.0.0.1
that records every request and answers as Grafana's HTTP API documents it: 404 for a folder,
datasource, dashboard or alert rule that does not exist, the documented bodies for creates
and updates, and state kept between calls so that a second publish sees the first one.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.cli import main

TOKEN = "glsa_test-token-never-printed"
INFLUX_TOKEN = "influx-secret-token"


@dataclass
class FakeGrafana:
    """State and request log of the double."""

    requests: list[tuple[str, str, dict[str, Any] | list[Any] | None, str]] = field(default_factory=list)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    alert_rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.requests if method != "GET"]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body, _ in self.requests if (m, p) == (method, path)]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Grafana's documented status and body for one call."""
        route = (method, *path.strip("/").split("/"))
        match route:
            case ("GET", "api", "folders", uid):
                return (
                    (200, self.folders[uid])
                    if uid in self.folders
                    else (404, {"message": "folder not found"})
                )
            case ("POST", "api", "folders"):
                folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"]}
                self.folders[body["uid"]] = folder
                return 200, folder
            case ("GET", "api", "datasources", "uid", uid):
                found = uid in self.datasources
                return (200, self.datasources[uid]) if found else (404, {"message": "Data source not found"})
            case ("POST", "api", "datasources"):
                if body["uid"] in self.datasources or any(
                    d["name"] == body["name"] for d in self.datasources.values()
                ):
                    return 409, {"message": "data source with the same name already exists"}
                self.datasources[body["uid"]] = body | {"id": len(self.datasources) + 1}
                return 200, {"datasource": body, "id": len(self.datasources), "message": "Datasource added"}
            case ("PUT", "api", "datasources", "uid", uid):
                self.datasources[uid] = body | {"id": self.datasources[uid]["id"]}
                return 200, {
                    "datasource": body,
                    "id": self.datasources[uid]["id"],
                    "message": "Datasource updated",
                }
            case ("GET", "api", "dashboards", "uid", uid):
                if uid not in self.dashboards:
                    return 404, {"message": "Dashboard not found"}
                return 200, self.dashboards[uid]
            case ("POST", "api", "dashboards", "db"):
                model = body["dashboard"]
                version = (
                    self.dashboards.get(model["uid"], {"dashboard": {"version": 0}})["dashboard"]["version"]
                    + 1
                )
                stored = model | {"id": 7, "version": version}
                self.dashboards[model["uid"]] = {
                    "dashboard": stored,
                    "meta": {"folderUid": body["folderUid"]},
                }
                return 200, {"id": 7, "uid": model["uid"], "status": "success", "version": version}
            case ("GET", "api", "v1", "provisioning", "contact-points"):
                return 200, list(self.contact_points.values())
            case ("POST", "api", "v1", "provisioning", "contact-points"):
                self.contact_points[body["uid"]] = body
                return 202, body
            case ("PUT", "api", "v1", "provisioning", "contact-points", uid):
                self.contact_points[uid] = body
                return 202, {"message": "contactpoint updated"}
            case ("GET", "api", "v1", "provisioning", "alert-rules", uid):
                return (200, self.alert_rules[uid]) if uid in self.alert_rules else (404, {})
            case ("POST", "api", "v1", "provisioning", "alert-rules"):
                if body["uid"] in self.alert_rules:
                    return 409, {"message": "rule with this uid already exists"}
                self.alert_rules[body["uid"]] = body
                return 201, body
            case ("PUT", "api", "v1", "provisioning", "alert-rules", uid):
                self.alert_rules[uid] = body
                return 200, body
        return 404, {"message": "Not found"}


@pytest.fixture
def grafana() -> Iterator[tuple[str, FakeGrafana]]:
    state = FakeGrafana()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = self.path.split("?")[0]
            with lock:
                state.requests.append((self.command, path, body, self.headers.get("Authorization", "")))
                status, answer = state.answer(self.command, path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815  (http.server's names)

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def publish(url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("SPASM_GRAFANA_TOKEN", TOKEN)
    monkeypatch.setenv("SPASM_INFLUXDB_TOKEN", INFLUX_TOKEN)
    monkeypatch.delenv("SPASM_INFLUXDB_PASSWORD", raising=False)
    return main(["dashboards", "publish", "--url", url])


RULE_UIDS = ["spasm-rate-spike", "spasm-tonic-prolonged", "spasm-device-offline", "spasm-poor-signal"]


def test_first_publish_creates_folder_datasources_dashboards_and_alert_rules(
    grafana: tuple[str, FakeGrafana], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = grafana
    assert publish(url, monkeypatch) == 0
    assert state.writes() == (
        [("POST", "/api/folders")]
        + [("POST", "/api/datasources")] * 3
        + [("POST", "/api/dashboards/db")] * 2
        + [("POST", "/api/v1/provisioning/contact-points")]
        + [("POST", "/api/v1/provisioning/alert-rules")] * 4
    )
    assert {auth for *_, auth in state.requests} == {f"Bearer {TOKEN}"}
    assert sorted(state.dashboards) == ["spasm-cohort", "spasm-patient"]
    assert {d["meta"]["folderUid"] for d in state.dashboards.values()} == {"spasm-monitor"}
    assert list(state.alert_rules) == RULE_UIDS
    assert {r["folderUID"] for r in state.alert_rules.values()} == {"spasm-monitor"}
    # Secrets travel to Grafana (the API needs values), and never to the terminal.
    v2 = state.datasources["spasm-influxdb-v2"]
    assert v2["secureJsonData"] == {"httpHeaderValue1": f"Token {INFLUX_TOKEN}"}
    assert "secureJsonData" not in state.datasources["spasm-influxdb-v1"]  # password not set: not sent
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    assert INFLUX_TOKEN not in out.out + out.err
    assert "11 created" in out.out


def test_publishing_twice_creates_nothing_twice(
    grafana: tuple[str, FakeGrafana], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = grafana
    assert publish(url, monkeypatch) == 0
    first = len(state.requests)
    assert publish(url, monkeypatch) == 0
    second = state.writes()[11:]
    assert not [w for w in second if w[0] == "POST"], "a second publish must not create anything"
    assert second == (
        [("PUT", f"/api/datasources/uid/spasm-influxdb-v{v}") for v in (1, 2, 3)]
        + [("PUT", "/api/v1/provisioning/contact-points/spasm-monitor-webhook")]
        + [("PUT", f"/api/v1/provisioning/alert-rules/{uid}") for uid in RULE_UIDS]
    )
    # Unchanged dashboards are left alone: their version stays 1.
    assert {d["dashboard"]["version"] for d in state.dashboards.values()} == {1}
    assert (len(state.folders), len(state.datasources), len(state.alert_rules)) == (1, 3, 4)
    assert len(state.requests) > first


def test_changed_dashboard_is_updated_in_place(
    grafana: tuple[str, FakeGrafana], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = grafana
    assert publish(url, monkeypatch) == 0
    state.dashboards["spasm-patient"]["dashboard"]["title"] = "edited in the UI"
    assert publish(url, monkeypatch) == 0
    assert state.dashboards["spasm-patient"]["dashboard"]["title"] == "Spasms: patient"
    assert state.dashboards["spasm-patient"]["dashboard"]["version"] == 2
    [body] = state.bodies("POST", "/api/dashboards/db")[2:]
    assert body["overwrite"] is True
    assert re.fullmatch(r"spasm-patient", body["dashboard"]["uid"])


def test_publish_without_a_token_is_a_usage_error(
    grafana: tuple[str, FakeGrafana], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = grafana
    monkeypatch.delenv("SPASM_GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "publish", "--url", url]) == 2
    assert "SPASM_GRAFANA_TOKEN" in capsys.readouterr().err
    assert state.requests == []


def test_token_from_a_file(
    grafana: tuple[str, FakeGrafana], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    url, state = grafana
    monkeypatch.delenv("SPASM_GRAFANA_TOKEN", raising=False)
    token_file = tmp_path / "grafana.token"
    token_file.write_text("file-token\n")
    assert main(["dashboards", "publish", "--url", url, "--token-file", str(token_file)]) == 0
    assert {auth for *_, auth in state.requests} == {"Bearer file-token"}
