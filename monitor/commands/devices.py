"""``spasm-monitor devices scan``: the BLE devices in range, and which profile knows each.

The scan goes through bleak's public ``BleakScanner`` with the radio of ``[ble]`` in
``config.toml`` (or ``--backend``/``--transport``: ``bumble`` with
``tcp-client:127.0.0.1:PORT`` scans the emulation hub). Each advertisement is shown to
every registered profile (:func:`devices.registry.recognise`), so a new profile is listed
as soon as it is registered; devices of the allow-list are marked as configured, and the
configured ones that were not heard are listed too, with what to check.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.exc import BleakError

from devices.registry import recognise
from monitor.collect.backends import BACKEND_NAMES, get_backend
from monitor.commands.config import add_config_argument
from monitor.commands.recorded_config import optional_config
from monitor.config import AppConfig
from monitor.config.devices import DeviceEntry
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
    seen: bool = True  # False: a [[device]] of config.toml that did not advertise during the scan
    where: str = ""  # a configured wearable's place ("left calf, gastrocnemius")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = commands.add_parser("devices", help="find and list BLE wearables")
    actions = devices.add_subparsers(dest="devices_action", required=True)
    scan = actions.add_parser("scan", help="list nearby BLE devices and the profile that recognises each")
    scan.add_argument("--timeout-s", type=float, default=DEFAULT_SCAN_S, help="how long to listen, s")
    scan.add_argument("--backend", choices=BACKEND_NAMES, default=None, help="radio (default: [ble])")
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
    transport = args.transport or (config.ble.bumble_transport if config else None)
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
    radio = get_backend(backend)
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, **radio.scanner_kwargs(transport)
        )
    except (BleakError, OSError) as error:
        raise _scan_failure(error, backend, transport) from None
    except Exception as error:
        # bumble opens the user's transport: libusb, serial and its own errors surface here,
        # none of them a bug of ours, all of them something the user can check.
        if backend != "bumble":
            raise
        raise _scan_failure(error, backend, transport) from None
    finally:
        await radio.close()
    entries = config.devices if config else ()
    heard = [False] * len(entries)
    devices = []
    for device, adv in found.values():
        matched = [i for i, entry in enumerate(entries) if entry.collector_device().matches(device, adv)]
        for i in matched:
            heard[i] = True
        where = ", ".join(_place(entries[i]) for i in matched)
        devices.append(
            SeenDevice(
                address=device.address,
                name=adv.local_name,
                rssi_dbm=adv.rssi,
                profile=recognise(adv.local_name, adv.service_uuids),
                configured=bool(matched),
                where=where,
            )
        )
    devices.sort(key=lambda d: (-(d.rssi_dbm if d.rssi_dbm is not None else -999), d.address))
    missing = [
        SeenDevice(entry.address or "-", entry.name, None, entry.profile, True, False, _place(entry))
        for entry, was_heard in zip(entries, heard, strict=True)
        if not was_heard
    ]
    return devices + missing


def _place(entry: DeviceEntry) -> str:
    """Where a configured wearable sits, in words: "left calf, gastrocnemius"."""
    side = "" if entry.side == "none" else f"{entry.side} "
    muscle = f", {entry.muscle}" if entry.muscle else ""
    return f"{side}{entry.placement}{muscle}"


# libusb's error names (usb1 raises them by name) and what each means for a Bluetooth dongle.
_USB_ADVICE = {
    "LIBUSB_ERROR_ACCESS": "no permission for the USB dongle: add a udev rule giving the service user access",
    "LIBUSB_ERROR_BUSY": "the kernel's Bluetooth driver holds the dongle: `sudo hciconfig hciN down` first",
    "LIBUSB_ERROR_NOT_FOUND": "no USB Bluetooth dongle at that index: plug one in (`lsusb` lists it)",
    "LIBUSB_ERROR_NO_DEVICE": "no USB Bluetooth dongle at that index: plug one in (`lsusb` lists it)",
}
_USB_DEFAULT_ADVICE = (
    "no usable USB Bluetooth dongle: plug one in (`lsusb` lists it); in a container, pass the USB"
    " device through; the kernel's driver must not hold it (`sudo hciconfig hciN down`)"
)


def _scan_failure(error: Exception, backend: str, transport: str | None) -> DeviceError:
    """The one-line error for a radio that cannot scan, with what to check."""
    reason = " ".join(str(error).split()) or type(error).__name__
    if backend == "bleak":
        if isinstance(error, FileNotFoundError):
            reason = "no D-Bus system bus (BlueZ is not running here)"  # how bleak fails without BlueZ
        return DeviceError(
            f"cannot scan with the system's Bluetooth adapter: {reason}",
            "check the adapter is present and powered (bluetoothctl show)",
        )
    advice = "check the transport (bumble's syntax, e.g. usb:0, serial:/dev/ttyUSB0, tcp-client:HOST:PORT)"
    if type(error).__module__.startswith("usb1") or (transport or "").startswith("usb"):
        advice = next((text for name, text in _USB_ADVICE.items() if name in reason), _USB_DEFAULT_ADVICE)
    return DeviceError(f"cannot scan with bumble transport {transport}: {reason}", advice)


def print_devices(devices: Sequence[SeenDevice], hidden: int) -> None:
    """One line per device: address, name, RSSI, profile, place and configured."""
    if not any(d.seen for d in devices):
        print("no wearable found" + (f" ({hidden} other BLE devices; --all lists them)" if hidden else ""))
    if devices:
        print(f"{'address':<18} {'name':<24} {'RSSI':>9}  {'profile':<10} {'place':<24} configured")
    for d in devices:
        rssi = "not seen" if not d.seen else "-" if d.rssi_dbm is None else f"{d.rssi_dbm} dBm"
        print(
            f"{d.address:<18} {(d.name or '-')[:24]:<24} {rssi:>9}  {d.profile or '-':<10}"
            f" {(d.where or '-')[:24]:<24} {'yes' if d.configured else ''}"
        )
    if hidden and any(d.seen for d in devices):
        print(f"({hidden} other BLE devices no profile recognises; --all lists them)")
    if missing := sum(not d.seen for d in devices):
        print(
            f"{missing} configured wearable(s) not seen: check each is charged, in range and not"
            " connected to its phone app, and its address in config.toml"
        )
