"""What the emulated Polar sensor puts on the wire, written from the specification.

What each model offers on the control point (the feature bitmap, the settings of each
measurement type), PMD measurement frames (raw and delta-compressed), the settings as TLVs
(those offered, and the selection of a START request), and PS-FTP's answer to GET_LOCAL_TIME
(a proto2 ``PbPFtpSetLocalTimeParams`` in RFC76 frames). Written from the SDK
sources cited in :mod:`devices.polar.pmd` and :mod:`devices.polar.psftp`, not from
:mod:`devices.polar.decoder`: it has its own frame encoders and bit packer, so a misreading
of the format in one cannot hide the same misreading in the other. It takes only the spec's
constants (UUIDs, opcodes, setting ids) from the profile's modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from devices.polar.pmd import MeasurementType, ResponseStatus, SettingType

HEADER_BYTES = 10  # type, uint64 timestamp, frame type
DELTA_BLOCK_SAMPLES = 10  # samples per delta block: each block gets its own bit width
GET_LOCAL_TIME_QUERY = bytes([0x02, 0x04, 0x80])  # RFC76 LAST, seq 0; RFC60 query 4 (GET_LOCAL_TIME)
PFTP_NOT_IMPLEMENTED = 201
# Width of a setting's values, bytes, where it is not 2 (FACTOR is a float32).
SETTING_BYTES = {SettingType.CHANNELS: 1, SettingType.RANGE_MILLIUNIT: 4, SettingType.FACTOR: 4}
SETTING_ERRORS = {
    SettingType.SAMPLE_RATE: ResponseStatus.ERROR_INVALID_SAMPLE_RATE,
    SettingType.RESOLUTION: ResponseStatus.ERROR_INVALID_RESOLUTION,
    SettingType.RANGE: ResponseStatus.ERROR_INVALID_RANGE,
    SettingType.CHANNELS: ResponseStatus.ERROR_INVALID_NUMBER_OF_CHANNELS,
}

Offered = Mapping[SettingType, tuple[int, ...]]  # the values a model offers, per setting


# -- what a model offers ----------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSpec:
    """What a model offers for one measurement type, and how it sends it."""

    offered: dict[SettingType, tuple[int, ...]]
    frame_type: int
    channels: int


def model_specs(model: str, delta: bool) -> dict[MeasurementType, StreamSpec]:
    """Offered settings and frame format per measurement type of a model (SDK product docs)."""
    if model == "h10":
        return {
            MeasurementType.ECG: StreamSpec(
                {SettingType.SAMPLE_RATE: (130,), SettingType.RESOLUTION: (14,)}, 0x00, 1
            ),
            MeasurementType.ACC: StreamSpec(
                {
                    SettingType.SAMPLE_RATE: (25, 50, 100, 200),
                    SettingType.RESOLUTION: (16,),
                    SettingType.RANGE: (2, 4, 8),
                },
                0x81 if delta else 0x01,
                3,
            ),
        }
    imu = {SettingType.SAMPLE_RATE: (52,), SettingType.RESOLUTION: (16,), SettingType.CHANNELS: (3,)}
    return {
        MeasurementType.ACC: StreamSpec({**imu, SettingType.RANGE: (8,)}, 0x81, 3),
        MeasurementType.GYRO: StreamSpec({**imu, SettingType.RANGE: (2000,)}, 0x80, 3),
    }


# Feature bitmap byte 1: bit t for type t. Verity Sense also lists PPG, PPI and MAG.
FEATURES = {
    "h10": (1 << MeasurementType.ECG) | (1 << MeasurementType.ACC),
    "sense": sum(
        1 << t
        for t in (
            MeasurementType.PPG,
            MeasurementType.ACC,
            MeasurementType.PPI,
            MeasurementType.GYRO,
            MeasurementType.MAGNETOMETER,
        )
    ),
}


# -- measurement frames -----------------------------------------------------------------------


def frame_header(measurement: int, last_sample_ns: int, frame_type: int) -> bytes:
    """Type byte, uint64 LE device time of the last sample (ns since 2000), frame type."""
    return bytes([measurement]) + (last_sample_ns & (2**64 - 1)).to_bytes(8, "little") + bytes([frame_type])


def raw_frame(measurement: int, last_sample_ns: int, frame_type: int, values: npt.NDArray[np.int64]) -> bytes:
    """Raw frame: each value little-endian two's complement, ``frame_type + 1`` bytes (ACC) or 3 (ECG)."""
    width = 3 if measurement == MeasurementType.ECG else frame_type + 1
    body = b"".join(int(v).to_bytes(width, "little", signed=True) for v in values.ravel())
    return frame_header(measurement, last_sample_ns, frame_type) + body


def delta_frame(
    measurement: int, last_sample_ns: int, frame_type: int, counts: npt.NDArray[np.int64]
) -> bytes:
    """Delta frame of int16 ``counts`` (n, channels): reference sample then bit-packed blocks."""
    body = bytearray(b"".join(int(v).to_bytes(2, "little", signed=True) for v in counts[0]))
    deltas = np.diff(counts, axis=0)
    for start in range(0, deltas.shape[0], DELTA_BLOCK_SAMPLES):
        block = deltas[start : start + DELTA_BLOCK_SAMPLES]
        width = max(_signed_width(int(v)) for v in block.ravel())
        packed, n_bits = 0, 0
        for value in block.ravel():  # least significant bit first, channel after channel
            packed |= (int(value) & ((1 << width) - 1)) << n_bits
            n_bits += width
        body += bytes([width, block.shape[0]]) + packed.to_bytes((n_bits + 7) // 8, "little")
    return frame_header(measurement, last_sample_ns, frame_type) + bytes(body)


def _signed_width(value: int) -> int:
    """Fewest bits (at least 1) holding ``value`` in two's complement."""
    return max(1, (value if value >= 0 else ~value).bit_length() + 1)


# -- control point settings -------------------------------------------------------------------


def settings_tlv(offered: Offered) -> bytes:
    """The offered settings as GET_MEASUREMENT_SETTINGS answers them: ``[type, count, values]``."""
    out = bytearray()
    for kind, values in offered.items():
        out += bytes([kind, len(values)])
        for value in values:
            out += value.to_bytes(SETTING_BYTES.get(kind, 2), "little")
    return bytes(out)


def parse_start(offered: Offered, parameters: bytes) -> tuple[dict[SettingType, int], int]:
    """Selected values of a START, and its status: every offered setting given, one offered value."""
    selected: dict[SettingType, int] = {}
    offset = 0
    while offset < len(parameters):
        if offset + 2 > len(parameters) or parameters[offset] not in SettingType._value2member_map_:
            return selected, ResponseStatus.ERROR_INVALID_PARAMETER
        kind, count = SettingType(parameters[offset]), parameters[offset + 1]
        size = SETTING_BYTES.get(kind, 2)
        if count != 1 or offset + 2 + size > len(parameters):
            return selected, ResponseStatus.ERROR_INVALID_LENGTH
        selected[kind] = int.from_bytes(parameters[offset + 2 : offset + 2 + size], "little")
        offset += 2 + size
    for kind, values in offered.items():
        if selected.get(kind) not in values:
            return selected, SETTING_ERRORS.get(kind, ResponseStatus.ERROR_INVALID_PARAMETER)
    return selected, ResponseStatus.SUCCESS


# -- PS-FTP ------------------------------------------------------------------------------------


def _protobuf_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _protobuf_field(number: int, value: int | bytes) -> bytes:
    """One proto2 field: varint (wire type 0) or length-delimited (wire type 2)."""
    if isinstance(value, bytes):
        return _protobuf_varint(number << 3 | 2) + _protobuf_varint(len(value)) + value
    return _protobuf_varint(number << 3) + _protobuf_varint(value)


def local_time_message(device_ns: int) -> bytes:
    """``PbPFtpSetLocalTimeParams`` of a device time (ns since 2000-01-01), truncated to the ms."""
    local = datetime(2000, 1, 1) + timedelta(microseconds=device_ns // 1000)
    date = b"".join(_protobuf_field(n, v) for n, v in ((1, local.year), (2, local.month), (3, local.day)))
    clock = b"".join(
        _protobuf_field(n, v)
        for n, v in ((1, local.hour), (2, local.minute), (3, local.second), (4, local.microsecond // 1000))
    )
    return _protobuf_field(1, date) + _protobuf_field(2, clock) + _protobuf_field(3, 0)


def rfc76_frames(message: bytes, max_frame_bytes: int) -> list[bytes]:
    """RFC76 frames of an answer: header ``next | status << 1 | seq << 4`` (LAST 1, MORE 3)."""
    room = max_frame_bytes - 1
    chunks = [message[i : i + room] for i in range(0, len(message), room)] or [b""]
    return [
        bytes([(i > 0) | (1 if i == len(chunks) - 1 else 3) << 1 | (i % 16) << 4]) + chunk
        for i, chunk in enumerate(chunks)
    ]
