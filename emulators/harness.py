"""What every emulated wearable's process shares: its command line, its stdin orders, its life.

An emulator (``emulators/<profile>.py``, an :class:`emulators.base.EmulatedWearable`) is
a bumble GATT server class with ``run(drop_every_s)``, ``apply(order)`` and
``write_stats()``. This module gives it

- the common options (:func:`add_common_arguments`): ``--hci``, ``--address``, ``--name``,
  ``--seed``, ``--drift-ppm``, ``--jitter-ms``, ``--drop-every-s``, ``--stats``;
- the order loop (:func:`read_orders`): one JSON object a line on stdin, ``ok`` on stdout
  once each is done (:mod:`emulators.base` says when that is for each order), so a test
  waits on the acknowledgement, not on time;
- the process life (:func:`serve`): open the transport, build the device, stop cleanly on
  SIGTERM or SIGINT, and always write the ground truth before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import selectors
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bumble.device import Device
from bumble.hci import Address
from bumble.transport import open_transport


class Emulator(Protocol):
    """An emulated wearable, as :func:`serve` drives it."""

    async def run(self, drop_every_s: float | None) -> None: ...

    def write_stats(self) -> None: ...


def add_common_arguments(parser: argparse.ArgumentParser, default_name: str | None) -> None:
    """The options every emulator takes (a profile adds its own)."""
    parser.add_argument("--hci", required=True, help="bumble transport, e.g. tcp-client:127.0.0.1:PORT")
    parser.add_argument("--address", required=True, help="static random address, e.g. F1:00:00:00:00:01")
    parser.add_argument("--name", default=default_name, help=f"advertised name (default {default_name})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drift-ppm", type=float, default=0.0, help="device clock error, ppm (fast if > 0)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="notification delay spread, ±ms")
    parser.add_argument("--drop-every-s", type=float, default=None, help="drop the connection every N s")
    parser.add_argument("--stats", default=None, help="JSON file for the ground truth and counters")


async def read_orders(apply: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Apply each JSON line of stdin, answering ``ok`` (or ``error: why``); serve on once stdin closes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        try:
            if line.strip():
                await apply(json.loads(line))
        except (ValueError, KeyError, TypeError) as error:  # a bad order must not end the emulation
            print(f"error: {error!r}", flush=True)
        else:
            print("ok", flush=True)
    await asyncio.Event().wait()


MakeEmulator = Callable[[Device, argparse.Namespace], Emulator]


def serve(args: argparse.Namespace, name: str, make: MakeEmulator) -> None:
    """Run the emulator ``make(device, args)`` advertising as ``name`` until SIGTERM or SIGINT."""
    with asyncio.Runner(loop_factory=precise_timer_loop) as runner:
        runner.run(_serve(args, name, make))


def precise_timer_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers fire within tens of µs instead of up to 1 ms late.

    asyncio's default epoll selector rounds every wait up to the next whole ms, so a packet
    scheduled for its sample time went out 0-1 ms late: a delay no wearable adds (it sends at
    the next connection event, which the link's jitter already models), and one that set the
    floor of the collector's timestamp tests. ``select()`` takes µs; an emulator watches a
    handful of descriptors, where its O(n) scan costs nothing.
    """
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


async def _serve(args: argparse.Namespace, name: str, make: MakeEmulator) -> None:
    transport = await open_transport(args.hci)
    device = Device.with_hci(name, Address(args.address), transport.source, transport.sink)
    emulator = make(device, args)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await emulator.run(args.drop_every_s)
    except asyncio.CancelledError:
        pass
    finally:
        emulator.write_stats()  # the ground truth, whatever ended the run
        with contextlib.suppress(Exception):
            await transport.close()
