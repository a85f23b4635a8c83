"""OpenBCI Ganglion (firmware 2.x): GATT profile, pure decoders, stream decoder and emulator."""

from devices.ganglion.decoder import (
    BadImpedanceError,
    Deltas,
    EmptyPacketError,
    GanglionDecodeError,
    Impedance,
    LengthMismatchError,
    Message,
    RawSample,
    UnknownPacketIdError,
    apply_deltas,
    parse,
    unpack_deltas,
    unpack_raw,
)
from devices.ganglion.plugin import (
    PROFILE,
    GanglionProfile,
    GanglionStreamDecoder,
    UnknownCharacteristicError,
)

__all__ = [
    "PROFILE",
    "BadImpedanceError",
    "Deltas",
    "EmptyPacketError",
    "GanglionDecodeError",
    "GanglionProfile",
    "GanglionStreamDecoder",
    "Impedance",
    "LengthMismatchError",
    "Message",
    "RawSample",
    "UnknownCharacteristicError",
    "UnknownPacketIdError",
    "apply_deltas",
    "parse",
    "unpack_deltas",
    "unpack_raw",
]
