"""``[[device]]``: the wearables of this home, where each is worn and what it measures.

The collector connects only these (the allow-list), and the DSP reads from them what to
compute: EMG spasms tagged with the muscle, movement spasms from every gyroscope, and a
joint angle where two IMUs are worn either side of a ``joint`` (the proximal and distal
segment are told apart by ``placement``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devices.registry import PROFILES
from monitor.collect.config import DeviceConfig
from monitor.config.reader import TableReader
from monitor.dsp.imu.joints import JOINTS
from monitor.errors import ConfigError

SIDES = ("left", "right", "none")
# Segments either side of each joint (proximal first), as ``placement`` names them.
JOINT_SEGMENTS: dict[str, tuple[str, str]] = {
    "knee": ("thigh", "shank"),
    "elbow": ("upper_arm", "forearm"),
    "ankle": ("shank", "foot"),
}
ADDRESS = re.compile(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f-]{36}")  # MAC, or a macOS UUID
PLACEMENT = re.compile(r"[a-z][a-z0-9_]{0,31}")
# A label or muscle tags every record (the series key of every point, every legend): 64
# bytes hold any muscle name ("flexor digitorum superficialis" is 30) and keep a point's
# tags far below InfluxDB's 65,535-byte series-key limit, where a longer one would be
# refused on every record.
MAX_TAG_BYTES = 64
# Bluetooth Core 5.4, Vol 3, Part C, 12.1: the Device Name characteristic is at most 248
# octets, so a longer name can never match an advertisement.
MAX_BLE_NAME_BYTES = 248


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """One ``[[device]]`` table.

    Attributes
    ----------
    profile : str
        Device profile (``devices.registry``): reference, polar, myo, ganglion...
    address, name : str or None
        How it is recognised: its Bluetooth address, or its advertised name.
    placement : str
        Body location (``calf``, ``thigh``, ``shank``, ``forearm``...), the ``location`` tag.
    side : {"left", "right", "none"}
    muscle : str or None
        Muscle under the EMG electrodes (``gastrocnemius``), the ``muscle`` tag.
    joint : str or None
        Joint whose angle this IMU helps measure (``knee``, ``elbow``, ``ankle``).
    label : str
        Device tag in records; the address or name by default.
    affected : bool
        Worn on a limb the clinical scores count (``affected = true``): its records carry the
        tag ``affected=true`` (docs/clinical.md, "Counting spasms").
    """

    profile: str
    placement: str
    side: str = "none"
    address: str | None = None
    name: str | None = None
    muscle: str | None = None
    joint: str | None = None
    label: str = ""
    affected: bool = False

    @property
    def device_id(self) -> str:
        return self.collector_device().device_id

    @property
    def segment(self) -> str | None:
        """``proximal`` or ``distal`` for an IMU on a joint, else None."""
        if self.joint is None:
            return None
        proximal, _ = JOINT_SEGMENTS[self.joint]
        return "proximal" if self.placement == proximal else "distal"

    def collector_device(self) -> DeviceConfig:
        return DeviceConfig(address=self.address, name=self.name, label=self.label, profile=self.profile)

    def tags(self) -> dict[str, str]:
        """Low-cardinality tags for this wearable's records."""
        tags = {"device": self.device_id, "location": self.placement}
        if self.side != "none":
            tags["side"] = self.side
        if self.muscle:
            tags["muscle"] = self.muscle
        if self.affected:
            tags["affected"] = "true"
        return tags


def read_devices(entries: Sequence[Any]) -> tuple[DeviceEntry, ...]:
    """Validate every ``[[device]]`` table and their joint pairs."""
    devices = tuple(_read_device(entry, f"device[{i + 1}]") for i, entry in enumerate(entries))
    seen: dict[str, int] = {}
    for i, device in enumerate(devices):
        if device.device_id in seen:
            raise ConfigError(
                f"device[{i + 1}] is the same wearable as device[{seen[device.device_id] + 1}]"
                f" ({device.device_id}); give each a different address, name or label"
            )
        seen[device.device_id] = i
    _check_joint_pairs(devices)
    return devices


def _read_device(table: Mapping[str, Any], section: str) -> DeviceEntry:
    reader = TableReader(table, section)
    profile = reader.string("profile", "reference", choices=tuple(sorted(PROFILES)))
    address = reader.optional_string("address")
    if address is not None and not ADDRESS.fullmatch(address):
        raise reader.error("address", "a Bluetooth address like 'C4:7C:8D:6A:12:34'", address)
    name = reader.optional_string("name")
    reader.check_tag("name", name, MAX_BLE_NAME_BYTES, "the longest Bluetooth device name")
    if address is None and not name:
        raise ConfigError(f"{section} needs 'address' or 'name' to recognise the wearable")
    placement = reader.string("placement")
    if not PLACEMENT.fullmatch(placement):
        raise reader.error("placement", "a lower-case body location such as 'calf' or 'thigh'", placement)
    side = reader.string("side", "none", choices=SIDES)
    muscle = reader.optional_string("muscle")
    reader.check_tag("muscle", muscle, MAX_TAG_BYTES, "a tag on every record")
    joint = reader.optional_string("joint", choices=tuple(JOINTS))
    if joint is not None and placement not in JOINT_SEGMENTS[joint]:
        expected = " or ".join(repr(p) for p in JOINT_SEGMENTS[joint])
        raise ConfigError(f"{section}.placement must be {expected} for joint = {joint!r}, got {placement!r}")
    label = reader.string("label", "")
    reader.check_tag("label", label, MAX_TAG_BYTES, "a tag on every record")
    affected = reader.boolean("affected", False)
    reader.done()
    return DeviceEntry(profile, placement, side, address, name, muscle, joint, label, affected)


def _check_joint_pairs(devices: Sequence[DeviceEntry]) -> None:
    pairs: dict[tuple[str, str], list[DeviceEntry]] = {}
    for device in devices:
        if device.joint is not None:
            pairs.setdefault((device.side, device.joint), []).append(device)
    for (side, joint), members in pairs.items():
        segments = sorted(str(d.segment) for d in members)
        if segments != ["distal", "proximal"]:
            proximal, distal = JOINT_SEGMENTS[joint]
            raise ConfigError(
                f"joint {joint!r} (side {side!r}) needs one IMU on the {proximal} and one on the {distal},"
                f" got placements {[d.placement for d in members]}"
            )
