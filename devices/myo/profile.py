"""The Myo armband as a :class:`devices.base.DeviceProfile`: handshake and stream decoder.

Streams
    ``emg``: 8 channels at 200 Hz, 2 samples per notification over four characteristics in
    turn. The Myo sends no sequence number or sample counter, so the index of the
    characteristic (0..3) serves as a 2-bit sequence number: the session sees a lost
    notification and counts its 2 samples as a gap. Its limit is aliasing: a run of lost
    notifications is only known modulo 4, so 4 lost in a row look like none and 5 like 1.
    Over a radio link that keeps its connection, losses of one or two notifications are
    the common case; across a reconnect the gap is unknowable from the wire.

    ``imu``: acc (g), gyr (deg/s) and the armband's orientation quaternion at 50 Hz, one
    sample per notification, with neither sequence number nor counter: the session counts
    its samples as they arrive, so a lost IMU notification cannot be seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from devices.base import Channel, GattClient, Packet, Payload
from devices.myo.decoder import decode_emg, decode_imu, emg_characteristic_index
from devices.myo.protocol import (
    BATTERY_LEVEL_UUID,
    COMMAND_UUID,
    CONTROL_SERVICE_UUID,
    DEFAULT_LOCAL_NAME,
    EMG_DATA_UUIDS,
    EMG_SAMPLE_RATE_HZ,
    EMG_SEQ_MODULUS,
    IMU_DATA_UUID,
    IMU_SAMPLE_RATE_HZ,
    ClassifierMode,
    EmgMode,
    ImuMode,
    SleepMode,
    set_mode_command,
    set_sleep_mode_command,
)
from monitor.types import SensorKind

EMG_CHANNELS = (Channel("emg", SensorKind.EMG, slice(None)),)
# Columns of an IMU packet: acc x y z (g), gyr x y z (deg/s), quaternion w x y z.
IMU_CHANNELS = (
    Channel("acc", SensorKind.ACC, slice(0, 3)),
    Channel("gyr", SensorKind.GYR, slice(3, 6)),
    Channel("quat", SensorKind.QUAT, slice(6, 10)),
)
_IMU_UUID = IMU_DATA_UUID.lower()


class MyoStreamDecoder:
    """Stateless: each notification is decoded on its own.

    Parameters
    ----------
    quaternion : bool
        Also give the armband's orientation quaternion as a ``quat`` Frame.
    """

    def __init__(self, quaternion: bool = True) -> None:
        self._imu_channels = IMU_CHANNELS if quaternion else IMU_CHANNELS[:2]

    def decode(self, uuid: str, payload: Payload) -> Sequence[Packet]:
        """One Packet per notification; raises a :class:`devices.myo.decoder.DecodeError`."""
        key = uuid.lower()
        if key == _IMU_UUID:
            imu = decode_imu(payload)
            samples = np.concatenate([imu.acc_g, imu.gyr_dps, imu.quaternion])[np.newaxis, :]
            return (Packet("imu", IMU_SAMPLE_RATE_HZ, samples, self._imu_channels),)
        index = emg_characteristic_index(key)  # UnknownCharacteristicError for any other
        return (
            Packet(
                "emg",
                EMG_SAMPLE_RATE_HZ,
                decode_emg(payload),
                EMG_CHANNELS,
                seq=index,
                seq_modulus=EMG_SEQ_MODULUS,
            ),
        )


class MyoProfile:
    """Thalmic Labs Myo armband (``myohw.h``, firmware interface 1.2)."""

    name = "myo"
    service_uuid = CONTROL_SERVICE_UUID
    stream_uuids = (*EMG_DATA_UUIDS, IMU_DATA_UUID)
    battery_uuid: str | None = BATTERY_LEVEL_UUID
    # No counter on the wire: the session counts samples, and a reconnect starts a new count.
    counts_restart_on_connect = True

    def recognises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """The advertised control service UUID; the default name if the UUID was not seen."""
        if CONTROL_SERVICE_UUID in (u.lower() for u in service_uuids):
            return True
        return local_name == DEFAULT_LOCAL_NAME

    async def start(self, client: GattClient) -> MyoStreamDecoder:
        """Keep the armband awake, then stream raw EMG and IMU data with the classifier off.

        Never-sleep first: otherwise a still limb (a sleeping patient) puts the armband to
        sleep and the stream stops. Raw rather than filtered EMG: the detector notches
        mains itself, and the filtered mode's processing is undocumented.
        """
        never_sleep = set_sleep_mode_command(SleepMode.NEVER_SLEEP)
        await client.write_gatt_char(COMMAND_UUID, never_sleep, response=True)
        mode = set_mode_command(EmgMode.SEND_EMG_RAW, ImuMode.SEND_DATA, ClassifierMode.DISABLED)
        await client.write_gatt_char(COMMAND_UUID, mode, response=True)
        return MyoStreamDecoder()

    async def stop(self, client: GattClient) -> None:
        """Stop both streams and let the armband sleep again when idle."""
        off = set_mode_command(EmgMode.NONE, ImuMode.NONE, ClassifierMode.DISABLED)
        await client.write_gatt_char(COMMAND_UUID, off, response=True)
        await client.write_gatt_char(COMMAND_UUID, set_sleep_mode_command(SleepMode.NORMAL), response=True)


PROFILE = MyoProfile()
