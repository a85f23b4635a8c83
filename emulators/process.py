"""Start the controller hub and emulated wearables as separate processes, and stop them.

Each child runs in its own session (process group), so stopping it also stops anything it
started, and a test or bench that fails half-way never leaves one behind.

A child also dies with its parent, however the parent ends (``kill -9`` of ``demo``
included): it holds the read end of a pipe (the *lifeline*) whose only write end is the
parent's, and a thread of the child waits on it. The kernel closes the write end when the
parent process dies, the read returns end-of-file, and the child stops itself with SIGTERM
(its clean stop), then SIGKILL if that hangs. A pipe rather than Linux's
``PR_SET_PDEATHSIG``: that signal follows the parent *thread* that forked the child, not the
process, and exists on Linux only. The child runs as
``python -m emulators.process FD MODULE ARGS...``, which arms the lifeline and runs
``python -m MODULE ARGS...`` in the same process.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import runpy
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 30.0  # a cold bumble + numpy + synthetic-physiology start on a loaded 2-core box
STOP_TIMEOUT_S = 5.0


@dataclass
class Child:
    """A child process with a line-oriented stdin/stdout."""

    name: str
    process: subprocess.Popen[str]
    lifeline_fd: int | None = None  # write end of the pipe the child watches; closed once it is gone
    # Its stdout lines, None at end of file, read by a thread: select() on the pipe misses
    # lines the reader has already buffered (two lines printed at once).
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        stdout = self.process.stdout
        if stdout is None:
            return

        def pump() -> None:
            with contextlib.suppress(ValueError, OSError):  # stdout closed under us: the end
                for line in stdout:
                    self.lines.put(line.rstrip("\n"))
            self.lines.put(None)

        threading.Thread(target=pump, name=f"{self.name}-stdout", daemon=True).start()

    def send(self, order: dict[str, Any], timeout_s: float = 10.0) -> None:
        """Send one JSON command line and wait for its ``ok``; ValueError if the child refuses it."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        read_line(self, timeout_s, expect="ok")

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process group, if the process still runs; do not wait."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the process group, wait, and kill it if it lingers; returns the exit code."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                return self.process.wait(STOP_TIMEOUT_S)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        code = self.process.wait(STOP_TIMEOUT_S)
        if self.lifeline_fd is not None:
            os.close(self.lifeline_fd)
            self.lifeline_fd = None
        return code


@dataclass
class Emulated:
    """A hub plus its emulated wearables; ``collector_transport`` is the gateway's port."""

    hub: Child
    ports: list[int]
    wearables: list[Child] = field(default_factory=list)
    stats_paths: list[Path] = field(default_factory=list)

    @property
    def collector_transport(self) -> str:
        return f"tcp-client:127.0.0.1:{self.ports[0]}"

    def stats(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stats_paths[index].read_text())
        return result

    def stop(self) -> None:
        """Stop every wearable, then the hub; the wearables wind down together."""
        for child in self.wearables:
            child.send_signal(signal.SIGTERM)
        for child in [*self.wearables, self.hub]:
            child.stop()


def start_hub(hosts: int) -> tuple[Child, list[int]]:
    """Start ``python -m emulators.hub``; returns it and its ports once listening."""
    child = spawn("hub", [sys.executable, "-m", "emulators.hub", "--hosts", str(hosts)])
    try:
        ports: list[int] = json.loads(read_line(child, READY_TIMEOUT_S))["ports"]
    except BaseException:
        child.stop()
        raise
    return child, ports


def wearable_address(index: int) -> str:
    """Static random address of emulated wearable ``index`` (top two bits set, as the spec asks)."""
    return f"F1:00:00:00:{index >> 8:02X}:{index & 0xFF:02X}"


def start_emulated(
    n_wearables: int,
    stats_dir: Path,
    *,
    extra_hosts: int = 0,
    options: list[list[str]] | None = None,
) -> Emulated:
    """Start a hub with ``1 + n_wearables + extra_hosts`` ports and ``n_wearables`` emulators.

    Port 0 is the collector's; wearable ``i`` uses port ``i + 1`` with address
    :func:`wearable_address` (i + 1), name ``SMREF-%02d`` and seed ``i + 1``. ``options[i]``
    adds command-line options (drift, jitter, drop schedule) to wearable ``i``.
    """
    hub, ports = start_hub(1 + n_wearables + extra_hosts)
    emulated = Emulated(hub, ports)
    try:
        for i in range(n_wearables):
            stats = stats_dir / f"wearable-{i + 1}.json"
            argv = [
                sys.executable, "-m", "emulators.reference",
                "--hci", f"tcp-client:127.0.0.1:{ports[i + 1]}",
                "--address", wearable_address(i + 1),
                "--name", f"SMREF-{i + 1:02d}",
                "--seed", str(i + 1),
                "--stats", str(stats),
                *(options[i] if options else []),
            ]  # fmt: skip
            emulated.wearables.append(spawn(f"wearable-{i + 1}", argv))
            emulated.stats_paths.append(stats)
        for child in emulated.wearables:
            read_line(child, READY_TIMEOUT_S, expect="ready")
    except BaseException:
        emulated.stop()
        raise
    return emulated


def start_extra_wearable(
    emulated: Emulated,
    port_index: int,
    argv_tail: list[str],
    module: str = "emulators.reference",
) -> Child:
    """Start one more emulator (``python -m module``) on hub port ``port_index``.

    Any profile's emulator works here: it takes ``--hci TRANSPORT`` first, prints ``ready``
    once advertising and stops on SIGTERM (an intruder, a Polar, a Myo...).
    """
    argv = [sys.executable, "-m", module, "--hci", f"tcp-client:127.0.0.1:{emulated.ports[port_index]}"]
    child = spawn(f"{module.split('.')[1]}-{port_index}", [*argv, *argv_tail])
    emulated.wearables.append(child)
    read_line(child, READY_TIMEOUT_S, expect="ready")
    return child


def spawn(name: str, argv: list[str]) -> Child:
    """Start ``argv`` in its own process group; a ``python -m MODULE`` child dies with this process."""
    lifeline_fd = read_fd = None
    if argv[1:2] == ["-m"] and len(argv) > 2:
        read_fd, lifeline_fd = os.pipe()  # both non-inheritable: only pass_fds hands one on
        argv = [argv[0], "-m", "emulators.process", str(read_fd), *argv[2:]]
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # own process group: killpg stops it and its children
            pass_fds=(read_fd,) if read_fd is not None else (),
            cwd=Path(__file__).resolve().parents[1],  # the repository: python -m finds the packages
        )
    except BaseException:
        if lifeline_fd is not None:
            os.close(lifeline_fd)
        raise
    finally:
        if read_fd is not None:
            os.close(read_fd)  # the child's end: the parent must not keep it open
    return Child(name, process, lifeline_fd)


def exit_with_parent(lifeline_fd: int) -> None:
    """In a child: stop this process once the parent holding the pipe's write end is gone.

    A daemon thread blocks reading ``lifeline_fd`` (nothing is ever written to it); the end
    of file comes when the parent dies. It then sends this process SIGTERM, its clean stop,
    and SIGKILL if that has not ended it within :data:`STOP_TIMEOUT_S`.
    """

    def watch() -> None:
        while os.read(lifeline_fd, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_TIMEOUT_S)  # a ceiling for the clean stop, not a choreography
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def read_line(child: Child, timeout_s: float, expect: str | None = None) -> str:
    """The child's next stdout line, or with ``expect`` the next line equal to it.

    TimeoutError after ``timeout_s``; RuntimeError if the child closed its stdout (exited);
    ValueError if, waiting for ``expect``, the child printed ``error: ...`` instead.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            line = child.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError(f"{child.name} gave no line within {timeout_s} s") from None
        if line is None:
            child.lines.put(None)  # the end stays the end for the next reader
            raise RuntimeError(f"{child.name} exited with code {child.process.poll()}")
        line = line.strip()
        if expect is not None and line.startswith("error:"):
            raise ValueError(f"{child.name} refused the order: {line}")
        if expect is None or line == expect:
            return line


if __name__ == "__main__":
    # python -m emulators.process FD MODULE ARGS...: arm the lifeline, then run MODULE.
    exit_with_parent(int(sys.argv[1]))
    sys.argv = [sys.argv[2], *sys.argv[3:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
