"""``spasm-monitor run`` through a spool another process locks for longer than 5 s.

A real run (emulated wearable over the real BLE stack, subprocess) keeps collecting while
the test holds SQLite's write lock from a second connection; it used to crash after 5 s.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from emulators.process import start_emulated, wearable_address
from monitor.store import Spool
from tests.home_config import left_side_home_toml

REPO = Path(__file__).resolve().parents[1]


def _config(transport: str, spool_path: Path) -> str:
    calf = [(wearable_address(1), "calf", 'muscle = "gastrocnemius"')]
    return left_side_home_toml(calf, transport, spool_path)


class _StatusLines:
    """Reads the run's stderr on a thread; an Event per pattern the test waits for."""

    def __init__(self, stream: object, patterns: tuple[str, ...]) -> None:
        self.seen = {pattern: threading.Event() for pattern in patterns}
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line)
            for pattern, event in self.seen.items():
                if re.search(pattern, line):
                    event.set()

    def join(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


def test_run_keeps_collecting_through_a_spool_lock_held_over_5_s(tmp_path: Path) -> None:
    emulated = start_emulated(1, tmp_path, options=[["--emg-channels", "1", "--seed", "11"]])
    spool_path = tmp_path / "spool.sqlite"
    config = tmp_path / "config.toml"
    config.write_text(_config(emulated.collector_transport, spool_path))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--config", str(config), "--status-every-s", "1"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The status line counts the seconds the spool has refused writes: from 5 s on, the
        # lock has been held longer than the old 5 s busy timeout (plus the first try's 1 s).
        locked_5_s = r"spool LOCKED ([5-9]|\d\d+) s"
        # Streaming for 5 s (5,000 samples at 1 kHz) before the lock: a status line comes as
        # soon as the wearable is up now, and the envelope needs a few seconds to start.
        streaming = r" up ([5-9]|\d\d+),\d{3} samples"
        status = _StatusLines(process.stderr, (streaming, locked_5_s, "spool ok"))
        assert status.seen[streaming].wait(60), status.join()
        other = sqlite3.connect(spool_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's write lock
        locked_at = time.monotonic()
        status.seen["spool ok"].clear()
        assert status.seen[locked_5_s].wait(30), status.join()  # the run says so, and goes on
        held_s = time.monotonic() - locked_at
        other.execute("COMMIT")
        other.close()
        assert status.seen["spool ok"].wait(30), status.join()  # the held records went in
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
        err = status.join()
    finally:
        emulated.stop()
    assert held_s > 5.0
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "ran " in out
    # The envelope (1 Hz per channel) has no hole where the lock was held: nothing was lost.
    envelope = Spool(spool_path, read_only=True).query(0, 2**62, measurement="emg_envelope")
    times_s = np.array(sorted(r.time_ns for r in envelope)) / 1e9
    assert times_s[-1] - times_s[0] > held_s
    assert np.diff(times_s).max() < 1.5
