"""Emulated OpenBCI Ganglion (firmware 2.x): a bumble GATT server streaming synthetic EMG.

Built from the published format, not from this package's decoder: :class:`GanglionFirmware`
transcribes the firmware's sample loop ([FW] ``processData``, ``buildRawPacket``,
``sendRawPacket``, ``compressData18/19``, ``sendCompressedPacket18/19`` in
OpenBCI_Ganglion_Library.cpp; the byte masks are the firmware's), so the decoder tests
check one implementation of the spec against another. See :mod:`devices.ganglion.profile`
for the sources.

Like the board, it streams only between ``b`` and ``s`` on the send characteristic, opens
every stream with a raw packet, sends 100 or 101 notifications a second at 200 Hz, and
stops streaming when the link drops. Device time runs ``--drift-ppm`` fast; each packet
leaves at its last sample's true time plus a random delay of 0..2·``--jitter-ms``.

Faults come from the command line (schedules) or as JSON lines on stdin::

    {"fault": "drop"}                          drop the connection
    {"fault": "hide", "seconds": 3}            drop and stop advertising for N s
    {"fault": "short", "count": 2}             next N packets cut to 10 bytes
    {"fault": "corrupt", "count": 2}           next N packets with packet id 0xFF
    {"fault": "seq_jump", "packets": 5}        skip N packets (produced, never sent)
    {"cmd": "calm"}                            cancel the fault schedules
    {"cmd": "pause"}                           stop notifying, write the stats file
    {"cmd": "stats"}                           write the stats file

The stats file holds the ground truth: per streaming run (one per ``b``), the true UTC of
its sample 0, and the first and end sample counters of the valid packets notified (a
counter counts samples from the run's sample 0), plus fault counters.

Run: ``python -m devices.ganglion.emulator --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --name Ganglion-1a2b --stats /tmp/s.json``. It prints ``ready`` once
advertising, and writes the stats file on SIGTERM before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from scipy.signal import lfilter

from devices.emulation.harness import LinkOrders, add_common_arguments, read_orders, serve
from devices.ganglion.profile import (
    CHANNELS,
    DISABLE_ACCELEROMETER,
    DISCONNECT_UUID,
    ENABLE_ACCELEROMETER,
    MULTI_PACKET_ID,
    MULTI_PACKET_STOP_ID,
    MV_PER_COUNT,
    RECEIVE_UUID,
    SAMPLE_RATE_HZ,
    SEND_UUID,
    SERVICE_UUID_16,
    START_IMPEDANCE,
    START_STREAM,
    STOP_IMPEDANCE,
    STOP_STREAM,
)
from monitor.types import NS_PER_S

SIGNAL_LOOP_S = 60.0  # synthetic physiology is generated once and replayed in a loop
SYNTH_RATE_HZ = 1000.0  # synthetic EMG rate before the modelled ADC decimation
SINC_ORDER = 3  # MCP3912 decimation filter: sinc³ (MCP3912 data sheet, §5.5 "digital filter")
INT24_MIN, INT24_MAX = -(1 << 23), (1 << 23) - 1
MESSAGE_CHARS_PER_PACKET = 19  # [FW] serialBuffer rows: id byte + 19 characters
IMPEDANCE_PERIOD_S = 0.2  # pace of impedance packets while testing (the board's is similar)
SAMPLE_COUNTER_ROLLOVER = 201  # [FW] processData: if (sampleCounter >= 201) sampleCounter = 0
RAW_PADDING = bytes(ord("A") + c for c in range(7))  # [FW] sendRawPacket: 'A'..'G'


class GanglionFirmware:
    """The firmware's per-sample loop, transcribed: samples in, 20-byte packets out.

    Parameters
    ----------
    use_accel : bool
        18-bit packets carrying an accelerometer byte, instead of the default 19-bit ones.
    """

    def __init__(self, use_accel: bool = False) -> None:
        self.use_accel = use_accel
        self.axis_data = [0, 0, 0]  # int8 accelerometer axes [FW updateAccelerometerData]
        self.sample_counter = 0xFF  # [FW startRunning]
        self.ring_buffer_level = 0
        self.ring = bytearray(20)
        self.last_channel_data = [0] * CHANNELS
        self.delta_overflows = 0  # deltas that do not fit their field (the board wraps them)

    def start(self) -> None:
        """[FW startRunning]: the next sample goes out raw."""
        self.sample_counter = 0xFF

    def process(self, channel_data: list[int]) -> bytes | None:
        """[FW processData] for one 4-channel sample (int24 counts); the packet sent, if any."""
        if self.sample_counter >= SAMPLE_COUNTER_ROLLOVER:
            self.sample_counter = 0
        packet: bytes | None
        if self.sample_counter == 0:
            packet = self._raw_packet(channel_data)
        elif self.use_accel:
            packet = self._compress(channel_data, 18)
        else:
            packet = self._compress(channel_data, 19)
        self.sample_counter = (self.sample_counter + 1) & 0xFF  # a byte in the firmware
        return packet

    def _raw_packet(self, channel_data: list[int]) -> bytes:
        # buildRawPacket + sendRawPacket
        self.ring_buffer_level = 0
        body = bytearray()
        for i in range(CHANNELS):
            for shift in (16, 8, 0):
                body.append((channel_data[i] >> shift) & 0xFF)
            self.last_channel_data[i] = channel_data[i]
        packet = bytes([self.ring_buffer_level]) + bytes(body) + RAW_PADDING
        self.ring_buffer_level += 1
        return packet

    def _compress(self, channel_data: list[int], bits: int) -> bytes | None:
        deltas = []
        for i in range(CHANNELS):
            delta = self.last_channel_data[i] - channel_data[i]  # subtract new from old
            self.last_channel_data[i] = channel_data[i]
            if not -(1 << bits) <= delta < 1 << bits:  # beyond what survives the sign-in-bit-0 packing
                self.delta_overflows += 1
            delta &= 0xFFFFFFFF  # a 32-bit int on the board
            sign = (delta >> 31) & 1
            deltas.append((delta & ~1) | sign)  # bitWrite(deltas[i], 0, bitRead(deltas[i], 31))
        odd = self.sample_counter % 2 == 1
        if bits == 19:
            _pack19(self.ring, deltas, odd)
        else:
            _pack18(self.ring, deltas, odd)
        if odd:
            return None  # packed odd samples first; sent with the even one
        if bits == 19:
            packet = bytes([self.ring_buffer_level + 100]) + bytes(self.ring[:19])
        else:
            packet = bytes([self.ring_buffer_level]) + bytes(self.ring[:18]) + bytes([self._aux_byte()])
        self.ring_buffer_level += 1
        return packet

    def _aux_byte(self) -> int:
        # [FW sendCompressedPacket18]: x, y, z on ring levels ending in 1, 2, 3
        axis = self.ring_buffer_level % 10 - 1
        return self.axis_data[axis] & 0xFF if self.use_accel and 0 <= axis < 3 else 0


def _pack19(r: bytearray, d: list[int], odd: bool) -> None:
    """[FW compressData19]: the firmware's masks and shifts, byte by byte."""
    if odd:
        r[0] = (d[0] & 0x0007F800) >> 11
        r[1] = (d[0] & 0x000007F8) >> 3
        r[2] = ((d[0] & 0x00000007) << 5) | ((d[1] & 0x0007C000) >> 14)
        r[3] = (d[1] & 0x00003FC0) >> 6
        r[4] = ((d[1] & 0x0000003F) << 2) | ((d[2] & 0x00060000) >> 17)
        r[5] = (d[2] & 0x0001FE00) >> 9
        r[6] = (d[2] & 0x000001FE) >> 1
        r[7] = ((d[2] & 0x00000001) << 7) | ((d[3] & 0x0007F000) >> 12)
        r[8] = (d[3] & 0x00000FF0) >> 4
        r[9] = (d[3] & 0x0000000F) << 4
    else:
        r[9] |= (d[0] & 0x00078000) >> 15
        r[10] = (d[0] & 0x00007F80) >> 7
        r[11] = ((d[0] & 0x0000007F) << 1) | ((d[1] & 0x00040000) >> 18)
        r[12] = (d[1] & 0x0003FC00) >> 10
        r[13] = (d[1] & 0x000003FC) >> 2
        r[14] = ((d[1] & 0x00000003) << 6) | ((d[2] & 0x0007E000) >> 13)
        r[15] = (d[2] & 0x00001FE0) >> 5
        r[16] = ((d[2] & 0x0000001F) << 3) | ((d[3] & 0x00070000) >> 16)
        r[17] = (d[3] & 0x0000FF00) >> 8
        r[18] = d[3] & 0x000000FF


def _pack18(r: bytearray, d: list[int], odd: bool) -> None:
    """[FW compressData18]: the firmware's masks and shifts, byte by byte."""
    base = 0 if odd else 9
    r[base + 0] = (d[0] & 0x0003FC00) >> 10
    r[base + 1] = (d[0] & 0x000003FC) >> 2
    r[base + 2] = ((d[0] & 0x00000003) << 6) | ((d[1] & 0x0003F000) >> 12)
    r[base + 3] = (d[1] & 0x00000FF0) >> 4
    r[base + 4] = ((d[1] & 0x0000000F) << 4) | ((d[2] & 0x0003C000) >> 14)
    r[base + 5] = (d[2] & 0x00003FC0) >> 6
    r[base + 6] = ((d[2] & 0x0000003F) << 2) | ((d[3] & 0x00030000) >> 16)
    r[base + 7] = (d[3] & 0x0000FF00) >> 8
    r[base + 8] = d[3] & 0x000000FF


def synthetic_counts(seed: int, loop_s: float = SIGNAL_LOOP_S) -> npt.NDArray[np.int64]:
    """Synthetic 4-channel EMG with spasms at 200 Hz, as int24 ADC counts, shape (n, 4).

    The board's ADC (MCP3912) decimates with a sinc³ filter, so its 200 Hz samples hold
    little above about 50 Hz. Modelled here as a three-stage CIC (three 5-tap moving
    averages, nulls at multiples of 200 Hz) from 1 kHz synthetic EMG, then every fifth sample.
    """
    from monitor.synth import EmgScenario, generate_emg

    decimation = round(SYNTH_RATE_HZ / SAMPLE_RATE_HZ)
    scenario = EmgScenario(sample_rate_hz=SYNTH_RATE_HZ, channels=CHANNELS, duration_s=loop_s, seed=seed)
    emg_mv = generate_emg(scenario).emg_mv
    boxcar = np.full(decimation, 1.0 / decimation)
    for _ in range(SINC_ORDER):
        emg_mv = lfilter(boxcar, [1.0], emg_mv, axis=0)
    decimated_mv = emg_mv[decimation - 1 :: decimation]
    return np.clip(np.round(decimated_mv / MV_PER_COUNT), INT24_MIN, INT24_MAX).astype(np.int64)


@dataclass
class RunStats:
    """Ground truth of one streaming run (``b`` … ``s`` or a drop), valid packets only."""

    t0_ns: int  # true UTC of the run's sample 0
    first_counter: int | None = None
    end_counter: int | None = None  # counter after the last notified valid packet
    notified_packets: int = 0
    notified_samples: int = 0


@dataclass
class Stats:
    produced_packets: int = 0
    malformed_sent: int = 0
    skipped_packets: int = 0
    messages_sent: int = 0
    impedance_packets_sent: int = 0
    runs: list[RunStats] = field(default_factory=list)

    @property
    def sent_samples(self) -> int:
        """Samples from each run's first to its last valid notified packet, lost ones included."""
        return sum(
            r.end_counter - r.first_counter
            for r in self.runs
            if r.first_counter is not None and r.end_counter is not None
        )


class GanglionEmulator(LinkOrders):
    """One emulated Ganglion on a bumble host; see the module docstring for faults."""

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        self.device = device
        self.name: str = args.name
        self.drift_ppm: float = args.drift_ppm
        self.jitter_ms: float = args.jitter_ms
        self.rng = random.Random(args.seed)
        self.stats_path = Path(args.stats) if args.stats else None
        self.counts = synthetic_counts(args.seed)
        self.firmware = GanglionFirmware()
        self.connection: Connection | None = None
        self.subscribed = False
        self.running = False
        self.impedance_testing = False
        self.hidden_until_ns = 0
        self.paused = False
        self.pending: dict[str, int] = {"short": 0, "corrupt": 0, "seq_jump": 0}
        self.stats = Stats()
        self._run: RunStats | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._schedule: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._outbox: asyncio.Queue[tuple[int, bytes, RunStats | None, int, int]] = asyncio.Queue()
        self.receive: Characteristic[bytes] = Characteristic(
            RECEIVE_UUID,
            Characteristic.Properties.NOTIFY | Characteristic.Properties.READ,
            Characteristic.READABLE,
            b"",
        )
        self.receive.on("subscription", self._on_subscription)
        write = Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        send: Characteristic[bytes] = Characteristic(
            SEND_UUID, write, Characteristic.WRITEABLE, CharacteristicValue(write=self._on_send)
        )
        disconnect: Characteristic[bytes] = Characteristic(
            DISCONNECT_UUID,
            write,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_disconnect_write),
        )
        device.add_service(Service(UUID.from_16_bits(SERVICE_UUID_16), [self.receive, send, disconnect]))
        device.on("connection", self._on_connection)

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, drop_every_s: float | None) -> None:
        """Advertise, then serve commands and notify until cancelled."""
        await self.device.power_on()
        await self._advertise()
        tasks = [asyncio.create_task(self._send_loop()), asyncio.create_task(read_orders(self.apply))]
        if drop_every_s:
            self._schedule = asyncio.create_task(self._drop_schedule(drop_every_s))
        print("ready", flush=True)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *([self._schedule] if self._schedule else []), *self._tasks]:
                task.cancel()

    def write_stats(self) -> None:
        if self.stats_path is None:
            return
        stats = asdict(self.stats) | {"sent_samples": self.stats.sent_samples}
        truth = {
            "drift_ppm": self.drift_ppm,
            "rate_hz": SAMPLE_RATE_HZ,
            "address": str(self.device.random_address),
            "delta_overflows": self.firmware.delta_overflows,
        }
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"truth": truth, "stats": stats}))
        tmp.replace(self.stats_path)

    # -- streaming -------------------------------------------------------------------------

    def _start_streaming(self) -> None:
        if self.running:
            return
        self.running = True
        self.firmware.start()
        run = RunStats(t0_ns=time.time_ns())
        self.stats.runs.append(run)
        self._run = run
        self._stream_task = asyncio.create_task(self._produce(run))

    def _stop_streaming(self) -> None:
        self.running = False
        self._run = None
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    def _true_time_ns(self, run: RunStats, counter: int) -> int:
        """True UTC of sample ``counter`` of ``run``: the board's crystal runs ``drift_ppm`` fast."""
        return run.t0_ns + round(counter * NS_PER_S / (SAMPLE_RATE_HZ * (1 + self.drift_ppm * 1e-6)))

    async def _produce(self, run: RunStats) -> None:
        """Sample at 200 Hz in true time; queue each packet the firmware sends."""
        counter = 0
        first_of_packet = 0
        loop_samples = self.counts.shape[0]
        offset = self.rng.randrange(loop_samples)  # each run starts somewhere else in the signal
        while True:
            sample_ns = self._true_time_ns(run, counter)
            await asyncio.sleep(max(0.0, (sample_ns - time.time_ns()) / NS_PER_S))
            sample = [int(v) for v in self.counts[(offset + counter) % loop_samples]]
            packet = self.firmware.process(sample)
            counter += 1
            if packet is None:
                continue
            n = counter - first_of_packet
            self.stats.produced_packets += 1
            if self._can_send():
                if self.pending["seq_jump"] > 0:
                    self.pending["seq_jump"] -= 1
                    self.stats.skipped_packets += 1
                else:
                    jitter_ns = round(self.rng.uniform(0.0, 2.0 * self.jitter_ms) * 1e6)
                    wire, valid = self._maybe_malform(packet)
                    self._outbox.put_nowait(
                        (sample_ns + jitter_ns, wire, run if valid else None, first_of_packet, n)
                    )
            first_of_packet = counter

    def _maybe_malform(self, packet: bytes) -> tuple[bytes, bool]:
        if self.pending["short"] > 0:
            self.pending["short"] -= 1
            return packet[:10], False
        if self.pending["corrupt"] > 0:
            self.pending["corrupt"] -= 1
            return b"\xff" + packet[1:], False
        return packet, True

    def _can_send(self) -> bool:
        return self.connection is not None and self.subscribed and not self.paused

    async def _send_loop(self) -> None:
        """Notify in order, each packet at its own jittered time (never before its last sample)."""
        while True:
            send_ns, payload, run, counter, n = await self._outbox.get()
            await asyncio.sleep(max(0.0, (send_ns - time.time_ns()) / NS_PER_S))
            if not self._can_send():
                continue
            try:
                await self.device.notify_subscribers(self.receive, payload)
            except Exception:  # the link dropped under the notification: the packet is lost
                continue
            if run is None:
                if payload[:1] in (bytes([MULTI_PACKET_ID]), bytes([MULTI_PACKET_STOP_ID])):
                    self.stats.messages_sent += 1
                elif len(payload) > 1 and 201 <= payload[0] <= 205:
                    self.stats.impedance_packets_sent += 1
                else:
                    self.stats.malformed_sent += 1
                continue
            run.notified_packets += 1
            run.notified_samples += n
            if run.first_counter is None:
                run.first_counter = counter
            run.end_counter = counter + n

    def _send_message(self, text: str) -> None:
        """[FW prepToSendBytes]: ASCII in 19-character parts, id 206, the last one 207."""
        parts = [
            text[i : i + MESSAGE_CHARS_PER_PACKET] for i in range(0, len(text), MESSAGE_CHARS_PER_PACKET)
        ]
        now_ns = time.time_ns()
        for index, part in enumerate(parts):
            packet_id = MULTI_PACKET_STOP_ID if index == len(parts) - 1 else MULTI_PACKET_ID
            self._outbox.put_nowait((now_ns, bytes([packet_id]) + part.encode("ascii"), None, 0, 0))

    async def _impedance_loop(self) -> None:
        """[FW testImpedance]: channels 1-4 then the reference, ASCII kΩ then 'Z', over and over."""
        channel = 1
        while self.impedance_testing:
            await asyncio.sleep(IMPEDANCE_PERIOD_S)
            value_kohm = 5 + self.rng.randrange(20)
            payload = bytes([200 + channel]) + f"{value_kohm}Z".encode("ascii")
            if self._can_send():
                self._outbox.put_nowait((time.time_ns(), payload, None, 0, 0))
            channel = channel % 5 + 1

    # -- GATT handlers ---------------------------------------------------------------------

    def _on_subscription(self, _bearer: object, notify_enabled: bool, _indicate: bool) -> None:
        self.subscribed = notify_enabled

    def _on_send(self, _connection: Connection, value: bytes) -> None:
        """[FW SimbleeBLE_onReceive, parseChar]: only the first byte of a write is a command."""
        if not value:
            return
        token = value[:1]
        if token == START_STREAM:
            if self.impedance_testing:
                self.impedance_testing = False
            self._start_streaming()
        elif token == STOP_STREAM:
            self._stop_streaming()
            self._send_message("stop running\n")
        elif token == START_IMPEDANCE:
            self._stop_streaming()
            self.impedance_testing = True
            self._background(self._impedance_loop())
        elif token == STOP_IMPEDANCE:
            self.impedance_testing = False
        elif token == ENABLE_ACCELEROMETER:
            self.firmware.use_accel = True
        elif token == DISABLE_ACCELEROMETER:
            self.firmware.use_accel = False

    def _on_disconnect_write(self, _connection: Connection, _value: bytes) -> None:
        if self.connection is not None:
            self._background(self.connection.disconnect())

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        connection.on("disconnection", lambda _reason: self._background(self._on_disconnection()))

    async def _on_disconnection(self) -> None:
        # [FW SimbleeBLE_onDisconnect]: streaming and impedance testing stop.
        self.connection = None
        self.subscribed = False
        self.impedance_testing = False
        self._stop_streaming()
        delay_s = max(0.0, (self.hidden_until_ns - time.time_ns()) / NS_PER_S)
        await asyncio.sleep(delay_s)
        await self._advertise()

    async def _advertise(self) -> None:
        if self.connection is None and not self.device.is_advertising:
            data = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, BR/EDR not supported
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        UUID.from_16_bits(SERVICE_UUID_16).to_bytes(),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                ]
            )
            await self.device.start_advertising(
                advertising_data=bytes(data), advertising_interval_min=50, advertising_interval_max=50
            )

    # -- faults ----------------------------------------------------------------------------

    async def apply(self, order: dict[str, Any]) -> None:
        """Apply one fault or command (see the module docstring)."""
        fault = order.get("fault")
        if fault in ("short", "corrupt"):
            self.pending[fault] += int(order.get("count", 1))
        elif fault == "seq_jump":
            self.pending["seq_jump"] += int(order.get("packets", 1))
        else:
            await self.apply_link_order(order)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Emulated OpenBCI Ganglion, firmware 2.x (bumble GATT server)"
    )
    add_common_arguments(parser, "Ganglion-1a2b")  # [FW]: Ganglion-XXXX
    args = parser.parse_args(argv)
    serve(args, args.name, GanglionEmulator)


if __name__ == "__main__":
    main()
