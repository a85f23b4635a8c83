"""``spasm-monitor devices scan``: the BLE devices in range, and which profile knows each.

The scan goes through bleak's public ``BleakScanner`` with the radio of ``[ble]`` in
``config.toml`` (or ``--backend``/``--transport``: ``bumble`` with
``tcp-client:127.0.0.1:PORT`` scans the emulation hub). Each advertisement is shown to
every registered profile (:func:`devices.registry.recognise`), so a new profile is listed
as soon as it is registered; devices of the allow-list are marked as configured.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.exc import BleakError

from devices.registry import recognise
from monitor.commands.config import add_config_argument
from monitor.commands.recorded_config import optional_config
from monitor.config import AppConfig
from monitor.errors import ConfigError, DeviceError

DEFAULT_SCAN_S = 5.0


@dataclass(frozen=True, slots=True)
class SeenDevice:
    """One advertiser heard during a scan."""

    address: str
    name: str | None
    rssi_dbm: int | None
    profile: str | None  # the registered profile that recognises it
    configured: bool  # matches a [[device]] of config.toml


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = commands.add_parser("devices", help="find and list BLE wearables")
    actions = devices.add_subparsers(dest="devices_action", required=True)
    scan = actions.add_parser("scan", help="list nearby BLE devices and the profile that recognises each")
    scan.add_argument("--timeout-s", type=float, default=DEFAULT_SCAN_S, help="how long to listen, s")
    scan.add_argument("--backend", choices=("bleak", "bumble"), default=None, help="radio (default: [ble])")
    scan.add_argument(
        "--transport", default=None, help="bumble transport, e.g. usb:0 or tcp-client:127.0.0.1:PORT"
    )
    scan.add_argument("--all", action="store_true", help="also list devices no profile recognises")
    add_config_argument(scan)
    scan.set_defaults(handler=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    if not args.timeout_s > 0:
        raise ConfigError(f"--timeout-s must be > 0, got {args.timeout_s}", "")
    config = optional_config(args)
    backend = args.backend or (config.ble.backend if config else "bleak")
    transport = args.transport or (config.ble.transport if config else None)
    if backend == "bumble" and not transport:
        raise ConfigError("--backend bumble needs --transport (e.g. usb:0 or tcp-client:127.0.0.1:9000)", "")
    seen = asyncio.run(scan(args.timeout_s, backend, transport, config))
    shown = [d for d in seen if args.all or d.profile or d.configured]
    print_devices(shown, len(seen) - len(shown))
    return 0


async def scan(
    timeout_s: float, backend: str, transport: str | None, config: AppConfig | None = None
) -> list[SeenDevice]:
    """Listen for ``timeout_s`` and return every advertiser, strongest signal first.

    Raises
    ------
    DeviceError
        No usable radio (no BlueZ/D-Bus, a bumble transport that does not answer).
    """
    kwargs: dict[str, Any] = {}
    if backend == "bumble":
        from devices.emulation.backend import BumbleScanner

        kwargs = {"backend": BumbleScanner, "bumble_transport": transport}
    try:
        found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **kwargs)
    except (BleakError, OSError) as error:
        where = f"bumble transport {transport}" if backend == "bumble" else "the system's Bluetooth adapter"
        reason = str(error) or type(error).__name__
        if backend == "bleak" and isinstance(error, FileNotFoundError):
            reason = "no D-Bus system bus (BlueZ is not running here)"  # how bleak fails without BlueZ
        raise DeviceError(
            f"cannot scan with {where}: {reason}",
            "check the adapter is present and powered (bluetoothctl show), or the transport",
        ) from None
    finally:
        if backend == "bumble":
            from devices.emulation.backend import close_hosts

            await close_hosts()
    allow = config.collector_config().devices if config and config.devices else ()
    devices = [
        SeenDevice(
            address=device.address,
            name=adv.local_name,
            rssi_dbm=adv.rssi,
            profile=recognise(adv.local_name, adv.service_uuids),
            configured=any(entry.matches(device, adv) for entry in allow),
        )
        for device, adv in found.values()
    ]
    return sorted(devices, key=lambda d: (-(d.rssi_dbm if d.rssi_dbm is not None else -999), d.address))


def print_devices(devices: Sequence[SeenDevice], hidden: int) -> None:
    """One line per device: address, name, RSSI, profile, configured."""
    if not devices:
        print("no wearable found" + (f" ({hidden} other BLE devices; --all lists them)" if hidden else ""))
        return
    print(f"{'address':<18} {'name':<24} {'RSSI':>9}  {'profile':<10} configured")
    for d in devices:
        rssi = "-" if d.rssi_dbm is None else f"{d.rssi_dbm} dBm"
        print(
            f"{d.address:<18} {(d.name or '-')[:24]:<24} {rssi:>9}  {d.profile or '-':<10}"
            f" {'yes' if d.configured else ''}"
        )
    if hidden:
        print(f"({hidden} other BLE devices no profile recognises; --all lists them)")
