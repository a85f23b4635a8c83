"""Controller hub: N bumble virtual controllers on one virtual LE link, one TCP HCI port each.

bumble's own ``bumble.apps.controllers`` takes exactly two transports; a collector with
four or eight emulated wearables needs one host per wearable plus one for the gateway.
Every host (collector or emulator process) connects with ``tcp-client:127.0.0.1:PORT``.

Run as a process::

    python -m emulators.hub --hosts 5

It binds ``--hosts`` free ports on 127.0.0.1, prints them as one JSON line
(``{"ports": [...]}``) once it accepts connections, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

LOOPBACK = "127.0.0.1"


async def run_hub(hosts: int) -> None:
    """Serve ``hosts`` controllers on one link until SIGTERM/SIGINT; print their ports first."""
    link = LocalLink()  # type: ignore[no-untyped-call]
    transports = []
    controllers = []
    ports = []
    for index in range(hosts):
        # IPPROTO_TCP explicitly: asyncio disables Nagle's algorithm only on sockets that say so
        # (base_events._set_nodelay), and accepted sockets inherit it. With proto 0, a small HCI
        # packet waits for the peer's delayed ACK: a GATT read took 44 ms instead of 1.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((LOOPBACK, 0))
        ports.append(sock.getsockname()[1])
        transport = await open_tcp_server_transport_with_socket(sock)
        transports.append(transport)
        # Distinct public addresses keep the link's address lookups unambiguous.
        public = f"F0:00:00:00:{index >> 8:02X}:{index & 0xFF:02X}"
        controllers.append(Controller(f"C{index}", transport.source, transport.sink, link, public))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(json.dumps({"ports": ports}), flush=True)
    await stop.wait()
    for transport in transports:
        await transport.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, required=True, help="number of hosts to join (>= 2)")
    args = parser.parse_args(argv)
    if args.hosts < 2:
        sys.exit("--hosts must be at least 2")
    asyncio.run(run_hub(args.hosts))


if __name__ == "__main__":
    main()
