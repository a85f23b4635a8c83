"""Polar Measurement Data (PMD) service: UUIDs, constants, control point encoders and parsers.

The device clock read over PS-FTP is :mod:`devices.polar.psftp`; the profile class that
runs the handshake is :mod:`devices.polar.profile`.

Bytes only: no I/O. Everything below is read from Polar's published SDK
(github.com/polarofficial/polar-ble-sdk, Android sources under
``sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``), cited per constant as ``SDK <file>``:

- UUIDs: ``BlePMDClient.kt`` (``PMD_SERVICE``, ``PMD_CP``, ``PMD_DATA``).
- Reading the control point gives the feature bitmap: byte 1 bit ``t`` set when
  measurement type ``t`` (0..7) is offered (``PmdMeasurementType.fromByteArray``, which
  reads bytes 1 and 2 and ignores byte 0; devices put 0x0F there, and so does the emulator).
- Measurement types: ECG 0, PPG 1, ACC 2, PPI 3, GYRO 5, MAGNETOMETER 6
  (``PmdMeasurementType.kt``); the type byte's low 6 bits, the top 2 bits select online
  or offline recording (``PmdRecordingType``: online is 0).
- Opcodes: GET_MEASUREMENT_SETTINGS 1, REQUEST_MEASUREMENT_START 2, STOP_MEASUREMENT 3
  (``PmdControlPointCommand.kt``). A command is ``[opcode, type, settings...]``.
- Settings are ``[setting type, count, value × count]`` little-endian; the value width is
  per setting: SAMPLE_RATE 2, RESOLUTION 2, RANGE 2, RANGE_MILLIUNIT 4, CHANNELS 1, FACTOR 4
  bytes (``PmdSetting.kt``, ``typeToFieldSize``; CHANNELS is one byte, not two). FACTOR is an
  IEEE-754 float32, given only in the start response; it scales delta-coded samples.
- Responses arrive as indications on the control point: ``0xF0, opcode, type, status,
  more, parameters...``; ``more`` set means the parameters continue in the next indication,
  whose own parameters start at byte 5 (``PmdControlPointResponse.kt``,
  ``BlePMDClient.sendPmdCommand``). Status codes are listed in :class:`ResponseStatus`.
- A control point indication whose first byte is not 0xF0 comes from the device unasked:
  0x01 ``ONLINE_MEASUREMENT_STOPPED`` followed by the stopped types
  (``PmdControlPointCommandServiceToClient``).

Products (``documentation/products/PolarH10.md``, ``PolarVeritySense.md``): H10 ECG at
130 Hz in µV, ACC at 25/50/100/200 Hz and 2/4/8 g in mG; Verity Sense ACC at 52 Hz and 8 g,
GYRO at 52 Hz and 2000 deg/s.

Advertising: the SDK takes a device as Polar when its local name starts with ``"Polar"`` and
has at least three space-separated words, the last being the device id
(``PolarAdvDataUtility.isPolarDevice``): ``"Polar H10 1A2B3C4D"``, ``"Polar Sense B5C2AE21"``
(Verity Sense). Projects working with the sensors report the Heart Rate service 0x180D
and Polar's 16-bit service 0xFEEE in the advertisements, not the 128-bit PMD service (not
in Polar's own documentation), so the name is what identifies them.

Device time (``documentation/TimeSystemExplained.md``): ns since 2000-01-01T00:00:00Z; an
H10 whose time was never set restarts from its default 2019-01-01T00:00:00Z after each
power-off (about a minute off the strap without a connection).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from devices.base import DecodeError as BaseDecodeError
from monitor.errors import DeviceError

# SDK BlePMDClient.kt (companion object).
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"  # read (features), write, indicate
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"  # notify: data frames
# Bluetooth SIG assigned numbers: Battery Service / Battery Level, Heart Rate service.
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
# Polar Electro Oy's 16-bit member service (SDK BlePsFtpUtils.RFC77_PFTP_SERVICE).
POLAR_SERVICE_UUID = "0000feee-0000-1000-8000-00805f9b34fb"

LOCAL_NAME_PREFIX = "Polar"  # SDK BleAdvertisementContent.BLE_ADV_POLAR_PREFIX_IN_LOCAL_NAME
RESPONSE_CODE = 0xF0  # SDK PmdControlPointResponse.CONTROL_POINT_RESPONSE_CODE
RESPONSE_HEADER_BYTES = 5  # 0xF0, opcode, type, status, more
DEVICE_STOPPED_CODE = 0x01  # SDK PmdControlPointCommandServiceToClient.ONLINE_MEASUREMENT_STOPPED
MEASUREMENT_TYPE_MASK = 0x3F  # SDK PmdMeasurementType.MEASUREMENT_TYPE_BIT_MASK

# Data frames (SDK PmdDataFrame.kt): type, uint64 LE timestamp of the last sample, frame type.
FRAME_HEADER = struct.Struct("<BQB")
FRAME_HEADER_BYTES = FRAME_HEADER.size  # 10
DELTA_FRAME_BIT = 0x80  # frame type bit 7: delta-compressed
FRAME_TYPE_MASK = 0x7F
# PMD time is ns since 2000-01-01 of the device's local time: a stamp at or past 2100-01-01
# (36,525 days later) is no time a sensor can be set to, and past 2^63 ns it cannot even be
# carried as UTC ns. 2^63-1 and 2^64-1 (unset or corrupt stamps) land here.
PMD_TIME_MAX_NS = 36_525 * 86_400 * 1_000_000_000

# ns between 1970-01-01 and 2000-01-01 (TimeSystemExplained.md, "Note 1").
POLAR_EPOCH_UNIX_NS = 946_684_800_000_000_000
# The H10's time after a power-off when never set: 2019-01-01T00:00:00Z (TimeSystemExplained.md).
H10_DEFAULT_TIME_NS = 599_616_000_000_000_000


class MeasurementType(IntEnum):
    """PMD measurement types (SDK ``PmdMeasurementType.kt``)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAGNETOMETER = 6


class Opcode(IntEnum):
    """Client-to-device control point opcodes (SDK ``PmdControlPointCommand.kt``)."""

    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3


class SettingType(IntEnum):
    """Setting ids of the settings TLV (SDK ``PmdSetting.kt``)."""

    SAMPLE_RATE = 0  # Hz
    RESOLUTION = 1  # bits
    RANGE = 2  # g for ACC, deg/s for GYRO
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5  # float32: physical value of one LSB of delta-coded samples


SETTING_SIZE_BYTES: dict[SettingType, int] = {
    SettingType.SAMPLE_RATE: 2,
    SettingType.RESOLUTION: 2,
    SettingType.RANGE: 2,
    SettingType.RANGE_MILLIUNIT: 4,
    SettingType.CHANNELS: 1,
    SettingType.FACTOR: 4,
}


class ResponseStatus(IntEnum):
    """Control point response status (SDK ``PmdControlPointResponse.PmdControlPointResponseCode``)."""

    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13
    ERROR_DISK_FULL = 14


# -- errors ---------------------------------------------------------------------------------


class PolarDeviceError(DeviceError):
    """A Polar device refused or garbled a control point exchange."""

    default_advice = (
        "check the sensor is charged, on its strap or band (an H10 sleeps off the strap), "
        "and not streaming to another app"
    )


class PolarCommandError(PolarDeviceError):
    """A control point command was answered with an error status."""

    def __init__(self, opcode: int, measurement: int, status: int, advice: str | None = None) -> None:
        self.opcode = opcode
        self.measurement = measurement
        self.status = status
        status_name = _name(ResponseStatus, status)
        command = f"{_name(Opcode, opcode)} of {_name(MeasurementType, measurement)}"
        super().__init__(f"Polar PMD {command} refused: {status_name}", advice)


class PolarResponseError(PolarDeviceError):
    """A control point response or feature read is malformed or does not answer the command."""


class DecodeError(BaseDecodeError):
    """A PMD data notification is not a valid frame for the negotiated settings."""

    default_advice = "the frame was counted and skipped; if this repeats, update the sensor's firmware"


# -- control point: encoders ------------------------------------------------------------------


def get_settings_command(measurement: MeasurementType) -> bytes:
    """``GET_MEASUREMENT_SETTINGS`` of an online measurement.

    Examples
    --------
    >>> get_settings_command(MeasurementType.ACC).hex()
    '0102'
    """
    return bytes([Opcode.GET_MEASUREMENT_SETTINGS, measurement])


def start_command(measurement: MeasurementType, selected: Mapping[SettingType, int]) -> bytes:
    """``REQUEST_MEASUREMENT_START`` with one value per setting (FACTOR is never sent).

    Examples
    --------
    >>> start_command(MeasurementType.ACC, {SettingType.SAMPLE_RATE: 200, SettingType.RANGE: 8}).hex()
    '02020001c80002010800'
    """
    return bytes([Opcode.REQUEST_MEASUREMENT_START, measurement]) + encode_settings(
        {kind: (value,) for kind, value in selected.items() if kind is not SettingType.FACTOR}
    )


def stop_command(measurement: MeasurementType) -> bytes:
    """``STOP_MEASUREMENT`` of one measurement type."""
    return bytes([Opcode.STOP_MEASUREMENT, measurement])


def encode_settings(settings: Mapping[SettingType, Sequence[int]]) -> bytes:
    """Settings TLV: ``[type, count, values (little-endian, per-type width)]`` per setting."""
    out = bytearray()
    for kind, values in settings.items():
        size = SETTING_SIZE_BYTES[kind]
        out += bytes([kind, len(values)])
        for value in values:
            out += int(value).to_bytes(size, "little", signed=False)
    return bytes(out)


# -- control point: parsers -------------------------------------------------------------------


def parse_features(payload: bytes | bytearray) -> frozenset[MeasurementType]:
    """Measurement types offered, from a control point read (SDK ``PmdMeasurementType.fromByteArray``).

    Raises
    ------
    PolarResponseError
        Shorter than 2 bytes.
    """
    if len(payload) < 2:
        raise PolarResponseError(f"PMD feature read too short for its bitmap: {bytes(payload).hex()}")
    return frozenset(t for t in MeasurementType if payload[1] >> t & 1)


@dataclass(frozen=True, slots=True)
class Response:
    """One control point response, its continuation indications joined.

    Attributes
    ----------
    opcode, measurement, status : int
        Echoed opcode and measurement type byte, and the status (:class:`ResponseStatus`).
    more : bool
        True when more parameters follow in another indication.
    parameters : bytes
        Everything after the 5-byte header.
    """

    opcode: int
    measurement: int
    status: int
    more: bool
    parameters: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == ResponseStatus.SUCCESS


def parse_response(payload: bytes | bytearray) -> Response:
    """Parse one control point indication that starts with 0xF0.

    A response with an error status may stop after its status byte (4 bytes).

    Raises
    ------
    PolarResponseError
        Not a response (first byte), or too short.
    """
    if len(payload) < 4 or payload[0] != RESPONSE_CODE:
        raise PolarResponseError(f"not a PMD control point response: {bytes(payload).hex()}")
    more = len(payload) > 4 and payload[4] != 0
    return Response(
        payload[1],
        payload[2] & MEASUREMENT_TYPE_MASK,
        payload[3],
        more,
        bytes(payload[RESPONSE_HEADER_BYTES:]),
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """Settings of a measurement: offered values (GET_SETTINGS) or selected ones (start).

    Attributes
    ----------
    values : dict of SettingType to tuple of int
        For FACTOR, the float32 bits as an unsigned int; see :attr:`factor`.
    """

    values: dict[SettingType, tuple[int, ...]] = field(default_factory=dict)

    @property
    def factor(self) -> float | None:
        """FACTOR as a float, or None when absent."""
        bits = self.values.get(SettingType.FACTOR)
        return None if not bits else float(struct.unpack("<f", bits[0].to_bytes(4, "little"))[0])


def parse_settings(parameters: bytes | bytearray) -> Settings:
    """Parse a settings TLV (SDK ``PmdSetting.parsePmdSettingsData``).

    Raises
    ------
    PolarResponseError
        Unknown setting type, or a TLV running past the end.
    """
    values: dict[SettingType, tuple[int, ...]] = {}
    offset = 0
    while offset < len(parameters):
        if offset + 2 > len(parameters):
            raise PolarResponseError(f"PMD settings truncated at byte {offset}: {bytes(parameters).hex()}")
        kind_byte, count = parameters[offset], parameters[offset + 1]
        if kind_byte not in SettingType._value2member_map_:
            raise PolarResponseError(f"unknown PMD setting type {kind_byte} in {bytes(parameters).hex()}")
        kind = SettingType(kind_byte)
        size = SETTING_SIZE_BYTES[kind]
        end = offset + 2 + count * size
        if end > len(parameters):
            raise PolarResponseError(f"PMD setting {kind.name} runs past the end: {bytes(parameters).hex()}")
        values[kind] = tuple(
            int.from_bytes(parameters[i : i + size], "little") for i in range(offset + 2, end, size)
        )
        offset = end
    return Settings(values)


def _name(enum: type[IntEnum], value: int) -> str:
    return enum(value).name if value in enum._value2member_map_ else str(value)
