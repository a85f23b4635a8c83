"""Emulated reference wearable: a bumble GATT server streaming synthetic EMG and IMU.

It runs as its own process on a virtual controller of the hub
(:mod:`emulators.hub`), streams at real rate with a drifting device clock and
arrival jitter, and keeps the ground truth needed to check a collector: which samples
it notified, the true UTC of sample 0 and the drift.

Delays. The hub's virtual link delivers every PDU at once, so delays are modelled here.
``--jitter-ms J`` delays every notification by 0..2·J ms (uniform) after its last sample:
the firmware's batching and the radio's queue. A read of the clock characteristic
(docs/protocol.md §6.2) latches the device time when the request arrives and answers at
once, as a BLE stack's ATT server does; request and response then see the link's own
delays (two TCP HCI hops through the hub and two busy event loops, 0.3-3 ms each way),
asymmetric and load-dependent like a radio's, but without connection events: on air a read
takes one or two connection intervals (7.5 ms or more). ``--read-jitter-ms R`` holds each
response 0..2·R ms more, to see how the synchronisation copes with slow responses.

MTU. ``SET_MAX_PAYLOAD`` shrinks packets to fit and, where that would send too many
notifications, lowers the rate; below one 6-axis IMU sample it splits the IMU stream into
ACC and GYR packets (docs/protocol.md §7).

Faults come from the command line (schedules) or as JSON lines on stdin: those of
:mod:`emulators.base` (a ``short`` packet has its sample bytes cut, a ``corrupt`` one a bad
version byte; a packet fault may name ``"stream": "emg"`` or ``"imu"``), and::

    {"fault": "reboot"}                        restart: the link drops, counters and seqs
                                               start again at 0, a new boot identifier (§4)
    {"fault": "reboot", "away_s": 5}           ... then out of the gateway's reach for 5 s

``{"order": "tardieu", ...}`` plays a simulated spastic limb for the guided Tardieu test,
held still or stretched slowly or fast (:mod:`emulators.limb`): ``--segment`` says which of
its IMUs the wearable is, EMG channel 0 is the stretched muscle, and the stretches' truth
(R1, R2, V3) is the stats file's ``tardieu`` section.

Run: ``python -m emulators.reference --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --name SMREF-01 --stats /tmp/s.json``. It prints ``ready`` on stdout once
advertising, and writes the stats file on SIGTERM before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from devices.reference.protocol import (
    BATTERY_UUID,
    CLOCK_UUID,
    CONTROL_UUID,
    EMG_MAX_NOTIFICATIONS_PER_S,
    EMG_UUID,
    IMU_MAX_NOTIFICATIONS_PER_S,
    IMU_UUID,
    INFO_UUID,
    NS_PER_US,
    RATE_CODE,
    SERVICE_UUID,
    STREAM_MASK_EMG,
    STREAM_MASK_IMU,
    Command,
    DeviceInfo,
    StreamType,
    encode_device_clock,
    encode_packet,
    fallback_rate_hz,
    lsb_per_channel,
    max_samples_per_packet,
)
from emulators.base import EmulatedWearable, Outgoing, StreamStats, sleep_until_ns
from emulators.harness import add_common_arguments, serve
from emulators.limb import LimbPlayer, play_order
from emulators.reference_signals import synthetic_signals
from monitor.types import NS_PER_S

EMG_SAMPLES_PER_PACKET = 25  # 40 notifications/s at 1 kHz, 212 bytes (docs/protocol.md §7)
IMU_SAMPLES_PER_PACKET = 10  # 10 notifications/s at 100 Hz, 132 bytes
EMG_SCALE_CODE = 0  # 0.5 µV/LSB, ±16.4 mV
IMU_SCALE_CODE = 3  # ±16 g, ±2000 deg/s: the synthetic motion reaches 9 g and 600 deg/s
SIGNAL_LOOP_S = 60.0  # synthetic physiology is generated once and replayed in a loop
FIRMWARE = (0, 1, 0)
IMU_AXES = 3  # an ACC or GYR packet of the MTU fallback carries x, y, z
BAD_VERSION = b"\x7f"  # a "corrupt" packet's first byte: no protocol version (docs/protocol.md §2)


@dataclass
class _Stream:
    """One sensor (EMG or IMU): its sample counter, and a seq per wire stream type it sends."""

    kind: StreamType
    mask: int
    default_rate_hz: float
    default_samples_per_packet: int
    raw: npt.NDArray[np.int16]
    characteristic: Characteristic[bytes]
    rate_hz: float = 0.0
    samples_per_packet: int = 0
    split: bool = False  # IMU sent as ACC and GYR packets (MTU fallback, docs/protocol.md §7)
    counter: int = 0
    epoch: int = 0  # +1 at every rate change: a packet being waited for is re-planned
    seqs: dict[StreamType, int] = field(default_factory=dict)
    outbox: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        self.rate_hz = self.default_rate_hz
        self.samples_per_packet = self.default_samples_per_packet

    @property
    def name(self) -> str:
        """The sensor's name in fault orders: "emg" or "imu"."""
        return self.kind.name.lower()

    def wire_blocks(self) -> list[tuple[StreamType, slice]]:
        """Wire stream types this sensor sends now, with their columns of ``raw``."""
        if self.split:
            return [(StreamType.ACC, slice(0, IMU_AXES)), (StreamType.GYR, slice(IMU_AXES, 2 * IMU_AXES))]
        return [(self.kind, slice(None))]

    def set_rate(self, rate_hz: float) -> None:
        """Change the rate; the counter jumps so that counter / rate stays device time (§2.2)."""
        if rate_hz != self.rate_hz:
            # Next sample at the new rate: the first whose device time is not before the old next one.
            self.counter = -(-self.counter * round(rate_hz) // round(self.rate_hz))
            self.rate_hz = rate_hz
            self.epoch += 1


class ReferenceWearable(EmulatedWearable):
    """One emulated wearable on a bumble host; see the module docstring for faults."""

    ADVERTISED_SERVICES = (
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        UUID(SERVICE_UUID).to_bytes(),
    )
    PACKET_STREAMS = ("emg", "imu")

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        super().__init__(device, args)
        self.read_jitter_ms: float = args.read_jitter_ms
        self.read_rng = random.Random(args.seed + 1)  # reads do not shift the notifications' jitter
        self.started_mask = 0
        self.t0_ns = 0  # true UTC of sample 0 of every stream (of this boot)
        self.boots = 1
        self.boot_rng = random.Random(args.seed + 2)
        self.boot_id = self._draw_boot_id()
        emg, imu = synthetic_signals(
            args.seed,
            args.emg_channels,
            EMG_SCALE_CODE,
            IMU_SCALE_CODE,
            SIGNAL_LOOP_S,
            segment=args.segment,
            motion_seed=args.motion_seed,
        )
        self.emg_channels: int = args.emg_channels
        self.segment: str = args.segment
        self.limb: LimbPlayer | None = None  # the simulated limb, once a "tardieu" order came
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
        self._track_subscriptions(*(stream.characteristic for stream in self.streams))
        control: Characteristic[bytes] = Characteristic(
            CONTROL_UUID,
            Characteristic.Properties.WRITE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_control),
        )
        info: Characteristic[bytes] = Characteristic(
            INFO_UUID,
            Characteristic.Properties.READ,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda _connection: self.info.to_bytes()),
        )
        characteristics = [self.streams[0].characteristic, self.streams[1].characteristic, control, info]
        characteristics.append(self._battery_characteristic(BATTERY_UUID))
        if not args.no_clock:  # without it: firmware older than the clock read (docs/protocol.md §6.2)
            clock: Characteristic[bytes] = Characteristic(
                CLOCK_UUID,
                Characteristic.Properties.READ,
                Characteristic.READABLE,
                CharacteristicValue(read=self._read_clock),
            )
            characteristics.append(clock)
        device.add_service(Service(SERVICE_UUID, characteristics))
        self.stats: dict[StreamType, StreamStats] = {
            s.kind: StreamStats(rate_hz=s.rate_hz) for s in self.streams
        }

    # -- the base's hooks ------------------------------------------------------------------

    def _loops(self) -> list[Coroutine[Any, Any, None]]:
        producers = [self._produce(stream) for stream in self.streams]
        senders = [
            self._notify_in_order(stream.outbox, functools.partial(self._sendable, stream))
            for stream in self.streams
        ]
        return [*producers, *senders]

    def _on_air(self) -> None:
        self.t0_ns = time.time_ns()

    def ground_truth(self) -> tuple[dict[str, Any], dict[str, Any]]:
        streams = {kind.name: asdict(stats) for kind, stats in self.stats.items()}
        sections: dict[str, Any] = {"streams": streams}
        if self.limb is not None:
            sections["tardieu"] = self.limb.truth()
        return {"t0_ns": self.t0_ns, "boots": self.boots}, sections

    def _corrupt(self, payload: bytes) -> bytes:
        return BAD_VERSION + payload[1:]

    def _link_lost(self) -> None:
        self.started_mask = 0

    async def apply_profile_order(self, order: dict[str, Any]) -> bool:
        if order.get("order") == "tardieu":
            imu_lsb = lsb_per_channel(StreamType.IMU, 6, IMU_SCALE_CODE)
            emg_lsb = lsb_per_channel(StreamType.EMG, self.emg_channels, EMG_SCALE_CODE)
            self.limb = await play_order(order, self.limb, self.segment, imu_lsb, emg_lsb)
            return True
        if order.get("fault") != "reboot":
            return False
        await self.reboot(float(order.get("away_s", 0.0)))
        return True

    # -- streaming -------------------------------------------------------------------------

    def _true_time_ns(self, stream: _Stream, counter: int) -> int:
        """True UTC of sample ``counter``: the device crystal runs ``drift_ppm`` fast."""
        return self.t0_ns + round(counter * NS_PER_S / (stream.rate_hz * (1 + self.drift_ppm * 1e-6)))

    @property
    def info(self) -> DeviceInfo:
        """Device information as configured now (rates follow SET_MAX_PAYLOAD)."""
        emg, imu = self.streams
        rates = RATE_CODE[emg.rate_hz], RATE_CODE[imu.rate_hz]
        return DeviceInfo(
            FIRMWARE,
            self.emg_channels,
            rates[0],
            EMG_SCALE_CODE,
            rates[1],
            IMU_SCALE_CODE,
            boot_id=self.boot_id,
        )

    def _device_time_ns(self, utc_ns: int) -> int:
        """The device clock at true UTC ``utc_ns``: sample time base, ``drift_ppm`` fast."""
        return round((utc_ns - self.t0_ns) * (1 + self.drift_ppm * 1e-6))

    async def _produce(self, stream: _Stream) -> None:
        while True:
            n, epoch = stream.samples_per_packet, stream.epoch
            last_ns = self._true_time_ns(stream, stream.counter + n - 1)
            await sleep_until_ns(last_ns)
            if stream.epoch != epoch:  # the rate changed while waiting: plan the packet again
                continue
            raw = self._samples(stream, n)
            scale = EMG_SCALE_CODE if stream.kind is StreamType.EMG else IMU_SCALE_CODE
            for wire, columns in stream.wire_blocks():
                seq = stream.seqs.get(wire, 0)
                payload = encode_packet(
                    wire, seq, stream.counter, raw[:, columns], RATE_CODE[stream.rate_hz], scale
                )
                stats = self.stats.setdefault(wire, StreamStats(rate_hz=stream.rate_hz))
                stats.rate_hz = stream.rate_hz
                packet = Outgoing(
                    last_ns, stream.characteristic, payload, stream.counter, n, stats, boot=self.boots
                )
                self._produced(stream.outbox, packet, stream.name, stats, self._can_send(stream))
                stream.seqs[wire] = seq + 1
            stream.counter += n

    def _samples(self, stream: _Stream, n: int) -> npt.NDArray[np.int16]:
        """The next ``n`` raw samples: the replayed physiology, or the limb from its first block on."""
        counters = np.arange(stream.counter, stream.counter + n)
        raw: npt.NDArray[np.int16] = stream.raw[counters % stream.raw.shape[0]]
        if self.limb is None:
            return raw
        times_ns = self.t0_ns + np.round(
            counters * (NS_PER_S / (stream.rate_hz * (1 + self.drift_ppm * 1e-6)))
        ).astype(np.int64)  # as _true_time_ns, for each sample
        return self.limb.overlay(raw, times_ns, emg=stream.kind is StreamType.EMG)

    def _can_send(self, stream: _Stream) -> bool:
        return self._link_takes(stream.characteristic) and bool(self.started_mask & stream.mask)

    def _sendable(self, stream: _Stream, out: Outgoing) -> bool:
        return self._can_send(stream) and out.boot == self.boots

    # -- GATT handlers ---------------------------------------------------------------------

    def _on_control(self, _connection: Connection, value: bytes) -> None:
        if not value:
            return
        opcode = value[0]
        if opcode == Command.START and len(value) == 2:
            self.started_mask |= value[1]
        elif opcode == Command.STOP and len(value) == 2:
            self.started_mask &= ~value[1]
        elif opcode == Command.SET_MAX_PAYLOAD and len(value) == 3:
            self._fit_payload(int.from_bytes(value[1:3], "little"))

    def _fit_payload(self, max_payload_bytes: int) -> None:
        """Samples per packet, rate and IMU split for notifications of ``max_payload_bytes`` (§7)."""
        for stream in self.streams:
            channels = stream.raw.shape[1]
            # Below one 6-axis sample, an IMU sample goes as an ACC and a GYR packet of 3 axes.
            stream.split = (
                stream.kind is StreamType.IMU and max_samples_per_packet(max_payload_bytes, channels) == 0
            )
            fits = max_samples_per_packet(max_payload_bytes, IMU_AXES if stream.split else channels)
            stream.samples_per_packet = max(1, min(stream.default_samples_per_packet, fits))
            budget = (
                EMG_MAX_NOTIFICATIONS_PER_S if stream.kind is StreamType.EMG else IMU_MAX_NOTIFICATIONS_PER_S
            )
            stream.set_rate(fallback_rate_hz(stream.default_rate_hz, stream.samples_per_packet, budget))

    async def _read_clock(self, _connection: Connection) -> bytes:
        """Latch the device clock as the request arrives, and answer (after ``--read-jitter-ms``)."""
        device_ns = self._device_time_ns(time.time_ns())
        if self.read_jitter_ms > 0:
            await asyncio.sleep(self.read_rng.uniform(0.0, 2.0 * self.read_jitter_ms) / 1e3)
        return encode_device_clock(device_ns // NS_PER_US)

    # -- faults ----------------------------------------------------------------------------

    def _draw_boot_id(self) -> int:
        """A boot identifier as firmware draws one from its RNG at boot: u32, never 0 (§4)."""
        return self.boot_rng.randrange(1, 1 << 32)

    async def reboot(self, away_s: float = 0.0) -> None:
        """Restart as after a watchdog reset: the link drops; counts, rates and seqs start anew.

        ``away_s``: it then stays out of the gateway's reach (not advertising) that long,
        counting all the while, so the gateway may find its counter past the old one.
        """
        self.started_mask = 0  # nothing more is sent on this boot's link
        self.hidden_until_ns = time.time_ns() + round(away_s * NS_PER_S)
        await self.drop()
        self.boots += 1
        self.boot_id = self._draw_boot_id()
        self.t0_ns = time.time_ns()
        for stream in self.streams:
            stream.rate_hz, stream.samples_per_packet = (
                stream.default_rate_hz,
                stream.default_samples_per_packet,
            )
            stream.split = False
            stream.counter = 0
            stream.epoch += 1  # a packet being waited for is planned again on the new time line
            stream.seqs.clear()
            while not stream.outbox.empty():
                stream.outbox.get_nowait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Emulated reference wearable (bumble GATT server)")
    add_common_arguments(parser, "SMREF-01")
    parser.add_argument("--emg-channels", type=int, default=4)
    parser.add_argument(
        "--segment", choices=("proximal", "distal"), default="distal", help="limb segment of the IMU"
    )
    parser.add_argument("--motion-seed", type=int, default=None, help="shared by the IMUs of one joint")
    parser.add_argument("--read-jitter-ms", type=float, default=0.0, help="clock read response delay, ±ms")
    parser.add_argument("--no-clock", action="store_true", help="no clock characteristic (older firmware)")
    args = parser.parse_args(argv)
    serve(args, args.name, ReferenceWearable)


if __name__ == "__main__":
    main()
