"""Device profiles by name: what the collector needs to talk to a kind of wearable.

A profile is bytes only: UUIDs, command encodings and a pure decoder. The collector looks
a profile up by the name given in ``config.toml`` (``profile = "reference"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.reference import decoder as reference_decoder
from devices.reference import profile as reference

Decoder = Callable[[bytes | bytearray | memoryview], reference_decoder.Packet]


@dataclass(frozen=True, slots=True)
class Profile:
    """One wearable kind's GATT profile.

    Attributes
    ----------
    name : str
        Registry key.
    service_uuid : str
        Advertised primary service (allow-list by name plus service uses it).
    stream_uuids : tuple of str
        Characteristics to subscribe to; their notifications go to ``decode``.
    control_uuid, battery_uuid : str
        Control point (write with response) and battery level (read, notify).
    decode : callable
        Pure decoder of one stream notification; raises a ``DecodeError`` on bad input.
    start, stop : bytes
        Control point writes that start and stop every stream.
    max_payload : callable
        Control point write telling the device the largest notification value, bytes.
    """

    name: str
    service_uuid: str
    stream_uuids: tuple[str, ...]
    control_uuid: str
    battery_uuid: str
    decode: Decoder
    start: bytes
    stop: bytes
    max_payload: Callable[[int], bytes]


REFERENCE = Profile(
    name="reference",
    service_uuid=reference.SERVICE_UUID,
    stream_uuids=(reference.EMG_UUID, reference.IMU_UUID),
    control_uuid=reference.CONTROL_UUID,
    battery_uuid=reference.BATTERY_UUID,
    decode=reference_decoder.decode,
    start=reference.command(reference.Command.START, reference.STREAM_MASK_EMG | reference.STREAM_MASK_IMU),
    stop=reference.command(reference.Command.STOP, 0xFF),
    max_payload=lambda size: reference.command(reference.Command.SET_MAX_PAYLOAD, size),
)

PROFILES: dict[str, Profile] = {REFERENCE.name: REFERENCE}


def get_profile(name: str) -> Profile:
    """The profile registered as ``name``; ``KeyError`` names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown device profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
