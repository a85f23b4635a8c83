"""Emulated Polar H10 or Verity Sense: a bumble GATT server speaking PMD, with ground truth.

Written from the specification, not from :mod:`devices.polar.decoder`: what it puts on the
wire is :mod:`emulators.polar_wire`'s own encoding.

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

Faults come from the command line (schedules) or as JSON lines on stdin: those of
:mod:`emulators.base` (a ``short`` frame is cut inside the header, a ``corrupt`` one has an
unknown measurement type; a packet fault may name ``"stream": "ecg"``, ``"acc"`` or
``"gyro"``), and::

    {"fault": "power_off", "seconds": 3}       as hide; an H10 then restarts at its default time
    {"fault": "device_stop", "measurement": "ACC"}  the sensor stops a stream (0x01 indication)

Run: ``python -m emulators.polar --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --model h10 --stats /tmp/s.json``; prints ``ready`` once advertising and
writes the stats file on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import struct
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

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
from emulators.base import EmulatedWearable, Outgoing, StreamStats, sleep_until_ns
from emulators.harness import add_common_arguments, serve
from emulators.polar_wire import (
    DELTA_BLOCK_SAMPLES,
    FEATURES,
    GET_LOCAL_TIME_QUERY,
    HEADER_BYTES,
    PFTP_NOT_IMPLEMENTED,
    StreamSpec,
    delta_frame,
    local_time_message,
    model_specs,
    parse_start,
    raw_frame,
    rfc76_frames,
    settings_tlv,
)
from monitor.synth.motion import MotionRecording, generate_motion
from monitor.types import NS_PER_S

HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"  # SIG assigned number
SIGNAL_LOOP_S = 60.0  # synthetic signals are generated once per rate and replayed
ATT_NOTIFY_OVERHEAD_BYTES = 3  # ATT opcode + handle
FRAME_SAMPLES = 36  # samples per frame at MTU 247: 10 + 36 × 6 = 226 bytes raw (ECG: 73 × 3)
ECG_FRAME_SAMPLES = 73
ECG_AMPLITUDE_UV = 1200.0
ECG_HEART_RATE_BPM = 72.0
SHORT_FRAME_BYTES = 7  # a "short" fault's frame: cut inside the 10-byte header
UNKNOWN_MEASUREMENT = b"\x3e"  # a "corrupt" fault's first byte: no measurement type 62


DEFAULT_NAMES = {"h10": "Polar H10 1A2B3C4D", "sense": "Polar Sense B5C2AE21"}


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
class PolarStreamStats(StreamStats):
    """Ground truth of one stream (counters are sample indices), and how often it started."""

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
    stats: PolarStreamStats = field(default_factory=PolarStreamStats)
    outbox: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)


class PolarSensor(EmulatedWearable):
    """One emulated Polar sensor on a bumble host; see the module docstring."""

    ADVERTISED_SERVICES = (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        UUID.from_16_bits(0x180D).to_bytes() + UUID.from_16_bits(0xFEEE).to_bytes(),
    )
    PACKET_STREAMS = ("ecg", "acc", "gyro")

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        super().__init__(device, args, args.name or DEFAULT_NAMES[args.model])
        self.model: str = args.model
        self.seed: int = args.seed
        self.clock: str = args.clock
        self.clock_reset_pending = False
        self.clock_resets: list[int] = []  # device_t0_ns after each H10 power-off
        self.t0_ns = 0  # true UTC at device time device_t0_ns
        self.device_t0_ns = 0
        self.streams = {
            kind: _Stream(kind, spec) for kind, spec in model_specs(self.model, args.delta).items()
        }
        # Synthetic motion per rate, generated before the sensor is on air at each motion
        # stream's highest offered rate (the one the gateway asks for): a 60 s recording
        # takes 0.3-1 s of CPU, and generated at a stream's start it stalled every other
        # stream and the clock's answers for as long, which no sensor does. Another rate,
        # if a client asks for one, is generated when its stream starts.
        self._motion_by_rate_hz: dict[float, MotionRecording] = {}
        for stream in self.streams.values():
            if stream.kind in (MeasurementType.ACC, MeasurementType.GYRO):
                self._motion(float(max(stream.spec.offered[SettingType.SAMPLE_RATE])))
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
        self._track_subscriptions(self.data)
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
        device.add_service(Service(BATTERY_SERVICE_UUID, [self._battery_characteristic(BATTERY_LEVEL_UUID)]))
        device.add_service(Service(HEART_RATE_SERVICE_UUID, [heart_rate]))

    # -- the base's hooks ------------------------------------------------------------------

    def _loops(self) -> list[Coroutine[Any, Any, None]]:
        producers = [self._produce(stream) for stream in self.streams.values()]
        senders = [
            self._notify_in_order(stream.outbox, functools.partial(self._sendable, stream))
            for stream in self.streams.values()
        ]
        return [*producers, *senders]

    def _on_air(self) -> None:
        self.t0_ns = time.time_ns()
        self.device_t0_ns = (
            self.t0_ns - POLAR_EPOCH_UNIX_NS if self.clock == "set" else H10_DEFAULT_TIME_NS + 12 * NS_PER_S
        )

    def ground_truth(self) -> tuple[dict[str, Any], dict[str, Any]]:
        truth = {
            "t0_ns": self.t0_ns,
            "device_t0_ns": self.device_t0_ns,
            "model": self.model,
            "clock_resets": self.clock_resets,
        }
        return truth, {"streams": {s.kind.name: asdict(s.stats) for s in self.streams.values()}}

    def _cut(self, payload: bytes) -> bytes:
        return payload[:SHORT_FRAME_BYTES]

    def _corrupt(self, payload: bytes) -> bytes:
        return UNKNOWN_MEASUREMENT + payload[1:]

    def _link_lost(self) -> None:
        for stream in self.streams.values():  # the sensors stop streaming when the link goes
            stream.started = False

    def _back_in_reach(self) -> None:
        if self.clock_reset_pending:
            self.clock_reset_pending = False
            # Device time restarts at the default; sample k keeps its true time.
            elapsed_ns = (time.time_ns() - self.t0_ns) * (1 + self.drift_ppm * 1e-6)
            self.device_t0_ns = H10_DEFAULT_TIME_NS - round(elapsed_ns)
            self.clock_resets.append(self.device_t0_ns)

    async def apply_profile_order(self, order: dict[str, Any]) -> bool:
        fault = order.get("fault")
        if fault in ("hide", "power_off"):
            # TimeSystemExplained.md: an H10 restarts at its default time after a shutdown; a
            # sensor only out of reach keeps its time.
            self.clock_reset_pending = fault == "power_off" and self.model == "h10"
            await self.hide(float(order["seconds"]))
        elif fault == "device_stop":  # the sensor stops a stream itself (ONLINE_MEASUREMENT_STOPPED)
            kind = MeasurementType[str(order["measurement"])]
            stream = self.streams.get(kind)
            if stream is not None and stream.started:
                stream.started = False
                if self.connection is not None:
                    with contextlib.suppress(Exception):
                        await self.device.indicate_subscribers(self.control, bytes([0x01, kind]))
        else:
            return False
        return True

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
            await sleep_until_ns(last_true_ns)
            if not stream.started or stream.k != k:  # stopped or restarted while waiting
                continue
            packet = Outgoing(last_true_ns, self.data, self._encode(stream, k, n), k, n, stream.stats)
            self._produced(
                stream.outbox, packet, stream.kind.name.lower(), stream.stats, self._can_send(stream)
            )
            stream.k = k + n

    def _encode(self, stream: _Stream, k: int, n: int) -> bytes:
        assert stream.signal is not None
        values = stream.signal[np.arange(k, k + n) % stream.signal.shape[0]]
        last_ns = self._device_time_ns(stream, k + n - 1)
        if stream.spec.frame_type & 0x80:
            return delta_frame(stream.kind, last_ns, stream.spec.frame_type, values)
        return raw_frame(stream.kind, last_ns, stream.spec.frame_type, values)

    def _can_send(self, stream: _Stream) -> bool:
        return self._link_takes(self.data) and stream.started

    def _sendable(self, stream: _Stream, _out: Outgoing) -> bool:
        return self._can_send(stream)

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
        kind, rate_hz = stream.kind, stream.rate_hz
        if kind == MeasurementType.ECG:
            return np.round(synthetic_ecg_uv(rate_hz, SIGNAL_LOOP_S, self.seed)).astype(np.int64)
        motion = self._motion(rate_hz)
        if kind == MeasurementType.ACC:
            physical = np.clip(motion.acc_dist_g, -stream.range_value, stream.range_value) * 1000.0  # mG
            lsb = stream.factor if stream.spec.frame_type & 0x80 else 1.0
        else:
            physical = np.clip(motion.gyr_dist_dps, -stream.range_value, stream.range_value)
            lsb = stream.factor
        return np.clip(np.round(physical / lsb), -32768, 32767).astype(np.int64)

    def _motion(self, rate_hz: float) -> MotionRecording:
        """The synthetic knee motion at ``rate_hz``, generated once per rate."""
        if rate_hz not in self._motion_by_rate_hz:
            self._motion_by_rate_hz[rate_hz] = generate_motion(
                "knee", duration_s=SIGNAL_LOOP_S, sample_rate_hz=rate_hz, seed=self.seed
            )
        return self._motion_by_rate_hz[rate_hz]

    # -- GATT handlers ---------------------------------------------------------------------

    def _read_features(self, _connection: Connection) -> bytes:
        return bytes([0x0F, FEATURES[self.model], 0x00])

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
            return ResponseStatus.SUCCESS, settings_tlv(stream.spec.offered)
        if opcode == Opcode.STOP_MEASUREMENT:
            stream.started = False
            return ResponseStatus.SUCCESS, b""
        if stream.started:
            return ResponseStatus.ERROR_ALREADY_IN_STATE, b""
        selected, status = parse_start(stream.spec.offered, parameters)
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
