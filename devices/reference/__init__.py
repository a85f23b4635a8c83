"""The reference open wearable: GATT profile, pure decoder and emulator (``docs/protocol.md``)."""

from devices.reference.decoder import (
    BadHeaderError,
    DecodeError,
    LengthMismatchError,
    Packet,
    TruncatedPacketError,
    UnknownStreamError,
    UnsupportedVersionError,
    decode,
)
from devices.reference.profile import (
    BATTERY_UUID,
    CONTROL_UUID,
    EMG_UUID,
    IMU_UUID,
    INFO_UUID,
    SERVICE_UUID,
    DeviceInfo,
    StreamType,
    encode_packet,
)

__all__ = [
    "BATTERY_UUID",
    "CONTROL_UUID",
    "EMG_UUID",
    "IMU_UUID",
    "INFO_UUID",
    "SERVICE_UUID",
    "BadHeaderError",
    "DecodeError",
    "DeviceInfo",
    "LengthMismatchError",
    "Packet",
    "StreamType",
    "TruncatedPacketError",
    "UnknownStreamError",
    "UnsupportedVersionError",
    "decode",
    "encode_packet",
]
