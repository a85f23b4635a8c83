"""Emulated Myo armband: a bumble GATT server speaking the armband's published protocol.

Built from ``myohw.h`` (thalmiclabs/myo-bluetooth), not from :mod:`devices.myo.decoder`: the
services and characteristics of ``myohw_services`` plus the standard battery service, the
command characteristic (``myohw_command_t`` with its header and payload size), and streams
packed here with :mod:`struct` in the header's layouts:

- EMG (raw or filtered mode): 200 Hz, 8 int8 channels, two samples per notification,
  100 notifications/s sent on EmgData0..3 in turn;
- IMU (data mode): 50 Hz, one ``myohw_imu_data_t`` (10 little-endian int16) per notification.

Streams start when a set-mode command enables them and stop when it disables them or the
link drops (the armband turns EMG off on disconnection, developer blog "#MyoCraft: EMG in
the Bluetooth Protocol"). Both streams start together at the set-mode command, sample 0
of each at that instant; the Myo sends no sample counter, so this is an assumption the
collector's shared clock relies on (see ``devices/myo/README.md``).

Faults come as JSON lines on stdin, those of :mod:`emulators.base` with two differences:
a packet fault takes the EMG stream's notifications unless it says ``"stream": "imu"``, and
the armband has no sequence number to jump, so notifications are skipped by::

    {"fault": "skip", "notifications": 3}      skip N notifications (produced, never sent)

A ``short`` notification is cut to half, a ``corrupt`` one gets a stray extra byte.

Run: ``python -m emulators.myo --hci tcp-client:127.0.0.1:PORT --address
F1:00:00:00:00:01 --stats /tmp/s.json``. It prints ``ready`` once advertising, and writes
the stats file (ground truth: sent samples per stream, true UTC of each stream's sample 0,
the spasms of the synthetic EMG) on SIGTERM and on ``{"cmd": "stats"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import struct
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import (
    GATT_BATTERY_LEVEL_CHARACTERISTIC,
    GATT_BATTERY_SERVICE,
    Characteristic,
    CharacteristicValue,
    Service,
)

from devices.myo.protocol import (
    CLASSIFIER_EVENT_UUID,
    CLASSIFIER_SERVICE_UUID,
    COMMAND_UUID,
    CONTROL_SERVICE_UUID,
    EMG_DATA_UUIDS,
    EMG_MV_PER_COUNT,
    EMG_SERVICE_UUID,
    FIRMWARE_VERSION_UUID,
    IMU_DATA_UUID,
    IMU_SERVICE_UUID,
    INFO_UUID,
    MOTION_EVENT_UUID,
    CommandOpcode,
    EmgMode,
    ImuMode,
    SleepMode,
)
from emulators.base import EmulatedWearable, Outgoing, StreamStats, sleep_until_ns
from emulators.harness import add_common_arguments, serve
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S

# Rates and layouts as myohw.h gives them (MYOHW_EMG_DEFAULT_STREAMING_RATE,
# MYOHW_DEFAULT_IMU_SAMPLE_RATE, myohw_emg_data_t, myohw_imu_data_t, MYOHW_*_SCALE).
EMG_RATE_HZ = 200.0
IMU_RATE_HZ = 50.0
EMG_PACK = struct.Struct("<16b")  # int8 sample1[8], sample2[8]
IMU_PACK = struct.Struct("<10h")  # orientation w x y z, accelerometer[3], gyroscope[3]
ORIENTATION_SCALE = 16384.0
ACCELEROMETER_SCALE = 2048.0  # per g
GYROSCOPE_SCALE = 32768.0 / 2000.0  # per deg/s: ±2000 deg/s full scale (see devices/myo/protocol.py)
EMG_STREAMING_MODES = (EmgMode.SEND_EMG, EmgMode.SEND_EMG_RAW)
IMU_STREAMING_MODES = (ImuMode.SEND_DATA, ImuMode.SEND_ALL, ImuMode.SEND_RAW)
FIRMWARE = struct.pack("<4H", 1, 5, 1970, 2)  # myohw_fw_version_t: 1.5.1970, REV-D hardware
SIGNAL_LOOP_S = 60.0  # synthetic physiology is generated once and replayed in a loop

# Synthetic EMG as the armband's dry electrodes see it: a resting floor of 4 counts RMS
# (40 µV at the assumed scale; a Myo at rest reads a few counts), spasms 14 dB above it and
# at most twice that, so strong ones come near (not far beyond) the int8 range. Nearer one
# count, int8 rounding repeats samples and the detector's flat-line test (any envelope
# sample whose raw steps are all zero) starts to mask bursts and baseline blocks: at 2
# counts it found 60 of 81 spasms where the unrounded signal gives 81 (devices/myo/README.md).
MYO_EMG_SCENARIO: dict[str, Any] = {
    "noise_rms_mv": 0.04,
    "snr_db": 14.0,
    "intensity_span": 2.0,
    "spasms_per_min": 2.0,
    "mains_mv": 0.01,
    "wander_mv": 0.0,  # the armband's front end is AC-coupled
    "motion_spikes_per_min": 0.0,
    "electrode_off_per_hour": 0.0,
    "impedance_drift": 0.0,
    "full_scale_mv": 127 * EMG_MV_PER_COUNT,
}


@dataclass
class MyoStreamStats(StreamStats):
    """Ground truth of one stream, as notified: counted in notifications, and its starts."""

    # Each start of the stream: its first sample index and that sample's true UTC, ns.
    segments: list[dict[str, int]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The stats file's form: the armband sends notifications, not numbered packets."""
        return {key.replace("_packets", "_notifications"): value for key, value in asdict(self).items()}


@dataclass
class _Stream:
    name: str  # "EMG" or "IMU"
    rate_hz: float
    samples_per_notification: int
    encode: Callable[[npt.NDArray[Any]], bytes]
    raw: npt.NDArray[Any]
    characteristics: list[Characteristic[bytes]]
    running: asyncio.Event = field(default_factory=asyncio.Event)
    generation: int = 0  # bumped at every start and stop: a sleeping producer sees it changed
    counter: int = 0  # index of the next sample
    notification: int = 0  # index of the next notification (EMG: its characteristic is this mod 4)
    segment_counter: int = 0
    segment_t0_ns: int = 0
    stats: MyoStreamStats = field(default_factory=MyoStreamStats)
    outbox: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)

    def __post_init__(self) -> None:
        self.stats.rate_hz = self.rate_hz


class MyoArmband(EmulatedWearable):
    """One emulated armband on a bumble host; see the module docstring for faults."""

    # As myo-raw and pyomyo match it: AD type 0x06 with the control service UUID.
    ADVERTISED_SERVICES = (
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        UUID(CONTROL_SERVICE_UUID).to_bytes(),
    )
    SKIP_ORDER = ("skip", "notifications")
    PACKET_STREAMS = ("emg", "imu")
    DEFAULT_FAULT_STREAM = "emg"

    def __init__(self, device: Device, args: argparse.Namespace) -> None:
        super().__init__(device, args)
        self.emg_mode = EmgMode.NONE
        self.imu_mode = ImuMode.NONE
        self.sleep_mode = SleepMode.NORMAL
        self.commands: list[str] = []  # hex of every command write, in order
        emg_counts, imu_counts, self.spasms = synthetic_signals(args.seed)
        notify = Characteristic.Properties.NOTIFY
        emg_chars: list[Characteristic[bytes]] = [
            Characteristic(uuid, notify, Characteristic.READABLE, b"") for uuid in EMG_DATA_UUIDS
        ]
        imu_char: Characteristic[bytes] = Characteristic(IMU_DATA_UUID, notify, Characteristic.READABLE, b"")
        self.emg = _Stream("EMG", EMG_RATE_HZ, 2, _pack_emg, emg_counts, emg_chars)
        self.imu = _Stream("IMU", IMU_RATE_HZ, 1, _pack_imu, imu_counts, [imu_char])
        self._track_subscriptions(*emg_chars, imu_char)
        battery = self._battery_characteristic(GATT_BATTERY_LEVEL_CHARACTERISTIC)
        indicate = Characteristic.Properties.INDICATE
        device.add_services(
            [
                Service(
                    CONTROL_SERVICE_UUID,
                    [
                        Characteristic(
                            INFO_UUID, Characteristic.Properties.READ, Characteristic.READABLE, _fw_info()
                        ),
                        Characteristic(
                            FIRMWARE_VERSION_UUID,
                            Characteristic.Properties.READ,
                            Characteristic.READABLE,
                            FIRMWARE,
                        ),
                        Characteristic(
                            COMMAND_UUID,
                            Characteristic.Properties.WRITE,
                            Characteristic.WRITEABLE,
                            CharacteristicValue(write=self._on_command),
                        ),
                    ],
                ),
                Service(
                    IMU_SERVICE_UUID,
                    [imu_char, Characteristic(MOTION_EVENT_UUID, indicate, Characteristic.READABLE, b"")],
                ),
                Service(
                    CLASSIFIER_SERVICE_UUID,
                    [Characteristic(CLASSIFIER_EVENT_UUID, indicate, Characteristic.READABLE, b"")],
                ),
                Service(EMG_SERVICE_UUID, list(emg_chars)),
                Service(GATT_BATTERY_SERVICE, [battery]),
            ]
        )

    # -- the base's hooks ------------------------------------------------------------------

    def _loops(self) -> list[Coroutine[Any, Any, None]]:
        streams = (self.emg, self.imu)
        producers = [self._produce(stream) for stream in streams]
        senders = [
            self._notify_in_order(stream.outbox, functools.partial(self._sendable, stream))
            for stream in streams
        ]
        return [*producers, *senders]

    def ground_truth(self) -> tuple[dict[str, Any], dict[str, Any]]:
        first = self.emg.stats.segments[0]["t0_ns"] if self.emg.stats.segments else 0
        truth = {
            "t0_ns": first,
            "emg_mv_per_count": EMG_MV_PER_COUNT,
            "loop_s": SIGNAL_LOOP_S,
            "spasms": self.spasms,
        }
        state = {
            "emg_mode": int(self.emg_mode),
            "imu_mode": int(self.imu_mode),
            "sleep_mode": int(self.sleep_mode),
            "commands": self.commands,
        }
        streams = {s.name: s.stats.as_json() for s in (self.emg, self.imu)}
        return truth, {"streams": streams, "state": state}

    def _corrupt(self, payload: bytes) -> bytes:
        return payload + b"\x00"

    def _link_lost(self) -> None:
        # The armband turns its streams off when the link goes; a new central sets the mode again.
        self.emg_mode, self.imu_mode = EmgMode.NONE, ImuMode.NONE
        self._set_running(self.emg, False)
        self._set_running(self.imu, False)

    # -- streaming -------------------------------------------------------------------------

    def _true_time_ns(self, stream: _Stream, counter: int) -> int:
        """True UTC of sample ``counter``: the armband's crystal runs ``drift_ppm`` fast."""
        elapsed = (
            (counter - stream.segment_counter) * NS_PER_S / (stream.rate_hz * (1 + self.drift_ppm * 1e-6))
        )
        return stream.segment_t0_ns + round(elapsed)

    def _set_running(self, stream: _Stream, running: bool) -> None:
        if running == stream.running.is_set():
            return
        stream.generation += 1
        if running:
            stream.segment_counter, stream.segment_t0_ns = stream.counter, time.time_ns()
            stream.stats.segments.append({"first_counter": stream.counter, "t0_ns": stream.segment_t0_ns})
            stream.running.set()
        else:
            stream.running.clear()

    async def _produce(self, stream: _Stream) -> None:
        n = stream.samples_per_notification
        while True:
            await stream.running.wait()
            generation = stream.generation
            last_ns = self._true_time_ns(stream, stream.counter + n - 1)
            await sleep_until_ns(last_ns)
            if stream.generation != generation:  # stopped (and maybe restarted) meanwhile
                continue
            index = np.arange(stream.counter, stream.counter + n) % stream.raw.shape[0]
            payload = stream.encode(stream.raw[index])
            characteristic = stream.characteristics[stream.notification % len(stream.characteristics)]
            packet = Outgoing(last_ns, characteristic, payload, stream.counter, n, stream.stats)
            sendable = self._link_takes(characteristic)
            self._produced(stream.outbox, packet, stream.name.lower(), stream.stats, sendable)
            stream.counter += n
            stream.notification += 1

    def _sendable(self, stream: _Stream, out: Outgoing) -> bool:
        return self._link_takes(out.characteristic) and stream.running.is_set()

    # -- GATT handlers ---------------------------------------------------------------------

    def _on_command(self, _connection: Connection, value: bytes) -> None:
        """``myohw_command_t``: a 2-byte header (command, payload_size), then the payload."""
        self.commands.append(bytes(value).hex())
        if len(value) < 2 or len(value) != 2 + value[1]:
            return  # malformed: the armband ignores it
        opcode, payload = value[0], value[2:]
        if opcode == CommandOpcode.SET_MODE and len(payload) == 3:
            self.emg_mode = EmgMode(payload[0]) if payload[0] in EmgMode._value2member_map_ else EmgMode.NONE
            self.imu_mode = ImuMode(payload[1]) if payload[1] in ImuMode._value2member_map_ else ImuMode.NONE
            self._set_running(self.emg, self.emg_mode in EMG_STREAMING_MODES)
            self._set_running(self.imu, self.imu_mode in IMU_STREAMING_MODES)
        elif opcode == CommandOpcode.SET_SLEEP_MODE and len(payload) == 1 and payload[0] in (0, 1):
            self.sleep_mode = SleepMode(payload[0])
        # vibrate, unlock, user action, deep sleep: accepted and recorded only


def _pack_emg(counts: npt.NDArray[Any]) -> bytes:
    """``myohw_emg_data_t``: sample 1's 8 channels, then sample 2's."""
    return EMG_PACK.pack(*(int(v) for v in counts.reshape(-1)))


def _pack_imu(counts: npt.NDArray[Any]) -> bytes:
    """``myohw_imu_data_t``: w x y z, acc x y z, gyr x y z as little-endian int16."""
    return IMU_PACK.pack(*(int(v) for v in counts.reshape(-1)))


def _fw_info() -> bytes:
    """``myohw_fw_info_t`` (20 bytes): serial, unlock pose, classifier fields, SKU 1 (black)."""
    return struct.pack("<6sHBBBBB7x", bytes.fromhex("0badc0ffee01"), 0x0005, 0, 0, 0, 0, 1)


def synthetic_signals(seed: int) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int16], list[dict[str, Any]]]:
    """EMG int8 counts (200 Hz, 8 ch), IMU int16 counts (50 Hz) and the true spasms (loop s)."""
    synthetic = generate_emg(
        EmgScenario(
            sample_rate_hz=EMG_RATE_HZ, channels=8, duration_s=SIGNAL_LOOP_S, seed=seed, **MYO_EMG_SCENARIO
        )
    )
    emg = np.clip(np.round(synthetic.emg_mv / EMG_MV_PER_COUNT), -128, 127).astype(np.int8)
    motion = generate_motion("elbow", duration_s=SIGNAL_LOOP_S, sample_rate_hz=IMU_RATE_HZ, seed=seed)
    imu = np.hstack(
        [
            motion.quat_dist * ORIENTATION_SCALE,
            motion.acc_dist_g * ACCELEROMETER_SCALE,
            motion.gyr_dist_dps * GYROSCOPE_SCALE,
        ]
    )
    imu_counts = np.clip(np.round(imu), -32768, 32767).astype(np.int16)
    spasms = [
        {"onset_s": s.onset_s, "offset_s": s.offset_s, "channel": s.channel, "kind": s.kind}
        for s in synthetic.spasms
    ]
    return emg, imu_counts, spasms


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Emulated Myo armband (bumble GATT server)")
    add_common_arguments(parser, "Myo")  # the armband's default name
    parser.set_defaults(seed=19)
    args = parser.parse_args(argv)
    serve(args, args.name, MyoArmband)


if __name__ == "__main__":
    main()
