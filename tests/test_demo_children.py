"""``kill -9`` of ``demo`` takes its hub, emulators and history worker with it (issue 13.11a).

Before, they ran on as orphans: the emulators advertising, the history worker writing into
the spool. The demo runs as a user starts it; the test waits for the demo's own word that
its wearables are up, kills it with SIGKILL, and waits on a pidfd of each child for its end.
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90.0  # imports, the history worker and four bumble processes on a loaded 2-core box
DEATH_TIMEOUT_S = 15.0  # SIGTERM, a clean stop, and the ceiling before SIGKILL (process.STOP_TIMEOUT_S)

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfd_open is Linux only")


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def wait_for_line(process: subprocess.Popen[str], wanted: str, timeout_s: float) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + timeout_s
    seen = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0 and selector.select(remaining):
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if wanted in line:
                return
    raise AssertionError(f"demo never said {wanted!r}; it said: {''.join(seen)[-2000:]}")


def test_kill_9_of_demo_ends_its_children(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "demo", "--live-s", "600", "--weeks", "2",
         "--injection-week", "1", "--windows-per-day", "1", "--out", str(tmp_path / "out")],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    pidfds: dict[int, int] = {}
    try:
        wait_for_line(demo, "collecting them over BLE", START_TIMEOUT_S)
        for pid in children_of(demo.pid):
            try:
                pidfds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                continue
        # The history worker, the hub and the three emulators at least.
        assert len(pidfds) >= 5, f"children of the demo: {sorted(pidfds)}"
        demo.send_signal(signal.SIGKILL)
        demo.wait()
        deadline = time.monotonic() + DEATH_TIMEOUT_S
        alive = dict(pidfds)
        while alive and (remaining := deadline - time.monotonic()) > 0:
            ended, _, _ = select.select(list(alive.values()), [], [], remaining)
            alive = {pid: fd for pid, fd in alive.items() if fd not in ended}
        assert not alive, f"children of the killed demo still running: {sorted(alive)}"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for fd in pidfds.values():  # survivors of a failed run must not outlive the test
            if select.select([fd], [], [], 0)[0] == []:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            os.close(fd)
        assert demo.stderr is not None
        demo.stderr.close()
