"""Emulated reference wearable: a bumble GATT server streaming synthetic EMG and IMU.

It runs as its own process on a virtual controller of the hub
(``devices.emulation.hub``), streams at real rate with a drifting device clock and
arrival jitter, and keeps the ground truth needed to check a collector: which samples
it notified, the true UTC of sample 0 and the drift.

Faults come from the command line (schedules) or as JSON lines on stdin::

    {"fault": "drop"}                          drop the connection
    {"fault": "hide", "seconds": 3}            drop and stop advertising for N s
    {"fault": "short", "count": 2}             next N packets truncated (sample bytes cut)
    {"fault": "corrupt", "count": 2}           next N packets with a bad version byte
    {"fault": "seq_jump", "packets": 5}        skip N packets (produced, never sent)
    {"fault": "battery", "percent": 8}         battery low (notified)
    {"cmd": "calm"}                            cancel the fault schedules
    {"cmd": "pause"}                           stop notifying, write the stats file
    {"cmd": "stats"}                           write the stats file

Run: ``python -m devices.reference.emulator --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --name SMREF-01 --stats /tmp/s.json``. It prints ``ready`` on stdout once
advertising, and writes the stats file on SIGTERM before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.transport import open_transport

from devices.reference.profile import (
    BATTERY_UUID,
    CONTROL_UUID,
    EMG_UUID,
    IMU_UUID,
    INFO_UUID,
    RATE_CODE,
    SERVICE_UUID,
    STREAM_MASK_EMG,
    STREAM_MASK_IMU,
    Command,
    DeviceInfo,
    StreamType,
    encode_packet,
    max_samples_per_packet,
)
from devices.reference.signals import synthetic_signals
from monitor.types import NS_PER_S

EMG_SAMPLES_PER_PACKET = 25  # 40 notifications/s at 1 kHz, 212 bytes (docs/protocol.md §7)
IMU_SAMPLES_PER_PACKET = 10  # 10 notifications/s at 100 Hz, 132 bytes
EMG_SCALE_CODE = 0  # 0.5 µV/LSB, ±16.4 mV
IMU_SCALE_CODE = 3  # ±16 g, ±2000 deg/s: the synthetic motion reaches 9 g and 600 deg/s
SIGNAL_LOOP_S = 60.0  # synthetic physiology is generated once and replayed in a loop
FIRMWARE = (0, 1, 0)


@dataclass
class StreamStats:
    """Ground truth of one stream, as notified (valid packets only)."""

    produced_packets: int = 0
    notified_packets: int = 0
    notified_samples: int = 0
    first_counter: int | None = None
    end_counter: int | None = None  # counter after the last notified valid packet
    malformed_sent: int = 0
    skipped_packets: int = 0


@dataclass
class _Stream:
    kind: StreamType
    mask: int
    rate_hz: float
    samples_per_packet: int
    raw: npt.NDArray[np.int16]
    characteristic: Characteristic[bytes]
    seq: int = 0
    counter: int = 0
    stats: StreamStats = field(default_factory=StreamStats)
    outbox: asyncio.Queue[tuple[int, bytes, bool, int, int]] = field(default_factory=asyncio.Queue)


class ReferenceWearable:
    """One emulated wearable on a bumble host; see the module docstring for faults."""

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        self.device = device
        self.name: str = args.name
        self.drift_ppm: float = args.drift_ppm
        self.jitter_ms: float = args.jitter_ms
        self.rng = random.Random(args.seed)
        self.stats_path = Path(args.stats) if args.stats else None
        self.connection: Connection | None = None
        self.started_mask = 0
        self.subscribed: set[StreamType] = set()
        self.hidden_until_ns = 0
        self.paused = False
        self.pending: dict[str, int] = {"short": 0, "corrupt": 0, "seq_jump": 0}
        self.battery_percent = 90
        self._tasks: set[asyncio.Future[None]] = set()
        self._schedule: asyncio.Task[None] | None = None
        self.t0_ns = 0  # true UTC of sample 0 of every stream
        emg, imu = synthetic_signals(
            args.seed,
            args.emg_channels,
            EMG_SCALE_CODE,
            IMU_SCALE_CODE,
            SIGNAL_LOOP_S,
            segment=args.segment,
            motion_seed=args.motion_seed,
        )
        self.info = DeviceInfo(
            FIRMWARE, args.emg_channels, RATE_CODE[1000.0], EMG_SCALE_CODE, RATE_CODE[100.0], IMU_SCALE_CODE
        )
        self.battery: Characteristic[bytes] = Characteristic(
            BATTERY_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=self._read_battery),
        )
        notify = Characteristic.Properties.NOTIFY
        self.streams = [
            _Stream(
                StreamType.EMG,
                STREAM_MASK_EMG,
                1000.0,
                EMG_SAMPLES_PER_PACKET,
                emg,
                Characteristic(EMG_UUID, notify, Characteristic.READABLE, b""),
            ),
            _Stream(
                StreamType.IMU,
                STREAM_MASK_IMU,
                100.0,
                IMU_SAMPLES_PER_PACKET,
                imu,
                Characteristic(IMU_UUID, notify, Characteristic.READABLE, b""),
            ),
        ]
        for stream in self.streams:
            stream.characteristic.on("subscription", self._subscription_handler(stream.kind))
        control: Characteristic[bytes] = Characteristic(
            CONTROL_UUID,
            Characteristic.Properties.WRITE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_control),
        )
        info = Characteristic(
            INFO_UUID, Characteristic.Properties.READ, Characteristic.READABLE, self.info.to_bytes()
        )
        device.add_service(
            Service(
                SERVICE_UUID,
                [self.streams[0].characteristic, self.streams[1].characteristic, control, info, self.battery],
            )
        )
        device.on("connection", self._on_connection)

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, drop_every_s: float | None) -> None:
        """Advertise, then stream both channels until cancelled."""
        await self.device.power_on()
        await self._advertise()
        self.t0_ns = time.time_ns()
        tasks = [asyncio.create_task(self._produce(s)) for s in self.streams]
        tasks += [asyncio.create_task(self._send(s)) for s in self.streams]
        tasks.append(asyncio.create_task(self._read_commands()))
        if drop_every_s:
            self._schedule = asyncio.create_task(self._drop_schedule(drop_every_s))  # cancellable: "calm"
        print("ready", flush=True)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *([self._schedule] if self._schedule else [])]:
                task.cancel()

    def write_stats(self) -> None:
        if self.stats_path is None:
            return
        truth = {"t0_ns": self.t0_ns, "drift_ppm": self.drift_ppm, "address": str(self.device.random_address)}
        streams = {s.kind.name: asdict(s.stats) | {"rate_hz": s.rate_hz} for s in self.streams}
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"truth": truth, "streams": streams}))
        tmp.replace(self.stats_path)

    # -- streaming -------------------------------------------------------------------------

    def _true_time_ns(self, stream: _Stream, counter: int) -> int:
        """True UTC of sample ``counter``: the device crystal runs ``drift_ppm`` fast."""
        return self.t0_ns + round(counter * NS_PER_S / (stream.rate_hz * (1 + self.drift_ppm * 1e-6)))

    async def _produce(self, stream: _Stream) -> None:
        while True:
            n = stream.samples_per_packet
            last_ns = self._true_time_ns(stream, stream.counter + n - 1)
            await asyncio.sleep(max(0.0, (last_ns - time.time_ns()) / NS_PER_S))
            index = np.arange(stream.counter, stream.counter + n) % stream.raw.shape[0]
            payload = encode_packet(
                stream.kind,
                stream.seq,
                stream.counter,
                stream.raw[index],
                RATE_CODE[stream.rate_hz],
                EMG_SCALE_CODE if stream.kind is StreamType.EMG else IMU_SCALE_CODE,
            )
            stream.stats.produced_packets += 1
            if self._can_send(stream):
                if self.pending["seq_jump"] > 0:
                    self.pending["seq_jump"] -= 1
                    stream.stats.skipped_packets += 1
                else:
                    jitter_ns = round(self.rng.uniform(0.0, 2.0 * self.jitter_ms) * 1e6)
                    wire, valid = self._maybe_malform(payload)
                    stream.outbox.put_nowait((last_ns + jitter_ns, wire, valid, stream.counter, n))
            stream.seq += 1
            stream.counter += n

    def _maybe_malform(self, payload: bytes) -> tuple[bytes, bool]:
        """The payload, or its injected malformation; and whether it is still valid."""
        if self.pending["short"] > 0:
            self.pending["short"] -= 1
            return payload[: len(payload) // 2], False
        if self.pending["corrupt"] > 0:
            self.pending["corrupt"] -= 1
            return b"\x7f" + payload[1:], False
        return payload, True

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _can_send(self, stream: _Stream) -> bool:
        return (
            self.connection is not None
            and not self.paused
            and bool(self.started_mask & stream.mask)
            and stream.kind in self.subscribed
        )

    async def _send(self, stream: _Stream) -> None:
        """Notify in order, each packet at its own jittered time (never before its last sample)."""
        while True:
            send_ns, payload, valid, counter, n = await stream.outbox.get()
            await asyncio.sleep(max(0.0, (send_ns - time.time_ns()) / NS_PER_S))
            if not self._can_send(stream):
                continue
            try:
                await self.device.notify_subscribers(stream.characteristic, payload)
            except Exception:  # the link dropped under the notification: the packet is lost
                continue
            if not valid:
                stream.stats.malformed_sent += 1
                continue
            stats = stream.stats
            stats.notified_packets += 1
            stats.notified_samples += n
            if stats.first_counter is None:
                stats.first_counter = counter
            stats.end_counter = counter + n

    # -- GATT handlers ---------------------------------------------------------------------

    def _subscription_handler(self, kind: StreamType) -> Any:
        def on_subscription(_bearer: object, notify_enabled: bool, _indicate: bool) -> None:
            (self.subscribed.add if notify_enabled else self.subscribed.discard)(kind)

        return on_subscription

    def _on_control(self, _connection: Connection, value: bytes) -> None:
        if not value:
            return
        opcode = value[0]
        if opcode == Command.START and len(value) == 2:
            self.started_mask |= value[1]
        elif opcode == Command.STOP and len(value) == 2:
            self.started_mask &= ~value[1]
        elif opcode == Command.SET_MAX_PAYLOAD and len(value) == 3:
            max_payload = int.from_bytes(value[1:3], "little")
            for stream in self.streams:
                default = EMG_SAMPLES_PER_PACKET if stream.kind is StreamType.EMG else IMU_SAMPLES_PER_PACKET
                fits = max_samples_per_packet(max_payload, stream.raw.shape[1])
                stream.samples_per_packet = max(1, min(default, fits))

    def _read_battery(self, _connection: Connection) -> bytes:
        return bytes([self.battery_percent])

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        connection.on("disconnection", lambda _reason: self._background(self._on_disconnection()))

    async def _on_disconnection(self) -> None:
        self.connection = None
        self.started_mask = 0
        self.subscribed.clear()
        delay_s = max(0.0, (self.hidden_until_ns - time.time_ns()) / NS_PER_S)
        await asyncio.sleep(delay_s)
        await self._advertise()

    async def _advertise(self) -> None:
        if self.connection is None and not self.device.is_advertising:
            data = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, BR/EDR not supported
                    (
                        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                        UUID(SERVICE_UUID).to_bytes(),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                ]
            )
            await self.device.start_advertising(
                advertising_data=bytes(data), advertising_interval_min=50, advertising_interval_max=50
            )

    # -- faults ----------------------------------------------------------------------------

    async def _drop_schedule(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.apply({"fault": "drop"})

    async def apply(self, order: dict[str, Any]) -> None:
        """Apply one fault or command (see the module docstring)."""
        fault, cmd = order.get("fault"), order.get("cmd")
        if fault in ("drop", "hide"):
            if fault == "hide":
                self.hidden_until_ns = time.time_ns() + round(float(order["seconds"]) * NS_PER_S)
                if self.device.is_advertising:
                    await self.device.stop_advertising()
                    self._background(self._on_disconnection())
            if self.connection is not None:
                await self.connection.disconnect()
        elif fault in ("short", "corrupt"):
            self.pending[fault] += int(order.get("count", 1))
        elif fault == "seq_jump":
            self.pending["seq_jump"] += int(order.get("packets", 1))
        elif fault == "battery":
            self.battery_percent = int(order["percent"])
            if self.connection is not None:
                await self.device.notify_subscribers(self.battery, bytes([self.battery_percent]))
        elif cmd == "calm" and self._schedule is not None:
            self._schedule.cancel()
        elif cmd == "pause":
            self.paused = True
            await asyncio.sleep(0.05)  # let packets already in the air arrive before the books close
            self.write_stats()
        elif cmd == "stats":
            self.write_stats()

    async def _read_commands(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            if line.strip():
                await self.apply(json.loads(line))
            print("ok", flush=True)
        await asyncio.Event().wait()  # stdin closed: keep streaming


async def _main(args: argparse.Namespace) -> None:
    transport = await open_transport(args.hci)
    device = Device.with_hci(args.name, Address(args.address), transport.source, transport.sink)
    wearable = ReferenceWearable(device, args)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await wearable.run(args.drop_every_s)
    except asyncio.CancelledError:
        pass
    finally:
        wearable.write_stats()
        await transport.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Emulated reference wearable (bumble GATT server)")
    parser.add_argument("--hci", required=True, help="bumble transport, e.g. tcp-client:127.0.0.1:PORT")
    parser.add_argument("--address", required=True, help="static random address, e.g. F1:00:00:00:00:01")
    parser.add_argument("--name", default="SMREF-01", help="advertised local name (≤ 8 characters)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--emg-channels", type=int, default=4)
    parser.add_argument(
        "--segment", choices=("proximal", "distal"), default="distal", help="limb segment of the IMU"
    )
    parser.add_argument("--motion-seed", type=int, default=None, help="shared by the IMUs of one joint")
    parser.add_argument("--drift-ppm", type=float, default=0.0, help="device clock error, ppm (fast if > 0)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="notification delay spread, ±ms")
    parser.add_argument("--drop-every-s", type=float, default=None, help="drop the connection every N s")
    parser.add_argument("--stats", default=None, help="JSON file for the ground truth and counters")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
