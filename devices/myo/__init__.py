"""The Thalmic Labs Myo armband: GATT profile, pure decoders, profile plugin and emulator."""

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
from devices.myo.plugin import PROFILE, MyoProfile, MyoStreamDecoder

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
