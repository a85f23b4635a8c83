"""The Thalmic Labs Myo armband: wire protocol, pure decoders and its :class:`devices.base.DeviceProfile`."""

from devices.myo.decoder import (
    DecodeError,
    EmgLengthError,
    ImuLengthError,
    ImuSample,
    UnknownCharacteristicError,
    decode_emg,
    decode_imu,
    emg_characteristic_index,
)
from devices.myo.profile import PROFILE, MyoProfile, MyoStreamDecoder

__all__ = [
    "PROFILE",
    "DecodeError",
    "EmgLengthError",
    "ImuLengthError",
    "ImuSample",
    "MyoProfile",
    "MyoStreamDecoder",
    "UnknownCharacteristicError",
    "decode_emg",
    "decode_imu",
    "emg_characteristic_index",
]
