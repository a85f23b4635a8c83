"""Collector configuration: which wearables to trust and which radio to use.

:class:`BleConfig` is ``config.toml``'s ``[ble]``, with each default and limit of the radio
written once; :class:`CollectorConfig` adds the ``[[device]]`` allow-list and is built by
:meth:`monitor.config.AppConfig.collector_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from devices.registry import PROFILES
from monitor.bounds import check_bounds
from monitor.collect.backends import BACKEND_NAMES, get_backend
from monitor.collect.mtu import DEFAULT_MTU_BYTES
from monitor.collect.queue import DEFAULT_MAX_ITEMS
from monitor.errors import ConfigError

Backend = Literal["bleak", "bumble"]

# Bluetooth Core 5.4, Vol 3, Part F, 3.2.8: an LE link's ATT MTU is at least 23 bytes.
ATT_MTU_MIN_BYTES = 23
# The longest attribute value is 512 bytes (Vol 3, Part F, 3.2.9); 517 also fits a Prepare
# Write's 5-byte header, and no larger MTU is of any use (Android and bumble stop there too).
ATT_MTU_MAX_BYTES = 517
# A fifth of a second of eight wearables at full rate (about 480 frames/s): a smaller queue
# overflows on the ordinary jitter of the event loop.
QUEUE_MIN_ITEMS = 100


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


@dataclass(frozen=True, slots=True, kw_only=True)
class BleConfig:
    """``[ble]``: the radio, and the one place of each of its defaults and limits.

    ``config.toml``'s reader takes the keys, types and defaults from these fields, and the
    ranges from :meth:`__post_init__`; :class:`CollectorConfig` adds the wearables.

    Parameters
    ----------
    backend : {"bleak", "bumble"}
        ``bleak``: the platform's adapter (BlueZ, CoreBluetooth, WinRT). ``bumble``: bumble's
        stack on ``bumble_transport`` (a USB dongle ``usb:0`` or the emulation hub).
    bumble_transport : str or None
        bumble transport spec (the key ``transport``), required with ``backend = "bumble"``.
    mtu_bytes : int
        ATT MTU to request, 23 to 517 (:data:`~monitor.collect.mtu.DEFAULT_MTU_BYTES`).
    scan_timeout_s, connect_timeout_s : float
        Per attempt, s.
    queue_max_items : int
        Bound of the Frame/Record queue (:data:`~monitor.collect.queue.DEFAULT_MAX_ITEMS`).

    Raises
    ------
    ValueError
        A value out of its range, naming the key (the reader adds ``ble.``).
    """

    backend: Backend = "bleak"
    bumble_transport: str | None = field(default=None, metadata={"toml_key": "transport"})
    mtu_bytes: int = DEFAULT_MTU_BYTES
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    queue_max_items: int = DEFAULT_MAX_ITEMS

    def __post_init__(self) -> None:
        if self.backend not in BACKEND_NAMES:
            raise ValueError(f"backend must be one of {', '.join(BACKEND_NAMES)}, got {self.backend!r}")
        if self.backend == "bumble" and not self.bumble_transport:
            raise ValueError(
                "transport is missing: backend 'bumble' needs a transport such as 'usb:0'"
                " or 'tcp-client:127.0.0.1:9000'"
            )
        check_bounds(self, ("mtu_bytes",), at_least=ATT_MTU_MIN_BYTES, at_most=ATT_MTU_MAX_BYTES)
        check_bounds(self, ("scan_timeout_s", "connect_timeout_s"), above=0)
        check_bounds(self, ("queue_max_items",), at_least=QUEUE_MIN_ITEMS)


@dataclass(frozen=True, slots=True)
class CollectorConfig(BleConfig):
    """Everything the collector needs: the radio (:class:`BleConfig`, keywords) and the wearables.

    Parameters
    ----------
    devices : tuple of DeviceConfig
        The allow-list; one session each.
    backoff_scale : float
        Multiplies every backoff delay (tests compress time with it); not a config.toml key.
    """

    devices: tuple[DeviceConfig, ...]
    backoff_scale: float = 1.0

    def __post_init__(self) -> None:
        BleConfig.__post_init__(self)  # not super(): slots=True makes a new class, which super() misses
        if not self.devices:
            raise ConfigError("no device to collect: list the wearables as [[device]] tables")
        check_bounds(self, ("backoff_scale",), above=0)

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` (bleak's public API): the backend, if not default."""
        return get_backend(self.backend).scanner_kwargs(self.bumble_transport)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient``; platform backends negotiate the MTU themselves."""
        return get_backend(self.backend).client_kwargs(self.bumble_transport, self.mtu_bytes)
