"""Collector configuration: which wearables to trust and which radio to use.

Built from ``config.toml``'s ``[[device]]`` and ``[ble]`` by
:meth:`monitor.config.AppConfig.collector_config`; a bad value raises
:class:`~monitor.errors.ConfigError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from devices.reference.profile import ATT_MTU_ASSUMED
from devices.registry import PROFILES
from monitor.collect.queue import DEFAULT_MAX_ITEMS
from monitor.errors import ConfigError

Backend = Literal["bleak", "bumble"]


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One allow-listed wearable: by address, or by advertised name plus service.

    A device that matches no entry is never connected and never trusted. The advertisement
    must also be one its profile recognises (by default), or list ``service_uuid``.
    """

    address: str | None = None
    name: str | None = None
    service_uuid: str | None = None  # None: the profile decides what its advertisements look like
    label: str = ""  # device tag in records and StreamIds; the address or name by default
    profile: str = "reference"  # key in devices.registry

    def __post_init__(self) -> None:
        if not self.address and not self.name:
            raise ConfigError("a device has neither 'address' nor 'name'")
        if self.profile not in PROFILES:
            raise ConfigError(f"device profile {self.profile!r} is not one of {sorted(PROFILES)}")

    @property
    def device_id(self) -> str:
        return self.label or (self.address or self.name or "").upper()

    def matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        """True if an advertisement is this allow-listed wearable."""
        if self.service_uuid:
            service = self.service_uuid.lower() in (u.lower() for u in adv.service_uuids)
        else:
            service = PROFILES[self.profile].recognises(adv.local_name, adv.service_uuids)
        if self.address:
            return device.address.upper() == self.address.upper() and service
        return adv.local_name == self.name and service


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    """Everything the collector needs.

    Parameters
    ----------
    devices : tuple of DeviceConfig
        The allow-list; one session each.
    backend : {"bleak", "bumble"}
        ``bleak``: the platform's adapter (BlueZ, CoreBluetooth, WinRT). ``bumble``: bumble's
        stack on ``bumble_transport`` (a USB dongle ``usb:0`` or the emulation hub).
    bumble_transport : str or None
        bumble transport spec, required with ``backend = "bumble"``.
    queue_max_items : int
        Bound of the Frame/Record queue.
    scan_timeout_s, connect_timeout_s : float
        Per attempt, s.
    mtu_bytes : int
        ATT MTU to request (247 assumed by the profile; 23 is the fallback).
    backoff_scale : float
        Multiplies every backoff delay (tests compress time with it).
    """

    devices: tuple[DeviceConfig, ...]
    backend: Backend = "bleak"
    bumble_transport: str | None = None
    queue_max_items: int = DEFAULT_MAX_ITEMS
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    mtu_bytes: int = ATT_MTU_ASSUMED
    backoff_scale: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.devices:
            raise ConfigError("no device to collect: list the wearables as [[device]] tables")
        if self.backend not in ("bleak", "bumble"):
            raise ConfigError(f"ble.backend must be 'bleak' or 'bumble', got {self.backend!r}")
        if self.backend == "bumble" and not self.bumble_transport:
            raise ConfigError("ble.transport is required with backend = 'bumble' (e.g. 'usb:0')")
        if not 23 <= self.mtu_bytes <= 517:
            raise ConfigError(f"ble.mtu_bytes must be in 23..517, got {self.mtu_bytes}")
        for name in ("scan_timeout_s", "connect_timeout_s", "backoff_scale"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"ble.{name} must be > 0, got {getattr(self, name)}")

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` (bleak's public API): the backend, if not default."""
        if self.backend == "bleak":
            return {}
        from devices.emulation.backend import BumbleScanner

        return {"backend": BumbleScanner, "bumble_transport": self.bumble_transport}

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient``; platform backends negotiate the MTU themselves."""
        if self.backend == "bleak":
            return {}
        from devices.emulation.backend import BumbleClient

        return {"backend": BumbleClient, "bumble_transport": self.bumble_transport, "mtu": self.mtu_bytes}
