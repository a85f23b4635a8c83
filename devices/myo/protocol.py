"""Wire protocol of the Thalmic Labs Myo armband: UUIDs, constants, command encoders (bytes only).

Source of every value here, unless a comment says otherwise: ``myohw.h`` of the
thalmiclabs/myo-bluetooth repository (firmware interface 1.2), the Bluetooth protocol
Thalmic Labs published for the armband. Cross-checked against open-source readers of it:
dzhu/myo-raw (``myo_raw.py``), PerlinWarp/pyomyo (``src/pyomyo/pyomyo.py``) and
Alvipe/Open-Myo (issue #5: "EMG data range"), against Thalmic's developer blog post
"#MyoCraft: EMG in the Bluetooth Protocol" (developerblog.myo.com), and against the libmyo
frame published in logotype/myodaemon's README (orientation, accelerometer and gyroscope
values of a real armband). Where the header and that evidence disagree (the byte order
remark, the gyroscope scale) the constant below says which was chosen and why.

UUIDs
    Every Myo UUID is ``d506XXXX-a904-deb9-4748-2c7f4a124842`` with a 16-bit short UUID in
    place of ``XXXX`` (``MYO_SERVICE_BASE_UUID``, written in the header as little-endian
    bytes ``42 48 12 4a … 00 00 06 d5``). Battery is the standard Battery Service 0x180F,
    Battery Level 0x2A19 (read + notify, u8 percent).

Byte order
    The header says "All values are big-endian". Every working reader decodes the IMU
    fields little-endian (pyomyo ``struct.unpack('<10h')``, Open-Myo ``'<10h'``, myo-raw
    native order on x86), and only little-endian gives the 1 g = 2048 LSB of gravity at
    rest; the armband's nRF51822 (Cortex-M0) is little-endian and sends its packed structs
    as they lie in memory. So multi-byte fields are read little-endian here; the header's
    remark is wrong (its own UUID byte arrays are little-endian too).

Advertising
    The armband advertises its control service UUID (d5060001-…) in an AD structure of type
    0x06 (incomplete list of 128-bit service UUIDs): myo-raw and pyomyo recognise a Myo by
    exactly those 17 bytes at the end of the advertisement. Its default local name is
    "Myo"; the user may rename it (DeviceName 0x2A00 is writable), so the UUID decides.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

_UUID_BASE = "d506{:04x}-a904-deb9-4748-2c7f4a124842"  # MYO_SERVICE_BASE_UUID
_SIG_UUID_BASE = "0000{:04x}-0000-1000-8000-00805f9b34fb"  # Bluetooth SIG base UUID


def myo_uuid(short_uuid: int) -> str:
    """Full 128-bit UUID string of a Myo short UUID (``myohw_services``)."""
    return _UUID_BASE.format(short_uuid)


# myohw_services
CONTROL_SERVICE_UUID = myo_uuid(0x0001)  # ControlService; the one the armband advertises
INFO_UUID = myo_uuid(0x0101)  # MyoInfoCharacteristic: read, myohw_fw_info_t (20 bytes)
FIRMWARE_VERSION_UUID = myo_uuid(0x0201)  # FirmwareVersionCharacteristic: read, myohw_fw_version_t
COMMAND_UUID = myo_uuid(0x0401)  # CommandCharacteristic: write, myohw_command_t
IMU_SERVICE_UUID = myo_uuid(0x0002)  # ImuDataService
IMU_DATA_UUID = myo_uuid(0x0402)  # IMUDataCharacteristic: notify, myohw_imu_data_t
MOTION_EVENT_UUID = myo_uuid(0x0502)  # MotionEventCharacteristic: indicate
CLASSIFIER_SERVICE_UUID = myo_uuid(0x0003)  # ClassifierService
CLASSIFIER_EVENT_UUID = myo_uuid(0x0103)  # ClassifierEventCharacteristic: indicate
EMG_SERVICE_UUID = myo_uuid(0x0005)  # EmgDataService
# EmgData0..3Characteristic: notify, myohw_emg_data_t. The armband sends consecutive
# notifications on them in turn, 0, 1, 2, 3, 0, ... (developer blog post above), so the
# index of the characteristic is a 2-bit packet sequence number.
EMG_DATA_UUIDS = tuple(myo_uuid(short) for short in (0x0105, 0x0205, 0x0305, 0x0405))
# myohw_standard_services
BATTERY_SERVICE_UUID = _SIG_UUID_BASE.format(0x180F)
BATTERY_LEVEL_UUID = _SIG_UUID_BASE.format(0x2A19)
DEFAULT_LOCAL_NAME = "Myo"

# EMG: myohw_num_emg_sensors, MYOHW_EMG_DEFAULT_STREAMING_RATE, myohw_emg_data_t.
EMG_CHANNELS = 8
EMG_SAMPLE_RATE_HZ = 200.0
EMG_SAMPLES_PER_NOTIFICATION = 2  # sample1[8], sample2[8]
EMG_NOTIFICATION_BYTES = EMG_SAMPLES_PER_NOTIFICATION * EMG_CHANNELS  # int8 each: 16
EMG_SEQ_MODULUS = len(EMG_DATA_UUIDS)  # 4 characteristics in turn
# Raw EMG is int8 ADC counts (-128..127) and Thalmic never published the front end's gain,
# so no mV scale is documented. ASSUMPTION: 1 count = 10 µV, so full scale is ±1.28 mV, the
# range of forearm surface EMG up to a strong contraction (the armband is known to saturate
# on strong contractions). The detector's thresholds are multiples of each channel's own
# resting floor, so a constant scale error changes no detection; only the mV values of
# envelopes and event amplitudes are nominal for this device.
EMG_MV_PER_COUNT = 0.01

# IMU: myohw_imu_data_t, MYOHW_DEFAULT_IMU_SAMPLE_RATE and the MYOHW_*_SCALE constants.
IMU_SAMPLE_RATE_HZ = 50.0
IMU_FORMAT = struct.Struct("<4h3h3h")  # orientation w x y z, accelerometer x y z, gyroscope x y z
IMU_NOTIFICATION_BYTES = IMU_FORMAT.size  # 20
ORIENTATION_LSB_PER_UNIT = 16384.0  # MYOHW_ORIENTATION_SCALE: unit quaternion
ACCELEROMETER_LSB_PER_G = 2048.0  # MYOHW_ACCELEROMETER_SCALE, range ±16 g
# The header's MYOHW_GYROSCOPE_SCALE is 16.0, but its own comment gives the range as ±2000
# deg/s, i.e. 32768 / 2000 = 16.384 LSB per deg/s, and Thalmic's SDK decodes with that: the
# gyro values of the libmyo frame published in logotype/myodaemon's README (2.868652,
# -2.868652, 2.563476 deg/s) are exactly 47, -47, 42 × 2000/32768, not multiples of 1/16.
# The IMU's own ±2000 deg/s sensitivity is 16.4 LSB per deg/s (InvenSense MPU-9150, as
# teardowns report it). 16.0 would read every rate 2.4 % high.
GYROSCOPE_LSB_PER_DPS = 32768.0 / 2000.0


class CommandOpcode(IntEnum):
    """``myohw_command_t``: first byte of a write to the command characteristic."""

    SET_MODE = 0x01
    VIBRATE = 0x03
    DEEP_SLEEP = 0x04
    VIBRATE2 = 0x07
    SET_SLEEP_MODE = 0x09
    UNLOCK = 0x0A
    USER_ACTION = 0x0B


class EmgMode(IntEnum):
    """``myohw_emg_mode_t``."""

    NONE = 0x00
    SEND_EMG = 0x02  # mains interference filtered out on the armband
    SEND_EMG_RAW = 0x03  # unfiltered; disables the on-board pose classifier


class ImuMode(IntEnum):
    """``myohw_imu_mode_t``."""

    NONE = 0x00
    SEND_DATA = 0x01  # accelerometer, gyroscope and orientation
    SEND_EVENTS = 0x02
    SEND_ALL = 0x03
    SEND_RAW = 0x04


class ClassifierMode(IntEnum):
    """``myohw_classifier_mode_t``."""

    DISABLED = 0x00
    ENABLED = 0x01


class SleepMode(IntEnum):
    """``myohw_sleep_mode_t``: without NEVER_SLEEP the armband sleeps when it lies still."""

    NORMAL = 0
    NEVER_SLEEP = 1


# myohw_command_header_t is (command, payload_size); the payload sizes are the header's.
SET_MODE_PAYLOAD_BYTES = 3
SET_SLEEP_MODE_PAYLOAD_BYTES = 1


def set_mode_command(emg: EmgMode, imu: ImuMode, classifier: ClassifierMode) -> bytes:
    """``myohw_command_set_mode_t`` (5 bytes).

    Examples
    --------
    >>> set_mode_command(EmgMode.SEND_EMG_RAW, ImuMode.SEND_DATA, ClassifierMode.DISABLED).hex()
    '0103030100'
    """
    return struct.pack(
        "<5B", CommandOpcode.SET_MODE, SET_MODE_PAYLOAD_BYTES, int(emg), int(imu), int(classifier)
    )


def set_sleep_mode_command(mode: SleepMode) -> bytes:
    """``myohw_command_set_sleep_mode_t`` (3 bytes).

    Examples
    --------
    >>> set_sleep_mode_command(SleepMode.NEVER_SLEEP).hex()
    '090101'
    """
    return struct.pack("<3B", CommandOpcode.SET_SLEEP_MODE, SET_SLEEP_MODE_PAYLOAD_BYTES, int(mode))


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """``myohw_fw_version_t``: four little-endian u16 (8 bytes)."""

    major: int
    minor: int
    patch: int
    hardware_rev: int  # myohw_hardware_rev_t: 1 REV-C (alpha), 2 REV-D (retail)

    _FORMAT = struct.Struct("<4H")

    def to_bytes(self) -> bytes:
        return self._FORMAT.pack(self.major, self.minor, self.patch, self.hardware_rev)

    @classmethod
    def from_bytes(cls, payload: bytes | bytearray) -> FirmwareVersion:
        """Parse the characteristic; raises ``ValueError`` on a wrong length."""
        if len(payload) != cls._FORMAT.size:
            raise ValueError(f"firmware version must be {cls._FORMAT.size} bytes, got {len(payload)}")
        return cls(*cls._FORMAT.unpack(payload))
