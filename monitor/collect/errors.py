"""Why nothing is collected, in plain words: bleak's errors mapped to reasons with advice.

bleak reports an unusable radio in several shapes, depending on where the BlueZ backend
(``bleak/backends/bluezdbus/manager.py`` in bleak 3.1) fails:

- no D-Bus system bus at all: ``FileNotFoundError`` (``[Errno 2]``) from connecting to
  ``/run/dbus/system_bus_socket``, before any bleak type is involved;
- a bus the user may not use: ``PermissionError``, dbus-fast's ``AuthError`` wrapped as
  :class:`~bleak.exc.BleakBluetoothNotAvailableError` (``DENIED_BY_SYSTEM``), or a
  :class:`~bleak.exc.BleakDBusError` named ``org.freedesktop.DBus.Error.AccessDenied``;
- a bus without bluetoothd: ``BleakDBusError`` ``org.freedesktop.DBus.Error.ServiceUnknown``
  (or ``NameHasNoOwner``) from ``GetManagedObjects`` on ``org.bluez``;
- BlueZ without an adapter, without a BLE central one, or with all adapters off:
  ``BleakBluetoothNotAvailableError`` with reason ``NO_BLUETOOTH``, ``NO_BLE_CENTRAL_ROLE``
  or ``POWERED_OFF``; an adapter switched off under a scan: ``org.bluez.Error.NotReady``.

:func:`bluetooth_unavailable` turns each into a :class:`BluetoothUnavailableError` (a
:class:`~monitor.errors.DeviceError`) whose :class:`BluetoothUnavailableReason` says what
is wrong and what to do, as bleak's ``BleakBluetoothNotAvailableReason`` does.
"""

from __future__ import annotations

import enum

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from monitor.errors import DeviceError, SpasmMonitorError


class BluetoothUnavailableReason(enum.Enum):
    """Why the gateway's radio cannot be used: (plain words, advice)."""

    NO_ADAPTER = ("no Bluetooth adapter", "plug in a Bluetooth LE adapter (or check `hciconfig -a`)")
    NO_CENTRAL_ROLE = (
        "the Bluetooth adapter cannot scan for LE devices",
        "use a Bluetooth 4.0+ LE adapter",
    )
    BLUEZ_NOT_RUNNING = (
        "BlueZ (bluetoothd) is not running",
        "start it: `sudo systemctl enable --now bluetooth`",
    )
    DBUS_NOT_RUNNING = (
        "no D-Bus system bus, so BlueZ cannot be reached",
        "install and start dbus and bluez (`sudo apt install bluez`), or set [ble] backend = 'bumble'",
    )
    ADAPTER_OFF = (
        "the Bluetooth adapter is off",
        "turn it on: `bluetoothctl power on` (and `rfkill unblock bluetooth`)",
    )
    PERMISSION = (
        "no permission to use Bluetooth",
        "run as a user in the 'bluetooth' group, or allow it in /etc/dbus-1/system.d/bluetooth.conf",
    )
    TRANSPORT_UNREACHABLE = (
        "the Bluetooth controller (bumble transport) cannot be opened",
        "check [ble] transport: the USB dongle is plugged in, or the emulation hub runs",
    )

    @property
    def words(self) -> str:
        """What is wrong, for a status line."""
        return self.value[0]

    @property
    def advice(self) -> str:
        """What the user can do about it."""
        return self.value[1]


class BluetoothUnavailableError(DeviceError):
    """The gateway's Bluetooth cannot be used: nothing can be collected until the user acts."""

    def __init__(self, reason: BluetoothUnavailableReason, detail: str = "") -> None:
        message = f"{reason.words}" + (f" ({detail})" if detail else "")
        super().__init__(message, reason.advice)
        self.reason = reason
        self.detail = detail


class RunStoppedError(SpasmMonitorError):
    """A part of a live run that must never end (the record consumer, the forwarder) died."""

    default_advice = "the service manager restarts the run; if this recurs, send the log to the maintainers"


_BLEAK_REASONS = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: BluetoothUnavailableReason.NO_ADAPTER,
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: BluetoothUnavailableReason.NO_CENTRAL_ROLE,
    BleakBluetoothNotAvailableReason.POWERED_OFF: BluetoothUnavailableReason.ADAPTER_OFF,
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: BluetoothUnavailableReason.PERMISSION,
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: BluetoothUnavailableReason.PERMISSION,
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: BluetoothUnavailableReason.PERMISSION,
}
# D-Bus error names (freedesktop D-Bus specification; BlueZ doc/org.bluez.Adapter.rst).
_DBUS_REASONS = {
    "org.freedesktop.DBus.Error.ServiceUnknown": BluetoothUnavailableReason.BLUEZ_NOT_RUNNING,
    "org.freedesktop.DBus.Error.NameHasNoOwner": BluetoothUnavailableReason.BLUEZ_NOT_RUNNING,
    "org.freedesktop.DBus.Error.AccessDenied": BluetoothUnavailableReason.PERMISSION,
    "org.bluez.Error.NotReady": BluetoothUnavailableReason.ADAPTER_OFF,
}


def bluetooth_unavailable(error: BaseException, backend: str = "bleak") -> BluetoothUnavailableError | None:
    """The radio problem behind ``error``, or None when it is about one wearable or link.

    Parameters
    ----------
    error : BaseException
        What a bleak scan or connect raised.
    backend : {"bleak", "bumble"}
        The collector's radio: an ``OSError`` means no D-Bus on BlueZ, but an unreachable
        HCI transport on bumble.

    Examples
    --------
    >>> bluetooth_unavailable(FileNotFoundError(2, "No such file or directory")).reason.name
    'DBUS_NOT_RUNNING'
    >>> bluetooth_unavailable(TimeoutError()) is None
    True
    """
    if isinstance(error, BluetoothUnavailableError):
        return error
    if backend == "bumble":
        if isinstance(error, OSError):  # refused TCP HCI, missing USB dongle
            return BluetoothUnavailableError(BluetoothUnavailableReason.TRANSPORT_UNREACHABLE, str(error))
        return None
    if isinstance(error, BleakBluetoothNotAvailableError):
        reason = _BLEAK_REASONS.get(error.reason)
        # UNKNOWN: bleak could not tell; "no adapter" is what a user would check first.
        return BluetoothUnavailableError(reason or BluetoothUnavailableReason.NO_ADAPTER, str(error.args[0]))
    if isinstance(error, BleakDBusError):
        reason = _DBUS_REASONS.get(error.dbus_error)
        return BluetoothUnavailableError(reason, str(error)) if reason is not None else None
    if isinstance(error, PermissionError):  # the bus socket's permissions
        return BluetoothUnavailableError(BluetoothUnavailableReason.PERMISSION, str(error))
    if isinstance(error, FileNotFoundError | ConnectionRefusedError):  # no bus socket, or a dead bus
        return BluetoothUnavailableError(BluetoothUnavailableReason.DBUS_NOT_RUNNING, str(error))
    return None
