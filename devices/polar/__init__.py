"""Polar H10 and Verity Sense over the Polar Measurement Data (PMD) service.

``profile`` holds the UUIDs, constants, control point encoders and parsers; ``decoder`` the
pure data frame decoder; ``plugin`` the :class:`devices.base.DeviceProfile`; ``emulator`` a
bumble GATT server speaking the same protocol (written from the specification, not from
the decoder). See ``README.md``.
"""

from devices.polar.decoder import (
    DeltaBlockError,
    LengthMismatchError,
    NonFiniteSampleError,
    PmdFrame,
    TruncatedFrameError,
    UnsupportedFrameTypeError,
    UnsupportedMeasurementError,
    decode_frame,
)
from devices.polar.plugin import PROFILE, PolarProfile, PolarStreamDecoder, UnexpectedStreamError
from devices.polar.profile import (
    CONTROL_POINT_UUID,
    DATA_UUID,
    SERVICE_UUID,
    DecodeError,
    MeasurementType,
    PolarCommandError,
    PolarDeviceError,
    PolarResponseError,
    SettingType,
)

__all__ = [
    "CONTROL_POINT_UUID",
    "DATA_UUID",
    "PROFILE",
    "SERVICE_UUID",
    "DecodeError",
    "DeltaBlockError",
    "LengthMismatchError",
    "MeasurementType",
    "NonFiniteSampleError",
    "PmdFrame",
    "PolarCommandError",
    "PolarDeviceError",
    "PolarProfile",
    "PolarResponseError",
    "PolarStreamDecoder",
    "SettingType",
    "TruncatedFrameError",
    "UnexpectedStreamError",
    "UnsupportedFrameTypeError",
    "UnsupportedMeasurementError",
    "decode_frame",
]
