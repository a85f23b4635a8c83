"""Emulated Polar H10 or Verity Sense: a bumble GATT server speaking PMD, with ground truth.

Written from the specification (the SDK sources cited in :mod:`devices.polar.profile`),
not from :mod:`devices.polar.decoder`: it has its own frame encoders and bit packer, so a
misreading of the format in one cannot hide the same misreading in the other. It takes
only the spec's constants (UUIDs, opcodes, setting ids) from the profile module.

The model (``--model h10`` or ``sense``) fixes what the control point offers:

- H10: ECG (130 Hz, 14 bit) and ACC (25/50/100/200 Hz, 2/4/8 g, 16 bit). ACC frames are raw
  int16 mG (frame type 0x01), or delta-compressed (0x81, with a FACTOR) with ``--delta``.
  ECG frames are raw int24 µV (0x00).
- Verity Sense: ACC (52 Hz, 8 g) and GYRO (52 Hz, 2000 deg/s), both delta-compressed (ACC
  0x81 in mG × FACTOR, GYRO 0x80 in deg/s × FACTOR); PPG, PPI and MAG are listed in the
  feature bitmap but refused (``ERROR_NOT_SUPPORTED``): the collector never asks for them.

The device clock counts ns since 2000-01-01 (``--clock set``: set to UTC at start, as
after the SDK's ``setLocalTime``; ``--clock default``: the H10's 2019-01-01 after a
power-off) and runs ``--drift-ppm`` fast. Samples sit on that clock's grid: sample ``k`` of a
stream at rate ``r`` has device time ``device_t0 + k / r`` and true UTC ``t0 + k / (r (1 +
drift))``. Streams start on START and stop on STOP or a disconnection, as the devices do.

The 0xFEEE service carries PS-FTP's MTU characteristic, which answers one query only:
``GET_LOCAL_TIME`` (RFC76 frame ``02 04 80``), with that device clock latched as the query
arrives, as local date and time truncated to the ms (``PbPFtpSetLocalTimeParams``, time
zone offset 0); any other query gets error 201 (not implemented).

Faults, as for the reference emulator (command line schedules or JSON lines on stdin)::

    {"fault": "drop"}                          drop the connection
    {"fault": "hide", "seconds": 3}            drop and stop advertising for N s
    {"fault": "power_off", "seconds": 3}       as hide; an H10 then restarts at its default time
    {"fault": "short", "count": 2}             next N frames cut inside the header
    {"fault": "corrupt", "count": 2}           next N frames with an unknown measurement type
    {"fault": "seq_jump", "packets": 5}        skip N frames (produced, never sent)
    {"fault": "device_stop", "measurement": "ACC"}  the sensor stops a stream (0x01 indication)
    {"fault": "battery", "percent": 8}         battery low (notified)
    {"cmd": "calm"} / {"cmd": "pause"} / {"cmd": "stats"}

Run: ``python -m devices.polar.emulator --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --model h10 --stats /tmp/s.json``; prints ``ready`` once advertising and
writes the stats file on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import struct
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from devices.emulation.harness import LinkOrders, add_common_arguments, read_orders, serve
from devices.polar.pmd import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    CONTROL_POINT_UUID,
    DATA_UUID,
    H10_DEFAULT_TIME_NS,
    HEART_RATE_SERVICE_UUID,
    POLAR_EPOCH_UNIX_NS,
    POLAR_SERVICE_UUID,
    SERVICE_UUID,
    MeasurementType,
    Opcode,
    ResponseStatus,
    SettingType,
)
from devices.polar.psftp import PSFTP_MTU_UUID
from monitor.types import NS_PER_S

HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"  # SIG assigned number
SIGNAL_LOOP_S = 60.0  # synthetic signals are generated once per rate and replayed
ATT_NOTIFY_OVERHEAD_BYTES = 3  # ATT opcode + handle
HEADER_BYTES = 10  # type, uint64 timestamp, frame type
DELTA_BLOCK_SAMPLES = 10  # samples per delta block: each block gets its own bit width
FRAME_SAMPLES = 36  # samples per frame at MTU 247: 10 + 36 × 6 = 226 bytes raw (ECG: 73 × 3)
ECG_FRAME_SAMPLES = 73
ECG_AMPLITUDE_UV = 1200.0
ECG_HEART_RATE_BPM = 72.0
GET_LOCAL_TIME_QUERY = bytes([0x02, 0x04, 0x80])  # RFC76 LAST, seq 0; RFC60 query 4 (GET_LOCAL_TIME)
PFTP_NOT_IMPLEMENTED = 201


@dataclass(frozen=True)
class StreamSpec:
    """What a model offers for one measurement type, and how it sends it."""

    offered: dict[SettingType, tuple[int, ...]]
    frame_type: int
    channels: int


def model_specs(model: str, delta: bool) -> dict[MeasurementType, StreamSpec]:
    """Offered settings and frame format per measurement type of a model (SDK product docs)."""
    if model == "h10":
        return {
            MeasurementType.ECG: StreamSpec(
                {SettingType.SAMPLE_RATE: (130,), SettingType.RESOLUTION: (14,)}, 0x00, 1
            ),
            MeasurementType.ACC: StreamSpec(
                {
                    SettingType.SAMPLE_RATE: (25, 50, 100, 200),
                    SettingType.RESOLUTION: (16,),
                    SettingType.RANGE: (2, 4, 8),
                },
                0x81 if delta else 0x01,
                3,
            ),
        }
    imu = {SettingType.SAMPLE_RATE: (52,), SettingType.RESOLUTION: (16,), SettingType.CHANNELS: (3,)}
    return {
        MeasurementType.ACC: StreamSpec({**imu, SettingType.RANGE: (8,)}, 0x81, 3),
        MeasurementType.GYRO: StreamSpec({**imu, SettingType.RANGE: (2000,)}, 0x80, 3),
    }


# Feature bitmap byte 1: bit t for type t. Verity Sense also lists PPG, PPI and MAG.
FEATURES = {
    "h10": (1 << MeasurementType.ECG) | (1 << MeasurementType.ACC),
    "sense": sum(
        1 << t
        for t in (
            MeasurementType.PPG,
            MeasurementType.ACC,
            MeasurementType.PPI,
            MeasurementType.GYRO,
            MeasurementType.MAGNETOMETER,
        )
    ),
}
DEFAULT_NAMES = {"h10": "Polar H10 1A2B3C4D", "sense": "Polar Sense B5C2AE21"}


# -- frame encoders (from the specification) ------------------------------------------------


def frame_header(measurement: int, last_sample_ns: int, frame_type: int) -> bytes:
    """Type byte, uint64 LE device time of the last sample (ns since 2000), frame type."""
    return bytes([measurement]) + (last_sample_ns & (2**64 - 1)).to_bytes(8, "little") + bytes([frame_type])


def raw_frame(measurement: int, last_sample_ns: int, frame_type: int, values: npt.NDArray[np.int64]) -> bytes:
    """Raw frame: each value little-endian two's complement, ``frame_type + 1`` bytes (ACC) or 3 (ECG)."""
    width = 3 if measurement == MeasurementType.ECG else frame_type + 1
    body = b"".join(int(v).to_bytes(width, "little", signed=True) for v in values.ravel())
    return frame_header(measurement, last_sample_ns, frame_type) + body


def delta_frame(
    measurement: int, last_sample_ns: int, frame_type: int, counts: npt.NDArray[np.int64]
) -> bytes:
    """Delta frame of int16 ``counts`` (n, channels): reference sample then bit-packed blocks."""
    body = bytearray(b"".join(int(v).to_bytes(2, "little", signed=True) for v in counts[0]))
    deltas = np.diff(counts, axis=0)
    for start in range(0, deltas.shape[0], DELTA_BLOCK_SAMPLES):
        block = deltas[start : start + DELTA_BLOCK_SAMPLES]
        width = max(_signed_width(int(v)) for v in block.ravel())
        packed, n_bits = 0, 0
        for value in block.ravel():  # least significant bit first, channel after channel
            packed |= (int(value) & ((1 << width) - 1)) << n_bits
            n_bits += width
        body += bytes([width, block.shape[0]]) + packed.to_bytes((n_bits + 7) // 8, "little")
    return frame_header(measurement, last_sample_ns, frame_type) + bytes(body)


def _protobuf_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _protobuf_field(number: int, value: int | bytes) -> bytes:
    """One proto2 field: varint (wire type 0) or length-delimited (wire type 2)."""
    if isinstance(value, bytes):
        return _protobuf_varint(number << 3 | 2) + _protobuf_varint(len(value)) + value
    return _protobuf_varint(number << 3) + _protobuf_varint(value)


def local_time_message(device_ns: int) -> bytes:
    """``PbPFtpSetLocalTimeParams`` of a device time (ns since 2000-01-01), truncated to the ms."""
    local = datetime(2000, 1, 1) + timedelta(microseconds=device_ns // 1000)
    date = b"".join(_protobuf_field(n, v) for n, v in ((1, local.year), (2, local.month), (3, local.day)))
    clock = b"".join(
        _protobuf_field(n, v)
        for n, v in ((1, local.hour), (2, local.minute), (3, local.second), (4, local.microsecond // 1000))
    )
    return _protobuf_field(1, date) + _protobuf_field(2, clock) + _protobuf_field(3, 0)


def rfc76_frames(message: bytes, max_frame_bytes: int) -> list[bytes]:
    """RFC76 frames of an answer: header ``next | status << 1 | seq << 4`` (LAST 1, MORE 3)."""
    room = max_frame_bytes - 1
    chunks = [message[i : i + room] for i in range(0, len(message), room)] or [b""]
    return [
        bytes([(i > 0) | (1 if i == len(chunks) - 1 else 3) << 1 | (i % 16) << 4]) + chunk
        for i, chunk in enumerate(chunks)
    ]


def _signed_width(value: int) -> int:
    """Fewest bits (at least 1) holding ``value`` in two's complement."""
    return max(1, (value if value >= 0 else ~value).bit_length() + 1)


def synthetic_ecg_uv(rate_hz: float, duration_s: float, seed: int) -> npt.NDArray[np.float64]:
    """A plain ECG-like trace, µV: Gaussian P, QRS and T waves at a steady heart rate."""
    rng = np.random.default_rng(seed)
    t_s = np.arange(round(duration_s * rate_hz)) / rate_hz
    phase_s = np.mod(t_s, 60.0 / ECG_HEART_RATE_BPM)
    waves = ((0.15, 0.1, 0.025), (0.35, 1.0, 0.012), (0.6, 0.3, 0.04))  # (centre s, gain, width s)
    trace = sum(gain * np.exp(-0.5 * ((phase_s - centre) / width) ** 2) for centre, gain, width in waves)
    return ECG_AMPLITUDE_UV * np.asarray(trace) + rng.normal(0.0, 10.0, t_s.size)


# -- the emulated device ----------------------------------------------------------------------


@dataclass
class StreamStats:
    """Ground truth of one stream, as notified (valid frames only); counters are sample indices."""

    rate_hz: float = 0.0
    produced_packets: int = 0
    notified_packets: int = 0
    notified_samples: int = 0
    first_counter: int | None = None
    end_counter: int | None = None
    malformed_sent: int = 0
    skipped_packets: int = 0
    starts: int = 0


@dataclass
class _Stream:
    kind: MeasurementType
    spec: StreamSpec
    started: bool = False
    rate_hz: float = 0.0
    range_value: int = 0
    factor: float = 1.0
    k: int = 0  # next sample index on the device-clock grid of this rate
    samples_per_frame: int = FRAME_SAMPLES
    signal: npt.NDArray[np.int64] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    stats: StreamStats = field(default_factory=StreamStats)
    outbox: asyncio.Queue[tuple[int, bytes, bool, int, int]] = field(default_factory=asyncio.Queue)


class PolarSensor(LinkOrders):
    """One emulated Polar sensor on a bumble host; see the module docstring."""

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        self.device = device
        self.model: str = args.model
        self.name: str = args.name or DEFAULT_NAMES[self.model]
        self.seed: int = args.seed
        self.drift_ppm: float = args.drift_ppm
        self.jitter_ms: float = args.jitter_ms
        self.clock: str = args.clock
        self.rng = random.Random(args.seed)
        self.stats_path = Path(args.stats) if args.stats else None
        self.connection: Connection | None = None
        self.data_subscribed = False
        self.hidden_until_ns = 0
        self.clock_reset_pending = False
        self.clock_resets: list[int] = []  # device_t0_ns after each H10 power-off
        self.paused = False
        self.pending: dict[str, int] = {"short": 0, "corrupt": 0, "seq_jump": 0}
        self.battery_percent = 90
        self.t0_ns = 0  # true UTC at device time device_t0_ns
        self.device_t0_ns = 0
        self._tasks: set[asyncio.Future[None]] = set()
        self._schedule: asyncio.Task[None] | None = None
        self.streams = {
            kind: _Stream(kind, spec) for kind, spec in model_specs(self.model, args.delta).items()
        }
        props = Characteristic.Properties
        self.control: Characteristic[bytes] = Characteristic(
            CONTROL_POINT_UUID,
            props.READ | props.WRITE | props.INDICATE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=self._read_features, write=self._on_control),
        )
        self.data: Characteristic[bytes] = Characteristic(
            DATA_UUID, props.NOTIFY, Characteristic.READABLE, b""
        )
        self.data.on("subscription", self._on_data_subscription)
        self.battery: Characteristic[bytes] = Characteristic(
            BATTERY_LEVEL_UUID,
            props.READ | props.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda _connection: bytes([self.battery_percent])),
        )
        heart_rate: Characteristic[bytes] = Characteristic(
            HEART_RATE_MEASUREMENT_UUID, props.NOTIFY, Characteristic.READABLE, b""
        )
        self.psftp_mtu: Characteristic[bytes] = Characteristic(
            PSFTP_MTU_UUID,
            props.WRITE | props.WRITE_WITHOUT_RESPONSE | props.NOTIFY,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_psftp),
        )
        device.add_service(Service(SERVICE_UUID, [self.control, self.data]))
        device.add_service(Service(POLAR_SERVICE_UUID, [self.psftp_mtu]))
        device.add_service(Service(BATTERY_SERVICE_UUID, [self.battery]))
        device.add_service(Service(HEART_RATE_SERVICE_UUID, [heart_rate]))
        device.on("connection", self._on_connection)

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, drop_every_s: float | None) -> None:
        await self.device.power_on()
        await self._advertise()
        self.t0_ns = time.time_ns()
        self.device_t0_ns = (
            self.t0_ns - POLAR_EPOCH_UNIX_NS if self.clock == "set" else H10_DEFAULT_TIME_NS + 12 * NS_PER_S
        )
        tasks = [asyncio.create_task(self._produce(s)) for s in self.streams.values()]
        tasks += [asyncio.create_task(self._send(s)) for s in self.streams.values()]
        tasks.append(asyncio.create_task(read_orders(self.apply)))
        if drop_every_s:
            self._schedule = asyncio.create_task(self._drop_schedule(drop_every_s))
        print("ready", flush=True)
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *([self._schedule] if self._schedule else [])]:
                task.cancel()

    def write_stats(self) -> None:
        if self.stats_path is None:
            return
        truth = {
            "t0_ns": self.t0_ns,
            "device_t0_ns": self.device_t0_ns,
            "drift_ppm": self.drift_ppm,
            "model": self.model,
            "clock_resets": self.clock_resets,
            "address": str(self.device.random_address),
        }
        streams = {s.kind.name: asdict(s.stats) for s in self.streams.values()}
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"truth": truth, "streams": streams}))
        tmp.replace(self.stats_path)

    # -- clocks ----------------------------------------------------------------------------

    def _device_time_ns(self, stream: _Stream, k: int) -> int:
        return self.device_t0_ns + round(k * NS_PER_S / stream.rate_hz)

    def _device_now_ns(self) -> int:
        """The device clock now: ``drift_ppm`` fast since ``device_t0_ns`` at true ``t0_ns``."""
        return self.device_t0_ns + round((time.time_ns() - self.t0_ns) * (1 + self.drift_ppm * 1e-6))

    def _true_time_ns(self, stream: _Stream, k: int) -> int:
        """True UTC of sample ``k``: the device crystal runs ``drift_ppm`` fast."""
        return self.t0_ns + round(k * NS_PER_S / (stream.rate_hz * (1 + self.drift_ppm * 1e-6)))

    # -- streaming -------------------------------------------------------------------------

    async def _produce(self, stream: _Stream) -> None:
        while True:
            if not stream.started:
                stream.wake.clear()
                await stream.wake.wait()
                continue
            n = stream.samples_per_frame
            k = stream.k
            last_true_ns = self._true_time_ns(stream, k + n - 1)
            await asyncio.sleep(max(0.0, (last_true_ns - time.time_ns()) / NS_PER_S))
            if not stream.started or stream.k != k:  # stopped or restarted while waiting
                continue
            payload = self._encode(stream, k, n)
            stream.stats.produced_packets += 1
            if self._can_send(stream):
                if self.pending["seq_jump"] > 0:
                    self.pending["seq_jump"] -= 1
                    stream.stats.skipped_packets += 1
                else:
                    jitter_ns = round(self.rng.uniform(0.0, 2.0 * self.jitter_ms) * 1e6)
                    wire, valid = self._maybe_malform(payload)
                    stream.outbox.put_nowait((last_true_ns + jitter_ns, wire, valid, k, n))
            stream.k = k + n

    def _encode(self, stream: _Stream, k: int, n: int) -> bytes:
        assert stream.signal is not None
        values = stream.signal[np.arange(k, k + n) % stream.signal.shape[0]]
        last_ns = self._device_time_ns(stream, k + n - 1)
        if stream.spec.frame_type & 0x80:
            return delta_frame(stream.kind, last_ns, stream.spec.frame_type, values)
        return raw_frame(stream.kind, last_ns, stream.spec.frame_type, values)

    def _maybe_malform(self, payload: bytes) -> tuple[bytes, bool]:
        if self.pending["short"] > 0:
            self.pending["short"] -= 1
            return payload[:7], False
        if self.pending["corrupt"] > 0:
            self.pending["corrupt"] -= 1
            return b"\x3e" + payload[1:], False  # no measurement type 62
        return payload, True

    def _can_send(self, stream: _Stream) -> bool:
        return self.connection is not None and not self.paused and stream.started and self.data_subscribed

    async def _send(self, stream: _Stream) -> None:
        """Notify in order, each frame at its own jittered time (never before its last sample)."""
        while True:
            send_ns, payload, valid, k, n = await stream.outbox.get()
            await asyncio.sleep(max(0.0, (send_ns - time.time_ns()) / NS_PER_S))
            if not self._can_send(stream):
                continue
            try:
                await self.device.notify_subscribers(self.data, payload)
            except Exception:  # the link dropped under the notification: the frame is lost
                continue
            stats = stream.stats
            if not valid:
                stats.malformed_sent += 1
                continue
            stats.notified_packets += 1
            stats.notified_samples += n
            if stats.first_counter is None:
                stats.first_counter = k
            stats.end_counter = k + n

    def _start_stream(self, stream: _Stream, rate_hz: float, range_value: int) -> None:
        stream.rate_hz = rate_hz
        stream.range_value = range_value
        stream.stats.rate_hz = rate_hz
        stream.stats.starts += 1
        kind = stream.kind
        # FACTOR: ACC 0x81 is mG per LSB, GYRO 0x80 deg/s per LSB; int16 spans the range.
        if kind == MeasurementType.ACC:
            stream.factor = range_value * 1000.0 / 32768.0
        elif kind == MeasurementType.GYRO:
            stream.factor = range_value / 32768.0
        stream.signal = self._counts(stream)
        mtu = self.connection.att_mtu if self.connection is not None else 247
        stream.samples_per_frame = self._frame_samples(stream, mtu - ATT_NOTIFY_OVERHEAD_BYTES)
        now_device_ns = self.device_t0_ns + (time.time_ns() - self.t0_ns) * (1 + self.drift_ppm * 1e-6)
        stream.k = math.ceil((now_device_ns - self.device_t0_ns) * rate_hz / NS_PER_S)
        stream.started = True
        stream.wake.set()

    def _frame_samples(self, stream: _Stream, max_payload: int) -> int:
        default = ECG_FRAME_SAMPLES if stream.kind == MeasurementType.ECG else FRAME_SAMPLES
        channels = stream.spec.channels
        if stream.spec.frame_type & 0x80:  # worst case: 17-bit deltas of int16, a block header per block
            per_sample_bytes = channels * 17 / 8 + 2 / DELTA_BLOCK_SAMPLES
            fits = int((max_payload - HEADER_BYTES - 2 * channels - 2) / per_sample_bytes) + 1
        else:
            width = 3 if stream.kind == MeasurementType.ECG else stream.spec.frame_type + 1
            fits = (max_payload - HEADER_BYTES) // (width * channels)
        return max(1, min(default, fits))

    def _counts(self, stream: _Stream) -> npt.NDArray[np.int64]:
        """The stream's synthetic signal in wire counts for its rate, range and frame type."""
        from monitor.synth.motion import generate_motion

        kind, rate_hz = stream.kind, stream.rate_hz
        if kind == MeasurementType.ECG:
            return np.round(synthetic_ecg_uv(rate_hz, SIGNAL_LOOP_S, self.seed)).astype(np.int64)
        motion = generate_motion("knee", duration_s=SIGNAL_LOOP_S, sample_rate_hz=rate_hz, seed=self.seed)
        if kind == MeasurementType.ACC:
            physical = np.clip(motion.acc_dist_g, -stream.range_value, stream.range_value) * 1000.0  # mG
            lsb = stream.factor if stream.spec.frame_type & 0x80 else 1.0
        else:
            physical = np.clip(motion.gyr_dist_dps, -stream.range_value, stream.range_value)
            lsb = stream.factor
        return np.clip(np.round(physical / lsb), -32768, 32767).astype(np.int64)

    # -- GATT handlers ---------------------------------------------------------------------

    def _read_features(self, _connection: Connection) -> bytes:
        return bytes([0x0F, FEATURES[self.model], 0x00])

    def _on_data_subscription(self, _connection: object, notify_enabled: bool, _indicate: bool) -> None:
        self.data_subscribed = notify_enabled

    def _on_psftp(self, _connection: Connection, value: bytes) -> None:
        """A PS-FTP query: latch the device clock as it arrives, then answer (notified)."""
        if value == GET_LOCAL_TIME_QUERY:
            message = local_time_message(self._device_now_ns())
            frames = rfc76_frames(message, self._max_notify_bytes())
        else:
            frames = [bytes([0x00]) + PFTP_NOT_IMPLEMENTED.to_bytes(2, "little")]
        self._background(self._notify_psftp(frames))

    def _max_notify_bytes(self) -> int:
        mtu = self.connection.att_mtu if self.connection is not None else 23
        return mtu - ATT_NOTIFY_OVERHEAD_BYTES

    async def _notify_psftp(self, frames: list[bytes]) -> None:
        for frame in frames:
            if self.connection is None:
                return
            with contextlib.suppress(Exception):  # link gone under the notification
                await self.device.notify_subscribers(self.psftp_mtu, frame)

    def _on_control(self, _connection: Connection, value: bytes) -> None:
        if value:
            self._background(self.control_command(bytes(value)))

    async def control_command(self, value: bytes) -> None:
        """Answer one control point write with an indication (``0xF0, opcode, type, status, more, ...``)."""
        opcode = value[0]
        kind_byte = value[1] & 0x3F if len(value) > 1 else 0
        status, parameters = self._execute(opcode, kind_byte, value[2:])
        response = bytes([0xF0, opcode, kind_byte, status, 0x00]) + parameters
        if self.connection is not None:
            with contextlib.suppress(Exception):  # link gone before the confirmation
                await self.device.indicate_subscribers(self.control, response)

    def _execute(self, opcode: int, kind_byte: int, parameters: bytes) -> tuple[int, bytes]:
        if opcode not in (
            Opcode.GET_MEASUREMENT_SETTINGS,
            Opcode.REQUEST_MEASUREMENT_START,
            Opcode.STOP_MEASUREMENT,
        ):
            return ResponseStatus.ERROR_INVALID_OP_CODE, b""
        if not FEATURES[self.model] >> kind_byte & 1:
            return ResponseStatus.ERROR_INVALID_MEASUREMENT_TYPE, b""
        stream = self.streams.get(MeasurementType(kind_byte)) if kind_byte in self._kinds() else None
        if stream is None:
            return ResponseStatus.ERROR_NOT_SUPPORTED, b""
        if opcode == Opcode.GET_MEASUREMENT_SETTINGS:
            return ResponseStatus.SUCCESS, self._settings_tlv(stream.spec.offered)
        if opcode == Opcode.STOP_MEASUREMENT:
            stream.started = False
            return ResponseStatus.SUCCESS, b""
        if stream.started:
            return ResponseStatus.ERROR_ALREADY_IN_STATE, b""
        selected, status = self._parse_start(stream.spec, parameters)
        if status != ResponseStatus.SUCCESS:
            return status, b""
        self._start_stream(
            stream, float(selected[SettingType.SAMPLE_RATE]), selected.get(SettingType.RANGE, 0)
        )
        factor = struct.pack("<f", stream.factor)
        return ResponseStatus.SUCCESS, bytes([SettingType.FACTOR, 1]) + factor

    @staticmethod
    def _kinds() -> set[int]:
        return {int(k) for k in MeasurementType}

    @staticmethod
    def _settings_tlv(offered: dict[SettingType, tuple[int, ...]]) -> bytes:
        sizes = {SettingType.CHANNELS: 1, SettingType.RANGE_MILLIUNIT: 4, SettingType.FACTOR: 4}
        out = bytearray()
        for kind, values in offered.items():
            out += bytes([kind, len(values)])
            for value in values:
                out += value.to_bytes(sizes.get(kind, 2), "little")
        return bytes(out)

    @staticmethod
    def _parse_start(spec: StreamSpec, parameters: bytes) -> tuple[dict[SettingType, int], int]:
        """Selected values of a START; every offered setting must be given, with one offered value."""
        errors = {
            SettingType.SAMPLE_RATE: ResponseStatus.ERROR_INVALID_SAMPLE_RATE,
            SettingType.RESOLUTION: ResponseStatus.ERROR_INVALID_RESOLUTION,
            SettingType.RANGE: ResponseStatus.ERROR_INVALID_RANGE,
            SettingType.CHANNELS: ResponseStatus.ERROR_INVALID_NUMBER_OF_CHANNELS,
        }
        sizes = {SettingType.CHANNELS: 1, SettingType.RANGE_MILLIUNIT: 4}
        selected: dict[SettingType, int] = {}
        offset = 0
        while offset < len(parameters):
            if offset + 2 > len(parameters) or parameters[offset] not in SettingType._value2member_map_:
                return selected, ResponseStatus.ERROR_INVALID_PARAMETER
            kind, count = SettingType(parameters[offset]), parameters[offset + 1]
            size = sizes.get(kind, 2)
            if count != 1 or offset + 2 + size > len(parameters):
                return selected, ResponseStatus.ERROR_INVALID_LENGTH
            selected[kind] = int.from_bytes(parameters[offset + 2 : offset + 2 + size], "little")
            offset += 2 + size
        for kind, values in spec.offered.items():
            if selected.get(kind) not in values:
                return selected, errors.get(kind, ResponseStatus.ERROR_INVALID_PARAMETER)
        return selected, ResponseStatus.SUCCESS

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        connection.on("disconnection", lambda _reason: self._background(self._on_disconnection()))

    async def _on_disconnection(self) -> None:
        self.connection = None
        self.data_subscribed = False
        for stream in self.streams.values():  # the sensors stop streaming when the link goes
            stream.started = False
        delay_s = max(0.0, (self.hidden_until_ns - time.time_ns()) / NS_PER_S)
        await asyncio.sleep(delay_s)
        if self.clock_reset_pending:
            self.clock_reset_pending = False
            # Device time restarts at the default; sample k keeps its true time.
            elapsed_ns = (time.time_ns() - self.t0_ns) * (1 + self.drift_ppm * 1e-6)
            self.device_t0_ns = H10_DEFAULT_TIME_NS - round(elapsed_ns)
            self.clock_resets.append(self.device_t0_ns)
        await self._advertise()

    async def _advertise(self) -> None:
        if self.connection is None and not self.device.is_advertising:
            data = AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, BR/EDR not supported
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        UUID.from_16_bits(0x180D).to_bytes() + UUID.from_16_bits(0xFEEE).to_bytes(),
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
        if fault == "power_off":
            # TimeSystemExplained.md: an H10 restarts at its default time after a shutdown.
            self.clock_reset_pending = self.model == "h10"
            await self.hide(float(order["seconds"]))
            if self.connection is not None:
                await self.connection.disconnect()
        elif fault in ("short", "corrupt"):
            self.pending[fault] += int(order.get("count", 1))
        elif fault == "seq_jump":
            self.pending["seq_jump"] += int(order.get("packets", 1))
        elif fault == "device_stop":  # the sensor stops a stream itself (ONLINE_MEASUREMENT_STOPPED)
            kind = MeasurementType[str(order["measurement"])]
            stream = self.streams.get(kind)
            if stream is not None and stream.started:
                stream.started = False
                if self.connection is not None:
                    with contextlib.suppress(Exception):
                        await self.device.indicate_subscribers(self.control, bytes([0x01, kind]))
        else:
            if fault == "hide":
                self.clock_reset_pending = False
            await self.apply_link_order(order)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Emulated Polar H10 / Verity Sense (bumble GATT server, PMD)"
    )
    add_common_arguments(parser, None)  # None: the model's name, e.g. 'Polar H10 1A2B3C4D'
    parser.add_argument("--model", choices=("h10", "sense"), default="h10")
    parser.add_argument("--delta", action="store_true", help="H10: delta-compressed ACC frames (0x81)")
    parser.add_argument("--clock", choices=("set", "default"), default="set", help="device time at start")
    args = parser.parse_args(argv)
    serve(args, args.name or DEFAULT_NAMES[args.model], PolarSensor)


if __name__ == "__main__":
    main()
