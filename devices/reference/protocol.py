"""Wire protocol of the reference open wearable: UUIDs, constants, encoders (bytes only).

Everything here is specified in ``docs/protocol.md``; the constants below are the
normative values. All multi-byte fields are little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

# 128-bit UUIDs of our own (randomly drawn base, docs/protocol.md §1).
_UUID_BASE = "5e5a{:04x}-7c1d-4f3b-9a2e-3b8c6d1f0e42"
SERVICE_UUID = _UUID_BASE.format(0x0001)
EMG_UUID = _UUID_BASE.format(0x0002)  # notify: EMG packets
IMU_UUID = _UUID_BASE.format(0x0003)  # notify: IMU packets
CONTROL_UUID = _UUID_BASE.format(0x0004)  # write with response: commands
INFO_UUID = _UUID_BASE.format(0x0005)  # read: DeviceInfo
BATTERY_UUID = _UUID_BASE.format(0x0006)  # read + notify: u8 percent
CLOCK_UUID = _UUID_BASE.format(0x0007)  # read: u64 device time, µs since boot (optional, §6.2)

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBHIBBBB")  # version, stream, seq, counter, n, channels, rate code, scale code
HEADER_SIZE_BYTES = HEADER.size  # 12
SAMPLE_SIZE_BYTES = 2  # int16 little-endian
ATT_MTU_ASSUMED = 247  # BLE 4.2+ data length extension: one packet per LL PDU
ATT_NOTIFY_OVERHEAD_BYTES = 3  # ATT opcode + handle (Core spec Vol 3 Part F 3.4.7.1)
SEQ_MODULUS = 1 << 16
COUNTER_MODULUS = 1 << 32
DEVICE_CLOCK = struct.Struct("<Q")  # device time in µs since boot, on the sample crystal (§6.2)
NS_PER_US = 1000

# MTU fallback (docs/protocol.md §7): notifications per second a stream may send once its
# packets shrink. 250/s is about two PDUs per connection event at the shortest connection
# interval, 7.5 ms (Bluetooth Core 5.4, Vol 6 Part B §4.5.1), shared by the streams.
EMG_MAX_NOTIFICATIONS_PER_S = 250.0
IMU_MAX_NOTIFICATIONS_PER_S = 50.0  # per IMU stream (IMU, or ACC and GYR each)


class StreamType(IntEnum):
    """Stream type byte of a packet; fixes channel layout and unit."""

    EMG = 1  # 1..8 channels, mV
    IMU = 2  # acc x y z (g), gyr x y z (deg/s)
    ACC = 3  # acc x y z (g); MTU-23 fallback
    GYR = 4  # gyr x y z (deg/s); MTU-23 fallback


class Command(IntEnum):
    """Control point opcodes (first byte of a control point write)."""

    START = 0x01  # u8 stream mask (bit 0 EMG, bit 1 IMU)
    STOP = 0x02  # u8 stream mask
    SET_RATE = 0x03  # u8 stream type, u8 rate code
    SET_MAX_PAYLOAD = 0x04  # u16 largest notification payload the central accepts, bytes


STREAM_MASK_EMG = 0x01
STREAM_MASK_IMU = 0x02

# Rate code → Hz (docs/protocol.md §3).
RATE_HZ: dict[int, float] = {0: 1000.0, 1: 500.0, 2: 250.0, 3: 200.0, 4: 100.0, 5: 50.0, 6: 25.0}
RATE_CODE: dict[float, int] = {hz: code for code, hz in RATE_HZ.items()}

# EMG scale code k: 1 LSB = 0.5 µV · 2**k, so code 0 spans ±16.4 mV (sEMG rarely exceeds 5 mV).
EMG_LSB_MV_BASE = 0.5e-3
# IMU scale code k: accelerometer ±2·2**k g, gyroscope ±250·2**k deg/s full scale (MEMS IMU ranges).
ACC_FULL_SCALE_G_BASE = 2.0
GYR_FULL_SCALE_DPS_BASE = 250.0
SCALE_CODES = range(4)
INT16_FULL_SCALE = 32768.0

EMG_MAX_CHANNELS = 8
CHANNELS: dict[StreamType, range] = {
    StreamType.EMG: range(1, EMG_MAX_CHANNELS + 1),
    StreamType.IMU: range(6, 7),
    StreamType.ACC: range(3, 4),
    StreamType.GYR: range(3, 4),
}


def lsb_per_channel(stream: StreamType, channels: int, scale_code: int) -> npt.NDArray[np.float64]:
    """Physical value of one LSB for each channel, shape (channels,), in mV, g or deg/s."""
    acc_lsb_g = ACC_FULL_SCALE_G_BASE * 2**scale_code / INT16_FULL_SCALE
    gyr_lsb_dps = GYR_FULL_SCALE_DPS_BASE * 2**scale_code / INT16_FULL_SCALE
    if stream is StreamType.EMG:
        return np.full(channels, EMG_LSB_MV_BASE * 2**scale_code)
    if stream is StreamType.IMU:
        return np.array([acc_lsb_g] * 3 + [gyr_lsb_dps] * 3)
    if stream is StreamType.ACC:
        return np.full(3, acc_lsb_g)
    return np.full(3, gyr_lsb_dps)


def max_samples_per_packet(max_payload_bytes: int, channels: int) -> int:
    """How many samples of ``channels`` int16 fit a notification of ``max_payload_bytes``."""
    return max(0, (max_payload_bytes - HEADER_SIZE_BYTES) // (SAMPLE_SIZE_BYTES * channels))


def fallback_rate_hz(
    default_rate_hz: float, samples_per_packet: int, max_notifications_per_s: float
) -> float:
    """Highest coded rate ≤ ``default_rate_hz`` that sends ≤ ``max_notifications_per_s`` packets/s.

    Parameters
    ----------
    default_rate_hz : float
        The stream's configured rate, Hz (a value of :data:`RATE_HZ`).
    samples_per_packet : int
        Samples that fit one notification (:func:`max_samples_per_packet`), ≥ 1.
    max_notifications_per_s : float
        The stream's notification budget (docs/protocol.md §7).

    Examples
    --------
    >>> fallback_rate_hz(1000.0, 1, EMG_MAX_NOTIFICATIONS_PER_S), fallback_rate_hz(1000.0, 25, 250.0)
    (250.0, 1000.0)
    """
    ceiling_hz = min(default_rate_hz, max_notifications_per_s * samples_per_packet)
    return max((hz for hz in RATE_HZ.values() if hz <= ceiling_hz), default=min(RATE_HZ.values()))


def encode_device_clock(device_us: int) -> bytes:
    """Value of the clock characteristic: device time in µs since boot, u64 (docs/protocol.md §6.2)."""
    return DEVICE_CLOCK.pack(device_us % (1 << 64))


def encode_packet(
    stream: StreamType,
    seq: int,
    counter: int,
    samples: npt.NDArray[np.int16],
    rate_code: int,
    scale_code: int,
) -> bytes:
    """Encode one stream packet (the inverse of :func:`devices.reference.decode`).

    Parameters
    ----------
    stream : StreamType
        Stream type byte.
    seq : int
        Packet sequence number, taken modulo 2**16.
    counter : int
        Device sample counter of the first sample, taken modulo 2**32.
    samples : ndarray of int16, shape (n, channels)
        Raw samples; ``n`` from 1 to 255.
    rate_code, scale_code : int
        Codes of the sample rate and full scale (docs/protocol.md §3).

    Examples
    --------
    >>> import numpy as np
    >>> encode_packet(StreamType.EMG, 1, 0, np.zeros((1, 1), np.int16), 0, 0).hex()
    '0101010000000000010100000000'
    """
    n, channels = samples.shape
    header = HEADER.pack(
        PROTOCOL_VERSION,
        int(stream),
        seq % SEQ_MODULUS,
        counter % COUNTER_MODULUS,
        n,
        channels,
        rate_code,
        scale_code,
    )
    return header + samples.astype("<i2", copy=False).tobytes()


_DEVICE_INFO = struct.Struct("<BBBBBBBBBx")  # docs/protocol.md §4, the first 10 bytes
_BOOT_ID = struct.Struct("<I")  # u32 after them, since the boot identifier (§4)
NO_BOOT_ID = 0  # the value a device without a boot identifier would send


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Content of the device information characteristic (14 bytes, docs/protocol.md §4).

    ``boot_id`` changes at every boot of the wearable (None: firmware that sends the
    10-byte form without it, or sends 0). The gateway reads it at each connection: a new
    value says the sample counters restarted, however few samples they have counted.

    Examples
    --------
    >>> info = DeviceInfo((0, 1, 0), 4, 0, 0, 4, 3, boot_id=0xC0FFEE)
    >>> len(info.to_bytes()), DeviceInfo.from_bytes(info.to_bytes()[:10]).boot_id
    (14, None)
    """

    firmware: tuple[int, int, int]
    emg_channels: int
    emg_rate_code: int
    emg_scale_code: int
    imu_rate_code: int
    imu_scale_code: int
    protocol_version: int = PROTOCOL_VERSION
    boot_id: int | None = None

    def to_bytes(self) -> bytes:
        info = _DEVICE_INFO.pack(
            self.protocol_version,
            *self.firmware,
            self.emg_channels,
            self.emg_rate_code,
            self.emg_scale_code,
            self.imu_rate_code,
            self.imu_scale_code,
        )
        return info + _BOOT_ID.pack(NO_BOOT_ID if self.boot_id is None else self.boot_id)

    @classmethod
    def from_bytes(cls, payload: bytes) -> DeviceInfo:
        """Parse the characteristic (14 bytes, or the 10 of firmware before the boot
        identifier); raises ``ValueError`` on another length."""
        if len(payload) not in (_DEVICE_INFO.size, _DEVICE_INFO.size + _BOOT_ID.size):
            raise ValueError(
                f"device info must be {_DEVICE_INFO.size + _BOOT_ID.size} (or {_DEVICE_INFO.size}) bytes,"
                f" got {len(payload)}"
            )
        version, major, minor, patch, channels, emg_rate, emg_scale, imu_rate, imu_scale = (
            _DEVICE_INFO.unpack_from(payload)
        )
        boot_id = None
        if len(payload) > _DEVICE_INFO.size:
            boot_id = _BOOT_ID.unpack_from(payload, _DEVICE_INFO.size)[0] or None
        return cls(
            (major, minor, patch), channels, emg_rate, emg_scale, imu_rate, imu_scale, version, boot_id
        )

    @property
    def emg_rate_hz(self) -> float:
        return RATE_HZ[self.emg_rate_code]

    @property
    def imu_rate_hz(self) -> float:
        return RATE_HZ[self.imu_rate_code]


def command(opcode: Command, *args: int) -> bytes:
    """Encode a control point write: opcode then its arguments (docs/protocol.md §5)."""
    if opcode in (Command.START, Command.STOP):
        return struct.pack("<BB", opcode, *args)
    if opcode is Command.SET_RATE:
        return struct.pack("<BBB", opcode, *args)
    return struct.pack("<BH", opcode, *args)
