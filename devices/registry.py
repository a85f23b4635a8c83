"""Device profiles by name: what the collector needs to talk to a kind of wearable.

A profile (:class:`devices.base.DeviceProfile`) is bytes and a handshake: UUIDs, commands
and a decoder. The collector looks a profile up by the name given in ``config.toml``
(``profile = "reference"``); ``devices scan`` asks each one whether it recognises an
advertisement.
"""

from __future__ import annotations

from collections.abc import Sequence

from devices.base import DeviceProfile
from devices.ganglion.profile import PROFILE as GANGLION
from devices.myo.profile import PROFILE as MYO
from devices.polar.profile import PROFILE as POLAR
from devices.reference.profile import PROFILE as REFERENCE

PROFILES: dict[str, DeviceProfile] = {
    REFERENCE.name: REFERENCE,
    GANGLION.name: GANGLION,
    MYO.name: MYO,
    POLAR.name: POLAR,
}


def get_profile(name: str) -> DeviceProfile:
    """The profile registered as ``name``; ``KeyError`` names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown device profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None


def recognise(local_name: str | None, service_uuids: Sequence[str]) -> str | None:
    """Name of the first profile that recognises an advertisement, or None."""
    for name, profile in PROFILES.items():
        if profile.recognises(local_name, service_uuids):
            return name
    return None
