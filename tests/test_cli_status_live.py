"""``status`` beside a real ``run`` (emulated wearable, real BLE stack), and retention at its start."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulators.process import start_emulated, wearable_address
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


def test_status_reads_a_running_run_and_the_run_pruned_rows_past_retention(tmp_path: Path) -> None:
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
        status = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "status", "--config", str(config), "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        words = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "status", "--config", str(config)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
        emulated.stop()
    assert status.returncode == 0, status.stderr
    (wearable,) = json.loads(status.stdout)["wearables"]
    assert (wearable["name"], wearable["state"]) == ("left calf EMG", "connected")
    assert f"left calf EMG ({wearable_address(1)}): connected since" in words.stdout
    assert run.returncode == 0, err
    with Spool(spool_path, read_only=True) as spool:
        assert spool.query(0, OLD_NS + 1) == []  # pruned at the run's start
        assert spool.count() > 0
