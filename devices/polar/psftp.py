"""Polar PS-FTP: the device clock (``GET_LOCAL_TIME``), RFC76 framing and a protobuf reader.

Polar's file transfer service (SDK ``BlePsFtpUtils.kt``, ``BlePsFtpClient.kt``, under
``.../api/ble/model/gatt/client/psftp/``) lives in the 0xFEEE service. A query is an RFC60
header ``[id & 0xFF, (id >> 8 & 0x7F) | 0x80]`` plus optional protobuf parameters, cut into
RFC76 frames written to the MTU characteristic; the answer comes back as RFC76 frames
notified on the same characteristic (``query`` and ``suspendReadResponse``). An RFC76 frame
is one header byte, ``next | status << 1 | sequence << 4`` (next: 0 on the first frame of a
message, 1 after; status: 1 LAST, 3 MORE, 0 error or empty response whose two next bytes
are a little-endian error code, 0 meaning success; sequence: 0..15 ring from 0 per
message), then the payload. ``GET_LOCAL_TIME`` is query 4 (``pftp_request.proto``
``PbPFtpQuery``); the SDK's ``getLocalTime`` parses its answer as
``PbPFtpSetLocalTimeParams``: date (1: year, 2: month, 3: day), time (1: hour, 2: minute,
3: seconds, 4: millis, optional), tz_offset (3, minutes, optional). It is the device time
that stamps the PMD frames (``TimeSystemExplained.md``: "The device time is used to
timestamp the events", read with ``getLocalTime``), as local date and time: so it maps
to the PMD time base as ns since 2000-01-01T00:00:00 of that local time.

Bytes only: no I/O. The query goes out and the answer comes back in
:class:`devices.polar.profile.PolarProfile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from devices.polar.pmd import PMD_TIME_MAX_NS, DecodeError, PolarDeviceError

PSFTP_MTU_UUID = "fb005c51-02e7-f387-1cad-8acd2d8df0c8"  # SDK RFC77_PFTP_MTU_CHARACTERISTIC
RFC76_STATUS_ERROR_OR_RESPONSE = 0
RFC76_STATUS_LAST = 1
RFC76_STATUS_MORE = 3
PFTP_QUERY_GET_LOCAL_TIME = 4  # SDK pftp_request.proto PbPFtpQuery.GET_LOCAL_TIME
NS_PER_MS = 1_000_000
_POLAR_EPOCH = datetime(2000, 1, 1)


class PsFtpError(PolarDeviceError):
    """The device answered a PS-FTP query with an error code (201: not implemented)."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"Polar PS-FTP query refused with error {code}")


class ClockDecodeError(DecodeError):
    """A GET_LOCAL_TIME answer is not a valid RFC76 frame or PbPFtpSetLocalTimeParams."""

    default_advice = "the clock read was skipped; if this repeats, update the sensor's firmware"


class CoarseClockError(PolarDeviceError):
    """The device gives its time without milliseconds: too coarse to pin the offset."""


def rfc76_query_frames(query_id: int, parameters: bytes = b"", max_frame_bytes: int = 20) -> list[bytes]:
    """RFC76 frames of one PS-FTP query (SDK ``makeCompleteMessageStream`` +
    ``buildRfc76MessageFrameAll``), each at most ``max_frame_bytes`` (ATT MTU - 3).

    Examples
    --------
    >>> [frame.hex() for frame in rfc76_query_frames(PFTP_QUERY_GET_LOCAL_TIME)]
    ['020480']
    """
    message = bytes([query_id & 0xFF, ((query_id >> 8) & 0x7F) | 0x80]) + parameters
    room = max_frame_bytes - 1
    frames = []
    for index, start in enumerate(range(0, len(message), room)):
        chunk = message[start : start + room]
        status = RFC76_STATUS_MORE if start + room < len(message) else RFC76_STATUS_LAST
        frames.append(bytes([(index > 0) | status << 1 | (index % 16) << 4]) + chunk)
    return frames


@dataclass(frozen=True, slots=True)
class Rfc76Frame:
    """One RFC76 frame as notified: header fields and payload (error code for status 0)."""

    next: int
    status: int
    sequence: int
    payload: bytes
    error: int = 0


def parse_rfc76_frame(data: bytes | bytearray) -> Rfc76Frame:
    """Parse one RFC76 frame (SDK ``processRfc76MessageFrameHeader``); raises :class:`ClockDecodeError`."""
    if len(data) < 1:
        raise ClockDecodeError("empty PS-FTP frame")
    header = data[0]
    status = header >> 1 & 0x03
    if status == RFC76_STATUS_ERROR_OR_RESPONSE:
        if len(data) < 3:
            raise ClockDecodeError(f"PS-FTP error frame without its code: {bytes(data).hex()}")
        return Rfc76Frame(header & 1, status, header >> 4, b"", data[1] | data[2] << 8)
    if status not in (RFC76_STATUS_LAST, RFC76_STATUS_MORE):
        raise ClockDecodeError(f"PS-FTP frame with undefined status {status}: {bytes(data).hex()}")
    return Rfc76Frame(header & 1, status, header >> 4, bytes(data[1:]))


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if offset >= len(data) or shift > 63:
            raise ClockDecodeError(f"protobuf varint runs past the end: {data.hex()}")
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        shift += 7
        if not byte & 0x80:
            return value, offset


def _protobuf_fields(data: bytes) -> dict[int, int | bytes]:
    """Fields of a proto2 message by number (varints and length-delimited only; last one wins)."""
    fields: dict[int, int | bytes] = {}
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset)
        number, wire_type = key >> 3, key & 0x07
        if wire_type == 0:
            fields[number], offset = _varint(data, offset)
        elif wire_type == 2:
            length, offset = _varint(data, offset)
            if offset + length > len(data):
                raise ClockDecodeError(f"protobuf field {number} runs past the end: {data.hex()}")
            fields[number] = data[offset : offset + length]
            offset += length
        elif wire_type in (1, 5):  # fixed64 / fixed32: not in these messages, skipped
            offset += 8 if wire_type == 1 else 4
        else:
            raise ClockDecodeError(f"protobuf wire type {wire_type} in {data.hex()}")
    if offset > len(data):
        raise ClockDecodeError(f"protobuf message runs past the end: {data.hex()}")
    return fields


def _message(fields: Mapping[int, int | bytes], number: int, name: str) -> dict[int, int | bytes]:
    value = fields.get(number)
    if not isinstance(value, bytes):
        raise ClockDecodeError(f"PbPFtpSetLocalTimeParams without its {name}")
    return _protobuf_fields(value)


def _uint(fields: Mapping[int, int | bytes], number: int, name: str) -> int:
    value = fields.get(number)
    if not isinstance(value, int):
        raise ClockDecodeError(f"PbPFtpSetLocalTimeParams without its {name}")
    return value


def decode_local_time_ns(message: bytes | bytearray) -> int:
    """Device time of a GET_LOCAL_TIME answer (``PbPFtpSetLocalTimeParams``): ns since
    2000-01-01T00:00:00 of the device's local time, the PMD time base, truncated to the ms.

    Raises
    ------
    ClockDecodeError
        Not such a message, or not a valid date and time.
    CoarseClockError
        No milliseconds (a whole-second time cannot pin the offset).

    Examples
    --------
    2024-06-15 10:30:45.507:

    >>> decode_local_time_ns(bytes.fromhex("0a0708e80f1006180f1209080a101e182d20fb03"))
    771762645507000000
    """
    fields = _protobuf_fields(bytes(message))
    date, clock = _message(fields, 1, "date"), _message(fields, 2, "time")
    if 4 not in clock:
        raise CoarseClockError("the Polar device gives its time without milliseconds")
    millis = _uint(clock, 4, "millis")
    try:
        local = datetime(
            _uint(date, 1, "year"),
            _uint(date, 2, "month"),
            _uint(date, 3, "day"),
            _uint(clock, 1, "hour"),
            _uint(clock, 2, "minute"),
            _uint(clock, 3, "seconds"),
        )
    except (ValueError, OverflowError) as error:
        raise ClockDecodeError(f"not a date and time: {error}") from None
    if millis > 999:
        raise ClockDecodeError(f"{millis} ms is not a millisecond of a second")
    elapsed = local - _POLAR_EPOCH
    device_ns = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000_000 + millis * NS_PER_MS
    if not 0 <= device_ns < PMD_TIME_MAX_NS:  # the PMD time base spans 2000-2099
        raise ClockDecodeError(f"device time {local.isoformat()} is outside 2000-2099")
    return device_ns
