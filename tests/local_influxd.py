"""Throwaway InfluxDB 1.x server on 127.0.0.1, for tests and benchmarks.

Debian's ``influxdb`` package (1.6.7) does not start by itself in a container, so
this starts ``influxd run -config FILE`` with its data in a directory of our own,
and can stop (SIGTERM), kill (SIGKILL) and restart it on the same data and port.
It lives with the tests (``bench/`` imports it as ``tests.local_influxd``): the product never
starts a database of its own.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from monitor.errors import StoreError

STARTUP_TIMEOUT_S = 20.0  # /ping answers after ~0.1 s; a loaded 2-core machine needs more
PING_INTERVAL_S = 0.05
STOP_TIMEOUT_S = 10.0

CONFIG_TEMPLATE = """\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_ping(url: str, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Block until ``GET url`` answers 2xx, or raise :class:`StoreError`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if 200 <= response.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise StoreError(f"{url} did not answer within {timeout_s:.0f} s")
        time.sleep(PING_INTERVAL_S)


class LocalInfluxd:
    """One ``influxd`` 1.x process with its own temporary data directory and ports.

    Parameters
    ----------
    binary : str
        The ``influxd`` executable.
    root : Path or None
        Data directory; a fresh temporary one (removed by :meth:`close`) when None.
    """

    def __init__(self, binary: str = "influxd", root: Path | None = None) -> None:
        found = shutil.which(binary)
        if found is None:
            raise StoreError(
                f"{binary} not found",
                "install Debian's influxdb package: source scripts/services.sh && services_install",
            )
        self.binary = found
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="spasm-influxd-")) if root is None else root
        self.http_port = free_port()
        self.config_path = self.root / "influxdb.conf"
        self.config_path.write_text(
            CONFIG_TEMPLATE.format(root=self.root, rpc_port=free_port(), http_port=self.http_port)
        )
        self._log = open(self.root / "influxd.log", "ab")  # noqa: SIM115 - lives as long as the server
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        """Start influxd (on the same data and port as before) and wait for ``/ping``."""
        if self._process is not None and self._process.poll() is None:
            return
        self._process = subprocess.Popen(
            [self.binary, "run", "-config", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_ping(self.url + "/ping")
        except StoreError:
            self.stop()
            raise

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop influxd with ``sig`` (SIGKILL for a crash) and wait for it to exit."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(sig)
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def query(self, influxql: str, database: str | None = None) -> bytes:
        """Run an InfluxQL statement through ``POST /query``; the JSON answer, raw."""
        params = {"q": influxql, "epoch": "ns"}
        if database:
            params["db"] = database
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(self.url + "/query", data=data, timeout=30) as response:
            return bytes(response.read())

    def close(self) -> None:
        """Stop the server and remove its temporary directory."""
        self.stop()
        self._log.close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalInfluxd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
