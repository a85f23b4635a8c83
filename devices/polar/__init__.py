"""Polar H10 and Verity Sense over the Polar Measurement Data (PMD) service.

``pmd`` holds the PMD UUIDs, constants, control point encoders and parsers; ``psftp`` the
PS-FTP device clock read (RFC76 frames, protobuf answer); ``decoder`` the pure data frame
decoder; ``profile`` the :class:`devices.base.DeviceProfile` (:class:`PolarProfile`);
``emulator`` a bumble GATT server speaking the same protocol (written from the
specification, not from the decoder). See ``README.md``.
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
from devices.polar.pmd import (
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
from devices.polar.profile import PROFILE, PolarProfile, PolarStreamDecoder, UnexpectedStreamError

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
