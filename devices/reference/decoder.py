"""Pure decoder of reference-wearable packets: ``decode(payload) -> Packet``.

No I/O, no clock, no state: the same bytes always give the same :class:`Packet` or the
same :class:`DecodeError` subclass. Anything else escaping :func:`decode` is a bug, and
``tests/test_devices_reference_decoder.py`` fuzzes it to prove there is none.

Time is deliberately absent. A packet carries a device sample counter; mapping it to UTC
needs the fitted clock of the session (``monitor.collect.clock``), so the collector turns
a :class:`Packet` into :class:`monitor.types.Frame` objects with :meth:`Packet.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices.base import DecodeError as BaseDecodeError
from devices.reference.protocol import (
    CHANNELS,
    DEVICE_CLOCK,
    HEADER,
    HEADER_SIZE_BYTES,
    NS_PER_US,
    PROTOCOL_VERSION,
    RATE_HZ,
    SAMPLE_SIZE_BYTES,
    SCALE_CODES,
    StreamType,
    lsb_per_channel,
)
from monitor.types import Frame, SensorKind, StreamId

_STREAM_TYPES = {int(s): s for s in StreamType}


class DecodeError(BaseDecodeError):
    """A notification is not a valid reference-wearable packet."""

    default_advice = (
        "the packet was counted and skipped; if this repeats, update the wearable's firmware "
        "to protocol version 1 (docs/protocol.md)"
    )


class TruncatedPacketError(DecodeError):
    """Shorter than the 12-byte header."""


class UnsupportedVersionError(DecodeError):
    """Protocol version byte is not one this decoder reads."""


class UnknownStreamError(DecodeError):
    """Stream type byte is not EMG, IMU, ACC or GYR."""


class BadHeaderError(DecodeError):
    """Channel count, sample count, rate code or scale code out of range."""


class LengthMismatchError(DecodeError):
    """Payload length disagrees with the header's sample and channel counts."""


class BadClockValueError(DecodeError):
    """A device clock value (docs/protocol.md §6.2) that is not 8 bytes, or no uptime."""


# A u64 of µs reaches 584,000 years; as ns since boot the gateway carries 2^63 - 1 at most
# (292 years), far beyond any uptime: a larger value is a corrupt read.
MAX_DEVICE_CLOCK_US = (2**63 - 1) // NS_PER_US


@dataclass(frozen=True, slots=True, eq=False)
class Packet:
    """One decoded packet.

    Attributes
    ----------
    stream : StreamType
        Which stream the packet belongs to.
    seq : int
        Packet sequence number, 0..65535 (wraps).
    counter : int
        Device sample counter of the first sample, 0..2**32-1 (wraps).
    sample_rate_hz : float
        Sample rate of the stream, Hz.
    samples : ndarray, shape (n, channels)
        Samples in physical units (mV for EMG; g then deg/s for IMU).
    """

    stream: StreamType
    seq: int
    counter: int
    sample_rate_hz: float
    samples: npt.NDArray[np.float64]

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    def frames(self, device: str, t0_ns: int, seq_first: int, seq_last: int) -> list[Frame]:
        """Frames of this packet, its first sample at UTC ``t0_ns`` (ns); IMU gives acc and gyr."""
        rate = self.sample_rate_hz
        if self.stream is StreamType.IMU:
            return [
                Frame(
                    StreamId(device, "acc"),
                    SensorKind.ACC,
                    rate,
                    t0_ns,
                    seq_first,
                    seq_last,
                    self.samples[:, :3],
                ),
                Frame(
                    StreamId(device, "gyr"),
                    SensorKind.GYR,
                    rate,
                    t0_ns,
                    seq_first,
                    seq_last,
                    self.samples[:, 3:],
                ),
            ]
        kind = {StreamType.EMG: SensorKind.EMG, StreamType.ACC: SensorKind.ACC}.get(
            self.stream, SensorKind.GYR
        )
        return [Frame(StreamId(device, kind.value), kind, rate, t0_ns, seq_first, seq_last, self.samples)]


def decode(payload: bytes | bytearray | memoryview) -> Packet:
    """Decode one notification of the EMG or IMU characteristic.

    Parameters
    ----------
    payload : bytes-like
        The notification value: a 12-byte header then ``n × channels`` int16 samples.

    Returns
    -------
    Packet
        Header fields and samples in physical units.

    Raises
    ------
    DecodeError
        One of its subclasses, for any malformed payload; never another exception.

    Examples
    --------
    >>> import numpy as np
    >>> from devices.reference.protocol import encode_packet
    >>> raw = encode_packet(StreamType.EMG, 7, 1000, np.array([[2], [-4]], np.int16), 0, 0)
    >>> packet = decode(raw)
    >>> packet.seq, packet.counter, packet.sample_rate_hz, packet.samples[:, 0].tolist()
    (7, 1000, 1000.0, [0.001, -0.002])
    """
    size = len(payload)
    if size < HEADER_SIZE_BYTES:
        raise TruncatedPacketError(f"packet of {size} bytes < the {HEADER_SIZE_BYTES}-byte header")
    version, stream_byte, seq, counter, n, channels, rate_code, scale_code = HEADER.unpack_from(payload)
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersionError(f"protocol version {version} (this decoder reads {PROTOCOL_VERSION})")
    stream = _STREAM_TYPES.get(stream_byte)
    if stream is None:
        raise UnknownStreamError(f"unknown stream type 0x{stream_byte:02x}")
    if channels not in CHANNELS[stream]:
        raise BadHeaderError(f"{stream.name} packet with {channels} channels")
    if n == 0:
        raise BadHeaderError("packet with 0 samples")
    rate_hz = RATE_HZ.get(rate_code)
    if rate_hz is None:
        raise BadHeaderError(f"unknown rate code {rate_code}")
    if scale_code not in SCALE_CODES:
        raise BadHeaderError(f"unknown scale code {scale_code}")
    expected = HEADER_SIZE_BYTES + SAMPLE_SIZE_BYTES * n * channels
    if size != expected:
        raise LengthMismatchError(f"{n} samples × {channels} channels need {expected} bytes, got {size}")
    raw = np.frombuffer(payload, dtype="<i2", offset=HEADER_SIZE_BYTES).reshape(n, channels)
    samples = raw * lsb_per_channel(stream, channels, scale_code)
    return Packet(stream, seq, counter, rate_hz, samples)


def decode_device_clock_ns(payload: bytes | bytearray | memoryview) -> int:
    """Device time in a read of the clock characteristic, ns since boot.

    Parameters
    ----------
    payload : bytes-like
        The read value: u64 µs since boot on the sample crystal (docs/protocol.md §6.2).

    Raises
    ------
    BadClockValueError
        The value is not exactly 8 bytes, or beyond :data:`MAX_DEVICE_CLOCK_US`.

    Examples
    --------
    >>> decode_device_clock_ns(bytes.fromhex("40e2010000000000"))
    123456000
    """
    if len(payload) != DEVICE_CLOCK.size:
        raise BadClockValueError(f"device clock value of {len(payload)} bytes, expected {DEVICE_CLOCK.size}")
    (device_us,) = DEVICE_CLOCK.unpack(payload)
    if device_us > MAX_DEVICE_CLOCK_US:
        raise BadClockValueError(f"device clock value {device_us} µs is no uptime")
    return int(device_us) * NS_PER_US
