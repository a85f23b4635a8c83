"""What every emulated wearable shares: its life on the link, its faults, its ground truth file.

A profile's emulator (``emulators/<profile>.py``) subclasses :class:`EmulatedWearable` and
keeps only its protocol: the GATT layout, the encoding of its packets, its commands. The
base gives it

- the link: advertising (:attr:`~EmulatedWearable.ADVERTISED_SERVICES`), connection,
  disconnection (the :meth:`~EmulatedWearable._link_lost` hook stops what the real device
  stops when the link goes), dropping and hiding;
- the control channel's orders (:meth:`~EmulatedWearable.apply`): the profile's own first
  (:meth:`~EmulatedWearable.apply_profile_order`), then the packet faults and link orders
  below, which every emulator obeys the same way; any other order is refused;
- packet faults: the next packets cut short, corrupted (the profile says how:
  :meth:`~EmulatedWearable._cut`, :meth:`~EmulatedWearable._corrupt`) or skipped, and
  the send times of packets: due at their last sample plus jitter, notified in order;
- the stats file: the truth every emulator reports plus the profile's sections, written
  whole (through a temporary file) so a reader never sees half of it.

The common orders, one JSON object a line on stdin (:func:`emulators.harness.read_orders`)::

    {"fault": "drop"}                          drop the connection
    {"fault": "hide", "seconds": 3}            drop and stop advertising for N s
    {"fault": "short", "count": 2}             next N packets cut short
    {"fault": "corrupt", "count": 2}           next N packets corrupted
    {"fault": "seq_jump", "packets": 5}        skip N packets (produced, never sent)
    {"fault": "battery", "percent": 8}         battery low (notified; where there is a battery)
    {"cmd": "calm"}                            cancel the drop schedule
    {"cmd": "pause"}                           stop notifying, write the stats file
    {"cmd": "stats"}                           write the stats file
    {"cmd": "faults_taken"}                    wait until every pending packet fault took its packets

Each order is acknowledged once it is done, so a test waits on the acknowledgement instead
of sleeping: ``drop`` once every packet counted as notified has left for the link (the
collector receives it before the disconnection) and the link is down; ``hide`` and
``power_off`` the same; ``pause`` once nothing more is notified and the stats file counts
everything that was; ``faults_taken`` once the packets the faults were waiting for have been
produced (cut, corrupted or skipped), which needs a streaming link.

A packet fault may name one of the profile's :attr:`~EmulatedWearable.PACKET_STREAMS` as
``"stream"``; without one it takes the next packets of any stream (the profile may choose
another default, :attr:`~EmulatedWearable.DEFAULT_FAULT_STREAM`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bumble.core import AdvertisingData, ProtocolError
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue

from emulators.harness import read_orders
from monitor.types import NS_PER_S

ADVERTISING_INTERVAL_MS = 50.0  # found within a scan of a second or two, even by a busy gateway
BATTERY_PERCENT_AT_START = 90
ANY_STREAM = "any"  # a packet fault for whichever stream produces next


async def sleep_until_ns(utc_ns: int) -> None:
    """Sleep until UTC ``utc_ns`` (return at once if it has passed)."""
    await asyncio.sleep(max(0.0, (utc_ns - time.time_ns()) / NS_PER_S))


@dataclass
class FaultCounts:
    """Packets produced, and what the faults made of them."""

    produced_packets: int = 0
    malformed_sent: int = 0
    skipped_packets: int = 0


@dataclass
class NotifiedCounts:
    """Valid packets notified, and the device sample counters they cover."""

    notified_packets: int = 0
    notified_samples: int = 0
    first_counter: int | None = None  # counter of the first sample of the first notified packet
    end_counter: int | None = None  # counter after the last notified valid packet

    def count(self, counter: int, n: int) -> None:
        """Count a valid packet of ``n`` samples from ``counter`` on, as notified."""
        self.notified_packets += 1
        self.notified_samples += n
        if self.first_counter is None:
            self.first_counter = counter
        self.end_counter = counter + n


@dataclass
class StreamStats(NotifiedCounts, FaultCounts):
    """Ground truth of one stream, as notified (valid packets only)."""

    rate_hz: float = 0.0


@dataclass
class Outgoing:
    """A packet on its way: notified at ``send_ns`` (UTC) if the link still takes it then."""

    send_ns: int
    characteristic: Characteristic[bytes]
    payload: bytes
    counter: int = 0  # device sample counter of its first sample
    n: int = 0  # samples it carries
    notified: NotifiedCounts | None = None  # where it counts once notified valid; None: no samples
    counts: FaultCounts | None = None  # where it counts once notified malformed
    valid: bool = True
    boot: int = 0  # which boot of the device produced it: a restart discards what an earlier one queued


class PacketFaults:
    """Packet faults waiting for the next packets: cut short, corrupted or skipped.

    Each waits for one stream's next packets, or for whichever stream's come next
    (``"any"``).

    Parameters
    ----------
    streams : sequence of str
        The stream names a fault may target.
    """

    KINDS = ("short", "corrupt", "skip")

    def __init__(self, streams: Sequence[str]) -> None:
        self.targets = (ANY_STREAM, *streams)
        self._pending = {kind: dict.fromkeys(self.targets, 0) for kind in self.KINDS}
        self._none_pending = asyncio.Event()
        self._none_pending.set()

    def add(self, kind: str, target: str, count: int) -> None:
        """Make the next ``count`` packets of ``target`` suffer fault ``kind``."""
        if target not in self.targets:
            raise ValueError(f"a {kind} fault's stream must be one of {list(self.targets)}, not {target!r}")
        self._pending[kind][target] += count
        if count > 0:
            self._none_pending.clear()

    def take(self, kind: str, stream: str) -> bool:
        """Whether a packet of ``stream`` suffers fault ``kind``, using up one pending."""
        pending = self._pending[kind]
        for key in (stream, ANY_STREAM):
            if pending.get(key, 0) > 0:
                pending[key] -= 1
                if not any(any(counts.values()) for counts in self._pending.values()):
                    self._none_pending.set()
                return True
        return False

    async def all_taken(self) -> None:
        """Return once no fault waits for a packet any more."""
        await self._none_pending.wait()


class EmulatedWearable(ABC):
    """One emulated wearable on a bumble host: the link, the orders, the faults, the stats.

    Parameters
    ----------
    device : bumble.device.Device
        The host it serves on; the subclass adds its GATT services.
    args : argparse.Namespace
        The options of :func:`emulators.harness.add_common_arguments` (and the profile's).
    name : str or None
        Advertised name; None: ``args.name``.
    """

    # (AD type, UUID bytes) of the service list it advertises.
    ADVERTISED_SERVICES: ClassVar[tuple[int, bytes]]
    # The order that skips packets, and its count's key: ("seq_jump", "packets") where
    # packets carry a sequence number.
    SKIP_ORDER: ClassVar[tuple[str, str]] = ("seq_jump", "packets")
    PACKET_STREAMS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_FAULT_STREAM: ClassVar[str] = ANY_STREAM

    def __init__(self, device: Device, args: argparse.Namespace, name: str | None = None) -> None:
        self.device = device
        self.name: str = args.name if name is None else name
        self.drift_ppm: float = args.drift_ppm
        self.jitter_ms: float = args.jitter_ms
        self.rng = random.Random(args.seed)
        self.stats_path = Path(args.stats) if args.stats else None
        self.connection: Connection | None = None
        self.subscribed: set[str] = set()  # UUIDs of the characteristics the central listens to
        self.hidden_until_ns = 0
        self.paused = False
        self.battery: Characteristic[bytes] | None = None
        self.battery_percent = BATTERY_PERCENT_AT_START
        self.faults = PacketFaults(self.PACKET_STREAMS)
        self._tasks: set[asyncio.Future[None]] = set()
        self._schedule: asyncio.Task[None] | None = None
        device.on("connection", self._on_connection)

    # -- what a profile provides -----------------------------------------------------------

    @abstractmethod
    def _loops(self) -> list[Coroutine[Any, Any, None]]:
        """The profile's producing and sending loops, run from advertising until the end."""
        raise NotImplementedError

    @abstractmethod
    def ground_truth(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The profile's ``truth`` fields, and its other sections of the stats file."""
        raise NotImplementedError

    @abstractmethod
    def _corrupt(self, payload: bytes) -> bytes:
        """``payload`` made invalid in the profile's way (its decoder must refuse it)."""
        raise NotImplementedError

    def _cut(self, payload: bytes) -> bytes:
        """``payload`` cut short; by default to its first half."""
        return payload[: len(payload) // 2]

    def _on_air(self) -> None:  # noqa: B027 (an optional hook: most profiles need nothing)
        """Hook: advertising has started, the device clock starts now."""

    def _link_lost(self) -> None:  # noqa: B027 (an optional hook)
        """Hook: the link is gone (or the device went out of reach); stop what the device stops."""

    def _back_in_reach(self) -> None:  # noqa: B027 (an optional hook)
        """Hook: about to advertise again after a disconnection or a hiding."""

    async def apply_profile_order(self, order: dict[str, Any]) -> bool:
        """Apply ``order`` if it is one of the profile's own; False if it is not."""
        return False

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, drop_every_s: float | None) -> None:
        """Advertise, then run the profile's loops and obey orders until cancelled."""
        await self.device.power_on()
        await self._advertise()
        self._on_air()
        tasks = [asyncio.create_task(loop) for loop in self._loops()]
        tasks.append(asyncio.create_task(read_orders(self.apply)))
        if drop_every_s:
            self._schedule = asyncio.create_task(self._drop_schedule(drop_every_s))  # cancellable: "calm"
        print("ready", flush=True)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *([self._schedule] if self._schedule else []), *self._tasks]:
                task.cancel()

    def write_stats(self) -> None:
        """Write the stats file (if one was asked for): the ground truth and the counters."""
        if self.stats_path is None:
            return
        truth, sections = self.ground_truth()
        common = {"drift_ppm": self.drift_ppm, "address": str(self.device.random_address)}
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"truth": common | truth, **sections}))
        tmp.replace(self.stats_path)

    # -- orders ----------------------------------------------------------------------------

    async def apply(self, order: dict[str, Any]) -> None:
        """Apply one order of the control channel; ValueError (refused) if it is unknown."""
        if await self.apply_profile_order(order):
            return
        fault, cmd = order.get("fault"), order.get("cmd")
        skip_fault, skip_count_key = self.SKIP_ORDER
        if fault in ("short", "corrupt"):
            self.faults.add(str(fault), self._fault_stream(order), int(order.get("count", 1)))
        elif fault == skip_fault:
            self.faults.add("skip", self._fault_stream(order), int(order.get(skip_count_key, 1)))
        elif fault == "drop":
            await self.drop()
        elif fault == "hide":
            await self.hide(float(order["seconds"]))
        elif fault == "battery" and self.battery is not None:
            self.battery_percent = int(order["percent"])
            if self.connection is not None:
                await self.device.notify_subscribers(self.battery, bytes([self.battery_percent]))
        elif cmd == "calm":
            if self._schedule is not None:
                self._schedule.cancel()
        elif cmd == "pause":
            # From now on nothing is notified; what was (counted as it left) still reaches the
            # collector, over a link that stays up.
            self.paused = True
            self.write_stats()
        elif cmd == "stats":
            self.write_stats()
        elif cmd == "faults_taken":
            await self.faults.all_taken()
        else:
            raise ValueError(f"{self.name} knows no order {order}")

    def _fault_stream(self, order: dict[str, Any]) -> str:
        return str(order.get("stream", self.DEFAULT_FAULT_STREAM))

    async def drop(self) -> None:
        """Drop the link, if any (the device advertises again at once).

        Nothing is notified once the drop is decided, and the disconnection waits for the
        packets already handed to the host to leave for the controller: the virtual link
        keeps their order, so each packet counted as notified reaches the collector before
        the link goes. (A disconnection sent past them would overtake packets still queued
        for the controller's buffers, and the ground truth would count packets never sent.)
        """
        connection = self.connection
        if connection is None:
            return
        self._link_down()
        queue = self.device.host.get_data_packet_queue(connection.handle)
        if queue is not None:
            with contextlib.suppress(ValueError):  # nothing was ever sent on this link
                await queue.drain(connection.handle)
        with contextlib.suppress(ProtocolError):  # the central was quicker
            await connection.disconnect()

    async def hide(self, seconds: float) -> None:
        """Go out of the gateway's reach for ``seconds``: stop advertising, drop the link."""
        self.hidden_until_ns = time.time_ns() + round(seconds * NS_PER_S)
        if self.device.is_advertising:
            await self.device.stop_advertising()
            self._background(self._back_on_air())
        await self.drop()

    async def _drop_schedule(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.drop()

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- packets ---------------------------------------------------------------------------

    def _produced(
        self,
        outbox: asyncio.Queue[Outgoing],
        packet: Outgoing,
        stream: str,
        counts: FaultCounts,
        sendable: bool,
    ) -> None:
        """Count a packet produced; if the link takes it, queue it as a pending fault leaves it.

        A skip takes it (never sent); otherwise it is due at ``packet.send_ns`` plus a delay
        of 0..2·``jitter_ms``, cut short or corrupted if such a fault waits.
        """
        counts.produced_packets += 1
        if not sendable:
            return
        if self.faults.take("skip", stream):
            counts.skipped_packets += 1
            return
        packet.send_ns += round(self.rng.uniform(0.0, 2.0 * self.jitter_ms) * 1e6)
        packet.payload, packet.valid = self._malformed(packet.payload, stream)
        packet.counts = counts
        outbox.put_nowait(packet)

    def _malformed(self, payload: bytes, stream: str) -> tuple[bytes, bool]:
        """The payload, or its injected malformation; and whether it is still valid."""
        if self.faults.take("short", stream):
            return self._cut(payload), False
        if self.faults.take("corrupt", stream):
            return self._corrupt(payload), False
        return payload, True

    async def _notify_in_order(
        self, outbox: asyncio.Queue[Outgoing], sendable: Callable[[Outgoing], bool]
    ) -> None:
        """Notify queued packets in order, each at its own time, if ``sendable`` then.

        A packet is handed to the host on the link checked just before, without yielding
        to the event loop in between: it is counted as notified only if it left while the
        link stood. (``notify_subscribers`` sends from a task of its own, and a packet
        whose link went meanwhile was skipped silently, yet counted.)
        """
        while True:
            out = await outbox.get()
            await sleep_until_ns(out.send_ns)
            connection = self.connection
            if connection is None or not sendable(out):
                continue
            try:
                await self.device.notify_subscriber(connection, out.characteristic, out.payload)
            except Exception:  # the link dropped under the notification: the packet is lost
                continue
            self._notified(out)

    def _notified(self, out: Outgoing) -> None:
        """Count a packet as notified."""
        if not out.valid:
            if out.counts is not None:
                out.counts.malformed_sent += 1
        elif out.notified is not None:
            out.notified.count(out.counter, out.n)

    def _link_takes(self, characteristic: Characteristic[bytes]) -> bool:
        """Whether a notification of ``characteristic`` can go out now."""
        return self.connection is not None and not self.paused and str(characteristic.uuid) in self.subscribed

    # -- GATT ------------------------------------------------------------------------------

    def _track_subscriptions(self, *characteristics: Characteristic[bytes]) -> None:
        """Keep :attr:`subscribed` as the central enables and disables notifications."""
        for characteristic in characteristics:
            uuid = str(characteristic.uuid)

            def on_subscription(
                _bearer: object, notify_enabled: bool, _indicate: bool, uuid: str = uuid
            ) -> None:
                (self.subscribed.add if notify_enabled else self.subscribed.discard)(uuid)

            characteristic.on("subscription", on_subscription)

    def _battery_characteristic(self, uuid: Any) -> Characteristic[bytes]:
        """The battery level characteristic (readable, notified on a ``battery`` fault)."""
        self.battery = Characteristic(
            uuid,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda _connection: bytes([self.battery_percent])),
        )
        return self.battery

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        connection.on("disconnection", lambda _reason: self._on_disconnection(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        if self.connection is connection:  # not dropped by the device itself (drop() did this)
            self._link_down()
        self._background(self._back_on_air())

    def _link_down(self) -> None:
        """The link is gone, at once: no packet is notified on it any more."""
        self.connection = None
        self.subscribed.clear()
        self._link_lost()

    async def _back_on_air(self) -> None:
        await sleep_until_ns(self.hidden_until_ns)
        self._back_in_reach()
        await self._advertise()

    async def _advertise(self) -> None:
        if self.connection is None and not self.device.is_advertising:
            services_type, services = self.ADVERTISED_SERVICES
            data = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, BR/EDR not supported
                    (services_type, services),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                ]
            )
            await self.device.start_advertising(
                advertising_data=bytes(data),
                advertising_interval_min=ADVERTISING_INTERVAL_MS,
                advertising_interval_max=ADVERTISING_INTERVAL_MS,
            )
