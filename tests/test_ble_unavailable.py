"""Without a usable radio, ``run`` says why in plain words and keeps retrying (issue 13, point 7).

The radio faults are real: bleak's BlueZ backend against no D-Bus system bus (a socket path
that does not exist), and against a real ``dbus-daemon`` on which no bluetoothd runs.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from monitor.cli import main
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.collect.errors import BluetoothUnavailableReason, bluetooth_unavailable
from monitor.store import Spool
from monitor.types import Record

ADDRESS = "F1:00:00:00:00:01"


@pytest.fixture
def no_system_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bleak's BlueZ backend sees no D-Bus system bus, as on a gateway without dbus."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")


@pytest.fixture
def bus_without_bluez(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A real D-Bus daemon on which no bluetoothd runs (dbus up, BlueZ not installed or stopped)."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.fail("dbus-daemon is not installed (apt-get install dbus)")
    address = f"unix:path={tmp_path / 'bus'}"
    process = subprocess.Popen(
        [daemon, "--session", "--nofork", "--print-address", f"--address={address}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # the daemon prints its address once it listens
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    yield
    process.terminate()
    process.wait(timeout=10)


def _write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p13"\n\n[[device]]\naddress = "{ADDRESS}"\n'
        'placement = "calf"\nmuscle = "soleus"\n\n'
        f'[ble]\nbackend = "bleak"\n\n[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    )
    return config


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("no_system_bus", BluetoothUnavailableReason.DBUS_NOT_RUNNING.words),
        ("bus_without_bluez", BluetoothUnavailableReason.BLUEZ_NOT_RUNNING.words),
    ],
)
def test_run_without_bluez_says_why_in_the_status_line_and_a_device_status(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    fixture: str,
    words: str,
) -> None:
    request.getfixturevalue(fixture)
    assert main(["run", "--config", str(_write_config(tmp_path)), "--duration-s", "1.5"]) == 0
    err = capsys.readouterr().err
    assert f"{ADDRESS} DOWN 0 samples ({words})" in err  # the status line, without -v
    assert "Errno" not in err.split("\n")[-2]  # plain words, not an errno
    statuses = Spool(tmp_path / "spool.sqlite").query(0, 2**62, measurement="device_status")
    retrying = [r for r in statuses if r.fields.get("state") == "retrying"]
    assert retrying
    assert retrying[0].fields["cause"] == words
    assert retrying[0].fields["connected"] is False
    assert str(retrying[0].fields["advice"])  # what to do about it


async def test_the_collector_keeps_retrying_without_bluez(no_system_bus: None) -> None:
    retries: list[Record] = []
    three = asyncio.Event()

    def sink(item: object) -> None:
        if isinstance(item, Record) and item.fields.get("state") == "retrying":
            retries.append(item)
            if len(retries) == 3:
                three.set()

    config = CollectorConfig((DeviceConfig(address=ADDRESS),), backoff_scale=0.01)
    collector = Collector(config, sink)
    task = asyncio.create_task(collector.run())
    await asyncio.wait_for(three.wait(), 30.0)  # backoff 5 s, 10 s, … scaled by 0.01
    assert collector.sessions[0].problem == BluetoothUnavailableReason.DBUS_NOT_RUNNING.words
    collector.stop()
    await asyncio.wait_for(task, 10.0)
    assert [r.fields["attempt"] for r in retries[:3]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (FileNotFoundError(2, "No such file or directory"), BluetoothUnavailableReason.DBUS_NOT_RUNNING),
        (PermissionError(13, "Permission denied"), BluetoothUnavailableReason.PERMISSION),
        (
            BleakDBusError(
                "org.freedesktop.DBus.Error.ServiceUnknown", ["The name org.bluez was not provided"]
            ),
            BluetoothUnavailableReason.BLUEZ_NOT_RUNNING,
        ),
        (
            BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []),
            BluetoothUnavailableReason.PERMISSION,
        ),
        (
            BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
            BluetoothUnavailableReason.ADAPTER_OFF,
        ),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            BluetoothUnavailableReason.NO_ADAPTER,
        ),
        (
            BleakBluetoothNotAvailableError(
                "No powered Bluetooth adapters found.", BleakBluetoothNotAvailableReason.POWERED_OFF
            ),
            BluetoothUnavailableReason.ADAPTER_OFF,
        ),
        (
            BleakBluetoothNotAvailableError("auth", BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM),
            BluetoothUnavailableReason.PERMISSION,
        ),
    ],
)
def test_bleak_errors_map_to_a_reason_with_advice(
    error: Exception, reason: BluetoothUnavailableReason
) -> None:
    unavailable = bluetooth_unavailable(error)
    assert unavailable is not None
    assert unavailable.reason is reason
    assert reason.advice in str(unavailable)


def test_errors_about_one_wearable_are_not_radio_errors() -> None:
    assert bluetooth_unavailable(LookupError("not advertising")) is None
    assert bluetooth_unavailable(TimeoutError()) is None
    assert (
        bluetooth_unavailable(BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"]))
        is None
    )
    # On bumble an OSError is the HCI transport, not D-Bus.
    refused = bluetooth_unavailable(ConnectionRefusedError(111, "refused"), backend="bumble")
    assert refused is not None
    assert refused.reason is BluetoothUnavailableReason.TRANSPORT_UNREACHABLE
