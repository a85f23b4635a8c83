"""``spasm-monitor alerts test`` through a real HTTP server, and the status line of an undelivered alert."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from monitor.alerts import AlertEngine, AlertService, AlertThresholds
from monitor.cli import main
from monitor.commands.run import print_status
from monitor.live import LiveStatus
from monitor.store import Spool
from tests.alert_scenarios import H_NS, T0_NS, spike_day


class Hook(BaseHTTPRequestHandler):
    posts: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.posts.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture
def hook_url() -> Iterator[str]:
    Hook.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[patient]\nid = "p01"\n[alerts]\nnotify_urls_env = "SPASM_TEST_NOTIFY"\n')
    return path


def test_alerts_test_is_delivered_to_a_real_webhook(
    hook_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPASM_TEST_NOTIFY", hook_url)
    assert main(["alerts", "test", "--config", str(config(tmp_path))]) == 0
    assert capsys.readouterr().out == "alerts test: delivered to 1 notification URL\n"
    (post,) = Hook.posts
    assert "test notification" in post["message"]
    assert "p01" in post["title"]


def test_alerts_test_to_a_closed_port_is_not_delivered_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPASM_TEST_NOTIFY", f"json://127.0.0.1:{closed_port()}/hook")
    assert main(["alerts", "test", "--config", str(config(tmp_path)), "--timeout-s", "5"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("alerts test: NOT delivered to 1 notification URL")
    assert captured.out.count("\n") == 1
    assert captured.err == ""  # no traceback, no apprise warnings


def test_alerts_test_without_a_url_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SPASM_TEST_NOTIFY", raising=False)
    assert main(["alerts", "test", "--config", str(config(tmp_path))]) == 1
    assert "NOT delivered: no notification URL configured" in capsys.readouterr().out


async def test_an_alert_no_one_was_told_of_shows_in_the_status_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = AlertService(AlertEngine(AlertThresholds()), Spool(tmp_path / "spool.sqlite"), notifier=None)
    alerts = await service.consume([r for r in spike_day() if r.time_ns < T0_NS + 49 * H_NS])
    assert len(alerts) == 1
    assert service.undelivered == 1
    print_status(LiveStatus(5.0, {"cf12": True}, {"cf12": 5000}, 7, len(alerts), undelivered_alerts=1))
    assert "alerts 1 (1 NOT delivered)" in capsys.readouterr().err
