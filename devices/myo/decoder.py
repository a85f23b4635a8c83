"""Pure decoders of Myo armband notifications: EMG and IMU bytes to physical units.

No I/O, no clock, no state: the same bytes always give the same arrays or the same
:class:`DecodeError` subclass. Anything else escaping these functions is a bug, and
``tests/devices/myo/test_myo_decoder.py`` fuzzes them to prove there is none.

The layouts are those of ``myohw.h`` (thalmiclabs/myo-bluetooth), read little-endian as
:mod:`devices.myo.protocol` explains:

- EMG (``myohw_emg_data_t``, 16 bytes): two consecutive samples of 8 int8 channels,
  sample 1 then sample 2, channel order as the armband's pods; × ``EMG_MV_PER_COUNT``.
- IMU (``myohw_imu_data_t``, 20 bytes): int16 orientation w, x, y, z (/16384), then
  accelerometer x, y, z (/2048 → g), then gyroscope x, y, z (/16.384 → deg/s; the
  profile explains why not the header's 16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices.base import DecodeError as BaseDecodeError
from devices.base import Payload
from devices.myo.protocol import (
    ACCELEROMETER_LSB_PER_G,
    EMG_CHANNELS,
    EMG_DATA_UUIDS,
    EMG_MV_PER_COUNT,
    EMG_NOTIFICATION_BYTES,
    EMG_SAMPLES_PER_NOTIFICATION,
    GYROSCOPE_LSB_PER_DPS,
    IMU_NOTIFICATION_BYTES,
    ORIENTATION_LSB_PER_UNIT,
)

FloatArray = npt.NDArray[np.float64]

_EMG_INDEX = {uuid: index for index, uuid in enumerate(EMG_DATA_UUIDS)}


class DecodeError(BaseDecodeError):
    """A notification is not a valid Myo EMG or IMU packet."""

    default_advice = (
        "the packet was counted and skipped; if this repeats, move the gateway closer to the "
        "armband or update its firmware with Myo Connect"
    )


class EmgLengthError(DecodeError):
    """An EMG notification is not the 16 bytes of ``myohw_emg_data_t``."""


class ImuLengthError(DecodeError):
    """An IMU notification is not the 20 bytes of ``myohw_imu_data_t``."""


class UnknownCharacteristicError(DecodeError):
    """A notification from a characteristic that carries no Myo stream."""


@dataclass(frozen=True, slots=True, eq=False)
class ImuSample:
    """One decoded IMU notification (one sample at 50 Hz).

    Attributes
    ----------
    quaternion : ndarray, shape (4,)
        Orientation as a unit quaternion w, x, y, z (the armband's own fusion).
    acc_g : ndarray, shape (3,)
        Acceleration x, y, z, g.
    gyr_dps : ndarray, shape (3,)
        Angular velocity x, y, z, deg/s.
    """

    quaternion: FloatArray
    acc_g: FloatArray
    gyr_dps: FloatArray


def decode_emg(payload: Payload) -> FloatArray:
    """Decode one notification of an EmgDataN characteristic.

    Parameters
    ----------
    payload : bytes-like
        16 bytes: sample 1 (8 × int8), then sample 2 (8 × int8).

    Returns
    -------
    ndarray, shape (2, 8)
        The two samples in time order, mV (at the assumed ``EMG_MV_PER_COUNT``).

    Raises
    ------
    EmgLengthError
        The payload is not 16 bytes long.

    Examples
    --------
    >>> decode_emg(bytes([1, 2, 3, 4, 5, 6, 7, 0x80] + [0xFF] * 8))[:, [0, 7]].tolist()
    [[0.01, -1.28], [-0.01, -0.01]]
    """
    size = len(payload)
    if size != EMG_NOTIFICATION_BYTES:
        raise EmgLengthError(f"EMG notification of {size} bytes, expected {EMG_NOTIFICATION_BYTES}")
    counts = np.frombuffer(bytes(payload), dtype=np.int8).reshape(EMG_SAMPLES_PER_NOTIFICATION, EMG_CHANNELS)
    return counts.astype(np.float64) * EMG_MV_PER_COUNT


def decode_imu(payload: Payload) -> ImuSample:
    """Decode one notification of the IMUData characteristic.

    Parameters
    ----------
    payload : bytes-like
        20 bytes: 10 little-endian int16 (orientation w x y z, acc x y z, gyr x y z).

    Returns
    -------
    ImuSample
        Quaternion (unitless), acceleration in g and angular velocity in deg/s.

    Raises
    ------
    ImuLengthError
        The payload is not 20 bytes long.

    Examples
    --------
    >>> imu = decode_imu(bytes.fromhex("0040 0000 0000 0000 0000 0000 0008 0000 0000 00f0"))
    >>> imu.quaternion.tolist(), imu.acc_g.tolist(), imu.gyr_dps.tolist()
    ([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -250.0])
    """
    size = len(payload)
    if size != IMU_NOTIFICATION_BYTES:
        raise ImuLengthError(f"IMU notification of {size} bytes, expected {IMU_NOTIFICATION_BYTES}")
    raw = np.frombuffer(bytes(payload), dtype="<i2").astype(np.float64)
    return ImuSample(
        raw[0:4] / ORIENTATION_LSB_PER_UNIT,
        raw[4:7] / ACCELEROMETER_LSB_PER_G,
        raw[7:10] / GYROSCOPE_LSB_PER_DPS,
    )


def emg_characteristic_index(uuid: str) -> int:
    """Index 0..3 of an EmgDataN characteristic: the notification's place in the rotation.

    Raises
    ------
    UnknownCharacteristicError
        ``uuid`` is not one of the four EMG characteristics.
    """
    index = _EMG_INDEX.get(uuid.lower())
    if index is None:
        raise UnknownCharacteristicError(f"{uuid} is not a Myo EMG characteristic")
    return index
