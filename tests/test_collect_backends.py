"""The collector's radios are chosen by name; the collector knows no profile, devices no emulator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from monitor.collect import CollectorConfig, DeviceConfig
from monitor.collect.backends import BACKEND_NAMES, get_backend
from monitor.collect.backends.bumble import BumbleClient, BumbleScanner
from monitor.collect.mtu import DEFAULT_MTU_BYTES
from monitor.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_the_platform_radio_takes_bleaks_defaults() -> None:
    radio = get_backend("bleak")
    assert radio.scanner_kwargs(None) == {}
    assert radio.client_kwargs(None, 185) == {}


def test_the_bumble_radio_plugs_its_backends_into_bleak_on_the_transport() -> None:
    radio = get_backend("bumble")
    assert radio.scanner_kwargs("usb:0") == {"backend": BumbleScanner, "bumble_transport": "usb:0"}
    assert radio.client_kwargs("usb:0", 185) == {
        "backend": BumbleClient,
        "bumble_transport": "usb:0",
        "mtu": 185,
    }


def test_the_collector_asks_for_the_default_mtu_through_its_radio() -> None:
    config = CollectorConfig((DeviceConfig(name="SMREF-01"),), backend="bumble", bumble_transport="usb:0")
    assert config.client_kwargs()["mtu"] == DEFAULT_MTU_BYTES == 247


def test_an_unknown_radio_is_a_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match=r"one of bleak, bumble, got 'bluez'") as caught:
        get_backend("bluez")
    assert "\n" not in str(caught.value)
    assert set(BACKEND_NAMES) == {"bleak", "bumble"}


def _imports(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports (top level and inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


def test_devices_stay_bytes_only() -> None:
    for path, names in _imports("devices").items():
        wrong = {
            n for n in names if n.split(".")[0] in ("bumble", "emulators") or n.startswith("monitor.synth")
        }
        assert not wrong, f"{path} imports {sorted(wrong)}"


def test_the_collector_knows_no_profile_and_no_emulator() -> None:
    allowed = {"devices.base", "devices.registry"}  # the profile interface, and lookup by name
    for path, names in _imports("monitor/collect").items():
        wrong = {
            n
            for n in names
            if (n.startswith("devices.") and n not in allowed) or n.split(".")[0] == "emulators"
        }
        assert not wrong, f"{path} imports {sorted(wrong)}"
