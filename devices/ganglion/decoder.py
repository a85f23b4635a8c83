"""Pure decoders of Ganglion notifications: ``parse(payload)`` and the field unpackers.

No I/O, no clock, no state: the same bytes always give the same result or the same
:class:`GanglionDecodeError` subclass (fuzzed in ``tests/devices/ganglion``). Delta packets
decode to *deltas*; turning them into samples needs the previous sample, which
:class:`devices.ganglion.GanglionStreamDecoder` keeps per connection.

The wire format ([DOC] "Ganglion Data Format", cited in :mod:`devices.ganglion.protocol`):

- id 0: raw packet, one sample, channels 1-4 as int24 big-endian two's complement in
  bytes 1-12, padding after;
- ids 1-100: two samples of 18-bit deltas (8 fields × 18 bits, bytes 1-18, MSB first,
  sample 1's channels 1-4 then sample 2's); byte 19 is an accelerometer axis (or aux) byte;
- ids 101-200: the same with 19-bit fields (bytes 1-19);
- ids 201-205: impedance of channels 1-4 and the reference, ASCII digits ending in 'Z';
- ids 206/207: part / last part of an ASCII message.

A delta field keeps the sign in bit 0 ([DOC] "IMPORTANT!"): a field with bit 0 set is
negative and is sign-extended from its width, a field with bit 0 clear is positive even
if its top bit is set ([NODE] convert19bitAsInt32). The firmware computes
``delta = previous - new`` ([FW] compressData19), so ``new = previous - delta`` ([BF]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices.base import DecodeError, Payload
from devices.ganglion.protocol import (
    CHANNELS,
    DELTA18_IDS,
    DELTA19_IDS,
    IMPEDANCE_IDS,
    IMPEDANCE_TERMINATOR,
    MULTI_PACKET_ID,
    MULTI_PACKET_STOP_ID,
    PACKET_SIZE_BYTES,
    RAW_ID,
    RAW_SAMPLE_BYTES,
    SAMPLES_PER_DELTA_PACKET,
    DeltaBits,
    delta_ring_level,
)

IntArray = npt.NDArray[np.int64]


class GanglionDecodeError(DecodeError):
    """A notification is not a valid Ganglion (firmware 2.x) packet."""

    default_advice = (
        "the packet was counted and skipped; if this repeats, check the board runs Ganglion "
        "firmware 2.x and is not also connected to the OpenBCI GUI"
    )


class EmptyPacketError(GanglionDecodeError):
    """A notification without even the packet id byte."""


class LengthMismatchError(GanglionDecodeError):
    """A data packet (id 0-200) that is not 20 bytes long."""


class UnknownPacketIdError(GanglionDecodeError):
    """A packet id above 207, which firmware 2.x never sends."""


class BadImpedanceError(GanglionDecodeError):
    """An impedance packet whose value is not ASCII digits followed by 'Z'."""


@dataclass(frozen=True, slots=True)
class RawSample:
    """Packet id 0: one uncompressed sample, ADC counts, shape (1, 4)."""

    counts: IntArray


@dataclass(frozen=True, slots=True)
class Deltas:
    """Packet ids 1-200: two samples' deltas (previous − new), ADC counts, shape (2, 4).

    Attributes
    ----------
    ring_level : int
        1..100: position of the packet in its compression cycle.
    bits : DeltaBits
        Field width.
    aux : int or None
        Byte 19 of an 18-bit packet (accelerometer axis or user aux data), as int8.
    """

    ring_level: int
    bits: DeltaBits
    deltas: IntArray
    aux: int | None = None


@dataclass(frozen=True, slots=True)
class Impedance:
    """Packet ids 201-205: impedance of channel 1-4 (``channel`` 5 is the reference), kΩ.

    The [DOC] page calls the value ohms; firmware 2.x divides the measured ohms by 1000
    before its empirical correction and prints that ([FW] testImpedance), so it is kΩ.
    """

    channel: int
    impedance_kohm: int


@dataclass(frozen=True, slots=True)
class Message:
    """Packet ids 206/207: a part of an ASCII message; ``last`` on the final part."""

    text: str
    last: bool


GanglionPacket = RawSample | Deltas | Impedance | Message


def parse(payload: Payload) -> GanglionPacket:
    """Decode one notification of the receive characteristic.

    Parameters
    ----------
    payload : bytes-like
        The notification value.

    Returns
    -------
    RawSample, Deltas, Impedance or Message

    Raises
    ------
    GanglionDecodeError
        One of its subclasses, naming what is wrong; never anything else.

    Examples
    --------
    >>> parse(bytes([0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4]) + b"ABCDEFG").counts.tolist()
    [[1, 2, 3, 4]]
    """
    data = bytes(payload)
    if not data:
        raise EmptyPacketError("empty notification")
    packet_id = data[0]
    if packet_id == RAW_ID or packet_id in DELTA18_IDS or packet_id in DELTA19_IDS:
        if len(data) != PACKET_SIZE_BYTES:
            expected = PACKET_SIZE_BYTES
            raise LengthMismatchError(f"packet id {packet_id}: {len(data)} bytes, expected {expected}")
        if packet_id == RAW_ID:
            return RawSample(unpack_raw(data[1:]))
        bits = DeltaBits.B19 if packet_id in DELTA19_IDS else DeltaBits.B18
        aux = int(np.int8(np.uint8(data[19]))) if bits is DeltaBits.B18 else None
        return Deltas(delta_ring_level(packet_id), bits, unpack_deltas(data[1:], bits), aux)
    if packet_id in IMPEDANCE_IDS:
        return Impedance(packet_id - IMPEDANCE_IDS.start + 1, _impedance_kohm(data[1:]))
    if packet_id in (MULTI_PACKET_ID, MULTI_PACKET_STOP_ID):
        return Message(data[1:].decode("ascii", errors="replace"), packet_id == MULTI_PACKET_STOP_ID)
    raise UnknownPacketIdError(f"packet id {packet_id} is not sent by Ganglion firmware 2.x")


def unpack_raw(body: bytes) -> IntArray:
    """Four int24 big-endian two's-complement counts from ``body[:12]``, shape (1, 4).

    Examples
    --------
    >>> unpack_raw(bytes.fromhex("7fffff800000ffffff000001")).tolist()
    [[8388607, -8388608, -1, 1]]
    """
    if len(body) < CHANNELS * RAW_SAMPLE_BYTES:
        raise LengthMismatchError(f"raw sample needs {CHANNELS * RAW_SAMPLE_BYTES} bytes, got {len(body)}")
    counts = [
        int.from_bytes(body[i : i + RAW_SAMPLE_BYTES], "big", signed=True)
        for i in range(0, CHANNELS * RAW_SAMPLE_BYTES, RAW_SAMPLE_BYTES)
    ]
    return np.array([counts], dtype=np.int64)


def unpack_deltas(body: bytes, bits: DeltaBits) -> IntArray:
    """Eight sign-in-bit-0 delta fields, MSB first, from ``body``; shape (2, 4), counts.

    Row 0 is the first (odd) sample of the packet, row 1 the second; columns are channels.

    Examples
    --------
    The 19-bit example of [DOC] (also [NODE] decompressDeltas19Bit):

    >>> body = bytes.fromhex("000000000800050000480009f001b000300008")
    >>> unpack_deltas(body, DeltaBits.B19).tolist()
    [[0, 2, 10, 4], [262148, 507910, 393222, 8]]
    """
    width = bits.value
    n_fields = SAMPLES_PER_DELTA_PACKET * CHANNELS
    n_bytes = (width * n_fields + 7) // 8
    if len(body) < n_bytes:
        raise LengthMismatchError(f"{width}-bit deltas need {n_bytes} bytes, got {len(body)}")
    packed = int.from_bytes(body[:n_bytes], "big") >> (8 * n_bytes - width * n_fields)
    mask = (1 << width) - 1
    fields = [(packed >> (width * (n_fields - 1 - i))) & mask for i in range(n_fields)]
    # Bit 0 is the sign: odd fields are negative, sign-extended from the field width.
    values = [f - (1 << width) if f & 1 else f for f in fields]
    return np.array(values, dtype=np.int64).reshape(SAMPLES_PER_DELTA_PACKET, CHANNELS)


def apply_deltas(previous_counts: IntArray, deltas: IntArray) -> IntArray:
    """Samples from the previous sample and a packet's deltas (``new = previous - delta``).

    Parameters
    ----------
    previous_counts : ndarray of int, shape (4,)
        The sample before the packet, counts.
    deltas : ndarray of int, shape (2, 4)
        From :func:`unpack_deltas`.

    Returns
    -------
    ndarray of int, shape (2, 4)
        The packet's two samples, counts.
    """
    return np.asarray(previous_counts, dtype=np.int64) - np.cumsum(deltas, axis=0)


def _impedance_kohm(body: bytes) -> int:
    end = body.find(bytes([IMPEDANCE_TERMINATOR]))
    digits = body[:end] if end >= 0 else b""
    if end <= 0 or not digits.isdigit():
        raise BadImpedanceError(f"impedance value {body!r} is not ASCII digits followed by 'Z'")
    return int(digits)
