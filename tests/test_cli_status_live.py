"""``status`` beside a real ``run`` (emulated wearable, real BLE stack), and retention at its start.

The run is a process of its own; ``status`` is the CLI's ``main`` in the test's process, so
the two share nothing but the spool, as a user's two commands do (a subprocess per
``status`` would only add its start-up: seconds on a loaded machine).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulators.process import start_emulated, wearable_address
from monitor.cli import main
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

REPO = Path(__file__).resolve().parents[1]
OLD_NS = time.time_ns() - 10 * 86_400 * NS_PER_S


def _wait_until_streaming(spool_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Spool(spool_path, read_only=True) as spool:
            statuses = spool.query(0, 2**62, measurement="device_status")
        if any(r.fields.get("connected") is True for r in statuses):
            return
        time.sleep(0.5)
    raise AssertionError(f"the wearable was not streaming within {timeout_s} s")


def test_status_reads_a_running_run_and_the_run_pruned_rows_past_retention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulated = start_emulated(1, tmp_path)
    spool_path = tmp_path / "spool.sqlite"
    with Spool(spool_path) as spool:  # ten days old: past a one-day retention
        spool.append([Record("spasm_event", OLD_NS, {"duration_s": 2.0}, {"patient": "p07"})])
    config = tmp_path / "config.toml"
    config.write_text(
        '[patient]\nid = "p07"\n'
        f'[[device]]\naddress = "{wearable_address(1)}"\nplacement = "calf"\nside = "left"\n'
        'muscle = "gastrocnemius"\n'
        f'[ble]\nbackend = "bumble"\ntransport = "{emulated.collector_transport}"\nscan_timeout_s = 5.0\n'
        f'[store]\nspool_path = "{spool_path}"\nretention_days = 1\n'
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_streaming(spool_path, timeout_s=60.0)
        status_code = main(["status", "--config", str(config), "--json"])
        status = capsys.readouterr()
        words_code = main(["status", "--config", str(config)])
        words = capsys.readouterr()
    finally:
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
        emulated.stop()
    assert status_code == 0, status.err
    (wearable,) = json.loads(status.out)["wearables"]
    assert (wearable["name"], wearable["state"]) == ("left calf EMG", "connected")
    assert words_code == 0, words.err
    assert f"left calf EMG ({wearable_address(1)}): connected since" in words.out
    assert run.returncode == 0, err
    with Spool(spool_path, read_only=True) as spool:
        assert spool.query(0, OLD_NS + 1) == []  # pruned at the run's start
        assert spool.count() > 0
