"""The reference open wearable (``docs/protocol.md``): wire protocol, pure decoder and its
:class:`devices.base.DeviceProfile`."""

from devices.reference.decoder import (
    BadClockValueError,
    BadHeaderError,
    DecodeError,
    LengthMismatchError,
    Packet,
    TruncatedPacketError,
    UnknownStreamError,
    UnsupportedVersionError,
    decode,
    decode_device_clock_ns,
)
from devices.reference.profile import PROFILE, ReferenceProfile, ReferenceStreamDecoder
from devices.reference.protocol import (
    BATTERY_UUID,
    CLOCK_UUID,
    CONTROL_UUID,
    EMG_UUID,
    IMU_UUID,
    INFO_UUID,
    SERVICE_UUID,
    DeviceInfo,
    StreamType,
    encode_device_clock,
    encode_packet,
)

__all__ = [
    "BATTERY_UUID",
    "CLOCK_UUID",
    "CONTROL_UUID",
    "EMG_UUID",
    "IMU_UUID",
    "INFO_UUID",
    "PROFILE",
    "SERVICE_UUID",
    "BadClockValueError",
    "BadHeaderError",
    "DecodeError",
    "DeviceInfo",
    "LengthMismatchError",
    "Packet",
    "ReferenceProfile",
    "ReferenceStreamDecoder",
    "StreamType",
    "TruncatedPacketError",
    "UnknownStreamError",
    "UnsupportedVersionError",
    "decode",
    "decode_device_clock_ns",
    "encode_device_clock",
    "encode_packet",
]
