"""``spasm-monitor devices scan`` against emulated wearables on the bumble hub."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.process import Emulated, start_emulated, start_extra_wearable, wearable_address
from monitor.cli import main

MYO_ADDRESS = "F3:00:00:00:00:01"
# Every other registered profile, advertising as the real device does (see each emulator).
OTHERS = {
    "F3:00:00:00:00:02": ("emulators.polar", ["--model", "sense"], "polar"),
    "F3:00:00:00:00:03": ("emulators.polar", ["--model", "h10"], "polar"),
    "F3:00:00:00:00:04": ("emulators.ganglion", [], "ganglion"),
}


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    """Two reference wearables, a Myo, two Polar sensors and a Ganglion: every profile."""
    started = start_emulated(2, tmp_path_factory.mktemp("scan"), extra_hosts=1 + len(OTHERS))
    try:
        start_extra_wearable(started, 3, ["--address", MYO_ADDRESS], module="emulators.myo")
        for port, (address, (module, argv, _)) in enumerate(OTHERS.items(), start=4):
            start_extra_wearable(started, port, ["--address", address, *argv], module=module)
        yield started
    finally:
        started.stop()


def _lines(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}


def test_scan_recognises_every_profile_from_its_advertisement(
    emulated: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml: the radio comes from the options
    argv = ["devices", "scan", "--backend", "bumble", "--transport", emulated.collector_transport]
    code = main([*argv, "--timeout-s", "2"])
    out = capsys.readouterr().out
    assert code == 0
    lines = _lines(out)
    for index in (1, 2):
        line = lines[wearable_address(index)]
        assert f"SMREF-{index:02d}" in line
        assert "reference" in line
        assert "dBm" in line
    assert "myo" in lines[MYO_ADDRESS]
    for address, (_, _, profile) in OTHERS.items():
        assert profile in lines[address], lines.get(address)


def test_scan_marks_the_configured_wearables(
    emulated: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p01"\n[ble]\nbackend = "bumble"\ntransport = "{emulated.collector_transport}"\n'
        f'[[device]]\nprofile = "reference"\naddress = "{wearable_address(2)}"\nplacement = "calf"\n'
    )
    code = main(["devices", "scan", "--config", str(config), "--timeout-s", "2"])
    lines = _lines(capsys.readouterr().out)
    assert code == 0
    assert lines[wearable_address(2)].rstrip().endswith("yes")
    assert not lines[wearable_address(1)].rstrip().endswith("yes")


def test_an_unreachable_transport_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["devices", "scan", "--backend", "bumble", "--transport", f"tcp-client:127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot scan with bumble transport" in err
    assert err.strip().count("\n") == 0
    assert main(["devices", "scan", "--backend", "bumble"]) == 2
    assert "needs --transport" in capsys.readouterr().err
