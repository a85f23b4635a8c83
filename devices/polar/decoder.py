"""Pure decoder of Polar PMD data frames: ``decode_frame(payload, factor) -> PmdFrame``.

No I/O, no clock, no state: the same bytes and factor always give the same
:class:`PmdFrame` or the same :class:`~devices.polar.profile.DecodeError` subclass; anything
else escaping is a bug (``tests/devices/polar/test_polar_decoder.py`` fuzzes it).

Frame layout (SDK ``PmdDataFrame.kt``): byte 0 measurement type, bytes 1-8 uint64 LE
timestamp of the *last* sample (device ns since 2000-01-01), byte 9 frame type (bit 7 set:
delta-compressed; bits 0-6 the type), then the content.

Content per measurement and frame type, with the unit conversions the SDK applies
(``model/AccData.kt``, ``model/GyrData.kt``, ``model/EcgData.kt``):

========  ==========  ======================================================  ==================
type      frame type  content                                                 unit out
========  ==========  ======================================================  ==================
ACC       0x00        int8 x, y, z per sample                                 mG → g
ACC       0x01        int16 LE x, y, z                                        mG → g
ACC       0x02        int24 LE x, y, z                                        mG → g
ACC       0x80        delta, 16-bit reference, × factor                       g
ACC       0x81        delta, 16-bit reference, × factor                       mG → g
GYRO      0x80        delta, 16-bit reference, × factor                       deg/s
GYRO      0x81        delta over float32 bit patterns (32-bit), × factor      deg/s
GYRO      0x00        int16 LE x, y, z × factor (not in the SDK, see below)   deg/s
ECG       0x00        int24 LE µV                                             µV → mV
========  ==========  ======================================================  ==================

The SDK parses no raw GYRO frame; 0x00 is read here as ACC 0x01 with the factor, so a
firmware sending it is not silently dropped. Other ECG frame types (1-3, with contact and
pace bits) come from devices other than the H10 and are rejected.

Delta compression (SDK ``BlePMDClient.parseDeltaFramesAll``): a reference sample (each
channel ``ceil(resolution / 8)`` bytes LE, signed; unsigned bits for float data), then
blocks of ``[delta width in bits, sample count]`` followed by ``ceil(count × channels ×
width / 8)`` bytes holding ``count × channels`` deltas, bit-packed least significant bit
first, each sign-extended from ``width`` bits. Each sample is the previous one plus its
deltas. A width of 0 is read as ``count`` repeats of the previous sample (the SDK's loop
yields none for it; no device is known to send it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices.base import Payload
from devices.polar.pmd import (
    DELTA_FRAME_BIT,
    FRAME_HEADER,
    FRAME_HEADER_BYTES,
    FRAME_TYPE_MASK,
    MEASUREMENT_TYPE_MASK,
    DecodeError,
    MeasurementType,
)

MG_PER_G = 1000.0
UV_PER_MV = 1000.0
AXES = 3
MAX_DELTA_WIDTH_BITS = 32  # the SDK accumulates in a 32-bit Int


class TruncatedFrameError(DecodeError):
    """Shorter than the 10-byte header, or with no samples after it."""


class UnsupportedMeasurementError(DecodeError):
    """Measurement type other than ACC, GYRO or ECG."""


class UnsupportedFrameTypeError(DecodeError):
    """A frame type this measurement does not use."""


class LengthMismatchError(DecodeError):
    """Raw content is not a whole number of samples."""


class DeltaBlockError(DecodeError):
    """A delta-compressed frame is cut short or holds an impossible block."""


class TimestampOutOfRangeError(DecodeError):
    """A timestamp no sensor clock can show: past 2099, or a first sample before 2000.

    Raised by the stream decoder (``devices.polar.profile``), which knows the sample rate;
    :func:`decode_frame` reads any stamp the format can carry.
    """


class NonFiniteSampleError(DecodeError):
    """A float-coded sample is NaN or infinite: no sensor measures that."""


@dataclass(frozen=True, slots=True, eq=False)
class PmdFrame:
    """One decoded PMD data frame.

    Attributes
    ----------
    measurement : MeasurementType
        ACC, GYRO or ECG.
    timestamp_ns : int
        Device time of the last sample, ns since 2000-01-01T00:00:00Z (device clock).
    frame_type : int
        Frame type byte (bit 7: delta-compressed).
    samples : ndarray, shape (n, channels)
        g for ACC, deg/s for GYRO, mV for ECG; n >= 1.
    """

    measurement: MeasurementType
    timestamp_ns: int
    frame_type: int
    samples: npt.NDArray[np.float64]

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])


def decode_frame(payload: Payload, factor: float | None = None) -> PmdFrame:
    """Decode one PMD data notification.

    Parameters
    ----------
    payload : bytes-like
        The notification of the PMD data characteristic.
    factor : float or None
        FACTOR of this measurement from its start response (physical value of one LSB of
        delta-coded samples); None (not given) counts as 1.0, as in the SDK.

    Returns
    -------
    PmdFrame

    Raises
    ------
    DecodeError
        A subclass naming what is wrong; nothing else.

    Examples
    --------
    >>> frame = decode_frame(bytes.fromhex("02" "e803000000000000" "01" "0000" "e803" "18fc"))
    >>> frame.timestamp_ns, frame.samples.tolist()
    (1000, [[0.0, 1.0, -1.0]])
    """
    data = bytes(payload)
    if len(data) <= FRAME_HEADER_BYTES:
        raise TruncatedFrameError(f"PMD frame of {len(data)} bytes has no samples")
    type_byte, timestamp_ns, frame_type = FRAME_HEADER.unpack_from(data)
    kind = type_byte & MEASUREMENT_TYPE_MASK
    content = data[FRAME_HEADER_BYTES:]
    scale = 1.0 if factor is None else float(factor)
    delta = bool(frame_type & DELTA_FRAME_BIT)
    number = frame_type & FRAME_TYPE_MASK
    if kind == MeasurementType.ACC:
        measurement = MeasurementType.ACC
        if not delta and number in (0, 1, 2):
            samples = _raw(content, number + 1, AXES) / MG_PER_G
        elif delta and number == 0:
            samples = _delta(content, AXES, 16, float_bits=False) * scale
        elif delta and number == 1:
            samples = _delta(content, AXES, 16, float_bits=False) * scale / MG_PER_G
        else:
            raise UnsupportedFrameTypeError(f"ACC frame type 0x{frame_type:02x}")
    elif kind == MeasurementType.GYRO:
        measurement = MeasurementType.GYRO
        if delta and number == 0:
            samples = _delta(content, AXES, 16, float_bits=False) * scale
        elif delta and number == 1:
            samples = _delta(content, AXES, 32, float_bits=True) * scale
        elif not delta and number == 0:
            samples = _raw(content, 2, AXES) * scale
        else:
            raise UnsupportedFrameTypeError(f"GYRO frame type 0x{frame_type:02x}")
    elif kind == MeasurementType.ECG:
        measurement = MeasurementType.ECG
        if delta or number != 0:
            raise UnsupportedFrameTypeError(f"ECG frame type 0x{frame_type:02x}")
        samples = _raw(content, 3, 1) / UV_PER_MV
    else:
        raise UnsupportedMeasurementError(f"PMD measurement type {kind} is not ACC, GYRO or ECG")
    return PmdFrame(measurement, timestamp_ns, frame_type, samples)


def _raw(content: bytes, width_bytes: int, channels: int) -> npt.NDArray[np.float64]:
    """Little-endian signed integers of ``width_bytes``, shape (n, channels), as float64."""
    step = width_bytes * channels
    if len(content) % step:
        raise LengthMismatchError(f"{len(content)} content bytes are not whole samples of {step} bytes")
    values = _signed_le(np.frombuffer(content, np.uint8).reshape(-1, width_bytes), width_bytes * 8)
    return values.reshape(-1, channels).astype(np.float64)


def _signed_le(rows: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.int64]:
    """Each row of bytes (LE) as a two's complement integer of ``bits``."""
    weights = np.left_shift(np.int64(1), 8 * np.arange(rows.shape[1], dtype=np.int64))
    unsigned = rows.astype(np.int64) @ weights
    return np.where(unsigned >= 1 << (bits - 1), unsigned - (1 << bits), unsigned)


def _delta(
    content: bytes, channels: int, resolution_bits: int, *, float_bits: bool
) -> npt.NDArray[np.float64]:
    """Samples of a delta-compressed frame, shape (n, channels), in LSB (or float) units."""
    ref_bytes = (resolution_bits + 7) // 8 * channels
    if len(content) < ref_bytes:
        raise DeltaBlockError(f"{len(content)} bytes cannot hold the {ref_bytes}-byte reference sample")
    rows = np.frombuffer(content[:ref_bytes], np.uint8).reshape(channels, -1)
    if float_bits:  # unsigned bit patterns, summed modulo 2**32 as the SDK's Int does
        weights = np.left_shift(np.int64(1), 8 * np.arange(rows.shape[1], dtype=np.int64))
        reference = rows.astype(np.int64) @ weights
    else:
        reference = _signed_le(rows, resolution_bits)
    blocks = [reference[np.newaxis, :]]
    offset = ref_bytes
    while offset < len(content):
        if offset + 2 > len(content):
            raise DeltaBlockError(f"delta block header cut at byte {offset} of {len(content)}")
        width, count = content[offset], content[offset + 1]
        offset += 2
        if width > MAX_DELTA_WIDTH_BITS:
            raise DeltaBlockError(f"delta width {width} bits exceeds {MAX_DELTA_WIDTH_BITS}")
        n_bits = count * channels * width
        n_bytes = (n_bits + 7) // 8
        if offset + n_bytes > len(content):
            raise DeltaBlockError(f"delta block of {n_bytes} bytes runs past the frame end")
        if width == 0:
            deltas = np.zeros((count, channels), np.int64)
        else:
            bits = np.unpackbits(np.frombuffer(content, np.uint8, n_bytes, offset), bitorder="little")
            fields = bits[:n_bits].reshape(-1, width).astype(np.int64)
            values = fields @ np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
            deltas = np.where(fields[:, -1] == 1, values - (1 << width), values).reshape(count, channels)
        blocks.append(deltas)
        offset += n_bytes
    counts = np.cumsum(np.concatenate(blocks), axis=0)
    if float_bits:
        patterns = (counts & 0xFFFFFFFF).astype(np.uint32)
        # Exponent bits all set: NaN or infinity (checked on the bits, so no cast warns).
        if np.any(patterns & 0x7F800000 == 0x7F800000):
            raise NonFiniteSampleError("float-coded GYRO sample is NaN or infinite")
        return patterns.view(np.float32).astype(np.float64)
    return counts.astype(np.float64)
