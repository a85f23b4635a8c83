"""A real HTTP server on 127.0.0.1 that records each request and answers as told.

For the InfluxDB 2.x delete API, which no server that runs here implements (InfluxDB 2.x
cannot be installed from the reachable registries, and VictoriaMetrics has no delete): the
client's request is checked as the server would receive it, over a real socket.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request as it arrived: method, path, query parameters, headers and body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RecordingServer:
    """The server's URL, what it answers (status and JSON body), and the requests it got."""

    url: str = ""
    status: int = 204
    answer: dict[str, Any] | None = None
    requests: list[Recorded] = field(default_factory=list)


@contextmanager
def recording_server(status: int = 204, answer: dict[str, Any] | None = None) -> Iterator[RecordingServer]:
    """Serve on a free port of 127.0.0.1 until the ``with`` block ends."""
    state = RecordingServer(status=status, answer=answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            parts = urllib.parse.urlsplit(self.path)
            state.requests.append(
                Recorded(
                    "POST",
                    parts.path,
                    urllib.parse.parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            body = json.dumps(state.answer).encode() if state.answer is not None else b""
            self.send_response(state.status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads state.requests, not stderr

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
