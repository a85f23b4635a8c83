"""Every failure a user can meet is one line and exit code 2, never a traceback (issue 15.2).

Each test runs the command as a user would (``main()`` with real files, real HTTP servers on
127.0.0.1, a real SQLite recording) and checks what the user sees: no traceback, exit code
2, and the first words of the message.

No Grafana server can run here (none is in the reachable package registries), so the
Grafana failures are played by real HTTP servers that answer as a misconfigured deployment
would: 401 for a wrong token, 400 for a refused object, HTML or broken JSON from a server
that is not Grafana, and a closed port for a Grafana that is not running.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import build_parser, main
from monitor.recording import RecordingWriter
from monitor.types import Frame, Record, SensorKind, StreamId

TOKEN = "glsa_wrong-token-never-printed"
# What a server answers to any request: status, content type and body.
Answer = tuple[int, str, bytes]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr of ``spasm-monitor ARGV``, checked to be one line without a traceback."""
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # Log lines and progress lines ("replay rec.sqlite: [###  ] 10%") aside, the error is one line.
    lines = [line for line in err.splitlines() if line.startswith("spasm-monitor")]
    assert len(lines) == 1, err
    assert err.rstrip().endswith(lines[0])
    return code, lines[0]


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str, str], Answer]], str]]:
    """Start HTTP servers on 127.0.0.1 answering by a function of (method, path); yield their URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[str, str], Answer]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, content_type, body = answer(self.command, self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _reply  # noqa: N815 - http.server's names

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _json(status: int, body: object) -> Answer:
    return status, "application/json", json.dumps(body).encode()


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening, closed: connections are refused
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("answer", "first_words"),
    [
        (lambda m, p: _json(401, {"message": "Invalid API key"}), "Grafana at http://127.0.0.1:"),
        (
            lambda m, p: (
                _json(404, {"message": "not found"}) if m == "GET" else _json(400, {"message": "bad"})
            ),
            "Grafana at http://127.0.0.1:",
        ),
        (lambda m, p: (200, "text/html", b"<html><body>router login</body></html>"), "the server at"),
        (lambda m, p: (200, "application/json", b"{not json"), "the server at"),
        (lambda m, p: _json(404, {"error": "page not found"}), "the server at"),  # InfluxDB's answer
    ],
    ids=[
        "wrong token 401",
        "refused 400",
        "not Grafana (html)",
        "not Grafana (bad json)",
        "not Grafana (404)",
    ],
)
def test_publish_to_a_failing_server_is_one_line(
    answer: Callable[[str, str], Answer],
    first_words: str,
    serve: Callable[[Callable[[str, str], Answer]], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPASM_GRAFANA_TOKEN", TOKEN)
    url = serve(answer)
    code, line = run(["dashboards", "publish", "--url", url], capsys)
    assert code == 2
    assert line.startswith(f"spasm-monitor: {first_words}"), line
    assert url in line
    assert TOKEN not in line


def test_publish_with_no_grafana_running_says_connection_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPASM_GRAFANA_TOKEN", TOKEN)
    url = f"http://127.0.0.1:{closed_port()}"
    code, line = run(["dashboards", "publish", "--url", url], capsys)
    assert code == 2
    assert line.startswith(f"spasm-monitor: cannot reach Grafana at {url}: Connection refused"), line


@pytest.mark.parametrize("url", ["localhost:3000", "127.0.0.1:3000", "grafana.example"])
def test_publish_to_a_url_without_scheme_is_one_line(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPASM_GRAFANA_TOKEN", TOKEN)
    code, line = run(["dashboards", "publish", "--url", url], capsys)
    assert code == 2
    assert line.startswith("spasm-monitor: the Grafana URL must start with http:// or https://"), line


def test_scanning_with_a_missing_usb_dongle_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's own advice (``usb:0``) on a machine without a USB Bluetooth dongle."""
    monkeypatch.chdir(tmp_path)  # no config.toml
    code, line = run(["devices", "scan", "--backend", "bumble", "--transport", "usb:0"], capsys)
    assert code == 2
    assert line.startswith("spasm-monitor: cannot scan with bumble transport usb:0:"), line
    assert "dongle" in line  # the advice names what to check


@pytest.mark.parametrize("transport", ["nonsense:1", "serial:/nonexistent/tty"])
def test_scanning_with_an_unusable_transport_is_one_line(
    transport: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, line = run(["devices", "scan", "--backend", "bumble", "--transport", transport], capsys)
    assert code == 2
    assert line.startswith(f"spasm-monitor: cannot scan with bumble transport {transport}:"), line


# --- recordings: a damaged page, crafted rows ------------------------------------------------

PAGE_BYTES = 4096  # SQLite's default page size, which the writer keeps


def make_recording(path: Path, n_frames: int = 200) -> Path:
    rng = np.random.default_rng(3)
    with RecordingWriter(path) as writer:
        for i in range(n_frames):
            samples = rng.normal(0.0, 0.01, (100, 1))
            writer.append(
                Frame(
                    StreamId("d1", "emg"), SensorKind.EMG, 1000.0, i * 10**8, i * 100, i * 100 + 99, samples
                )
            )
        writer.append(Record("ble_status", n_frames * 10**8, {"connected": True}, {"device": "d1"}))
    return path


def corrupt_middle_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = len(data) // PAGE_BYTES // 2
    data[page * PAGE_BYTES : (page + 1) * PAGE_BYTES] = np.random.default_rng(5).bytes(PAGE_BYTES)
    path.write_bytes(bytes(data))


CRAFTED_ROWS = {
    "samples shorter than their shape": (
        "UPDATE items SET samples = x'00000000' WHERE id = 7",
        "item 7 is damaged",
    ),
    "a record without its fields": (
        """UPDATE items SET record = '{"measurement": "x"}' WHERE record IS NOT NULL""",
        "item 201 is damaged",
    ),
    "an unknown sensor kind": ("UPDATE items SET kind = 'smell' WHERE id = 3", "item 3 is damaged"),
    "a NULL sample count": ("UPDATE items SET n_samples = NULL WHERE id = 5", "item 5 is damaged"),
}


@pytest.mark.parametrize("command", ["analyze", "replay"])
@pytest.mark.parametrize("damage", ["corrupt page", *CRAFTED_ROWS])
def test_a_damaged_recording_is_one_line_naming_the_damage(
    command: str, damage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_recording(tmp_path / "rec.sqlite")
    if damage == "corrupt page":
        corrupt_middle_page(path)
        expected = "cannot read the recording"
    else:
        sql, expected = CRAFTED_ROWS[damage]
        with sqlite3.connect(path) as db:
            db.execute(sql)
        db.close()
    argv = [command, str(path)]
    if command == "replay":
        config = tmp_path / "config.toml"
        config.write_text(
            '[patient]\nid = "p01"\n[[device]]\nlabel = "d1"\naddress = "F3:00:00:00:00:01"\n'
            'placement = "calf"\n'
        )
        argv += ["--config", str(config), "--spool", str(tmp_path / "spool.sqlite")]
    code, line = run(argv, capsys)
    assert code == 2
    assert line.startswith(f"spasm-monitor: {path}: {expected}"), line
    assert ".recover" in line  # the advice says how to save the rest


def test_a_csv_dated_year_9999_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "late.csv"
    rows = [f"9999-12-31T23:59:{i * 0.004:06.3f}Z,0.01" for i in range(2000)]
    path.write_text("time,emg\n" + "\n".join(rows) + "\n")
    code, line = run(["analyze", str(path)], capsys)
    assert code == 2
    assert line.startswith(
        f"spasm-monitor: {path}: row 2, column 'time': '9999-12-31T23:59:00.000Z' is outside"
    ), line


def test_epoch_seconds_beyond_2262_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "late.csv"
    path.write_text("t,emg\n" + "".join(f"{253402300799 + i * 0.004:.3f},0.01\n" for i in range(2000)))
    code, line = run(["analyze", str(path)], capsys)
    assert code == 2
    assert "is outside 1970-2262" in line


# --- the command line itself ----------------------------------------------------------------


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--version"], ["report", "--version"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert capsys.readouterr().out.startswith("spasm-monitor ")


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "report", "--config", "no-such.toml"],
        ["report", "--config", "no-such.toml", "-v"],
        ["dashboards", "build", "-v", "--config", "no-such.toml"],
    ],
)
def test_verbose_is_accepted_before_or_after_the_subcommand(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, line = run(argv, capsys)
    assert code == 2
    assert "unrecognized arguments" not in line
    assert "no-such.toml" in line
    assert logging.getLogger().level == logging.INFO


# Spellings of one option across commands: the first is the one name. Old spellings may stay
# as aliases for old scripts (hidden, or after the one name), never as an option's own name.
SYNONYMS = [("--timezone", "--tz"), ("--influx-database", "--database")]


def test_one_name_per_option_across_commands() -> None:
    named: dict[str, set[str]] = {}  # an option's name (its first long spelling) -> commands
    stack = [("spasm-monitor", build_parser())]
    while stack:
        command, parser = stack.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += [(f"{command} {name}", sub) for name, sub in action.choices.items()]
            elif action.help != argparse.SUPPRESS and action.option_strings:
                long = [o for o in action.option_strings if o.startswith("--")]
                named.setdefault((long or action.option_strings)[0], set()).add(command)
    for name, *others in SYNONYMS:
        assert name in named
        for other in others:
            assert other not in named, f"{sorted(named[other])} call it {other}; the one name is {name}"
    assert build_parser().parse_args(["dashboards", "build", "--database", "old"]).database == "old"


def test_an_unexpected_failure_is_one_line_with_exit_1_and_its_traceback_under_vv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is not the user's mistake (exit 1, not 2), but still no traceback unless asked."""

    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr("monitor.commands.analyze.run_analyze", broken)
    monkeypatch.chdir(tmp_path)
    code, line = run(["analyze", "x.csv"], capsys)
    assert code == 1
    assert line.startswith(
        "spasm-monitor: unexpected RuntimeError: a bug over two lines (a bug: please report"
    )
    with pytest.raises(RuntimeError, match="a bug"):
        main(["analyze", "x.csv", "-vv"])


def test_demo_where_dev_shm_is_denied_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in a chroot whose /dev/shm was mode 755: the history worker's lock cannot be made.

    The denial is injected where the OS gives it (the semaphore's creation); nothing else is faked.
    """
    import multiprocessing.synchronize

    def denied(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(multiprocessing.synchronize.SemLock, "__init__", denied)
    code, line = run(
        ["demo", "--out", str(tmp_path / "out"), "--live-s", "1", "--weeks", "2", "--injection-week", "1"],
        capsys,
    )
    assert code == 2
    assert line == (
        "spasm-monitor: cannot start the demo's history worker: Permission denied"
        " (Python's multiprocessing needs a writable /dev/shm (mode 1777))"
    ), line
