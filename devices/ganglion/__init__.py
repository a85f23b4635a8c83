"""OpenBCI Ganglion (firmware 2.x): wire protocol, pure decoders and its profile, :class:`GanglionProfile`."""

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
from devices.ganglion.profile import (
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
