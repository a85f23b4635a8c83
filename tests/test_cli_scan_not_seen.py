"""``devices scan`` lists the configured wearables it did not hear, with their place (issue 15.8)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.process import Emulated, start_emulated, wearable_address
from monitor.cli import main

ABSENT = "C4:7C:8D:6A:12:34"  # configured, never advertising


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    started = start_emulated(1, tmp_path_factory.mktemp("scan"))
    try:
        yield started
    finally:
        started.stop()


def test_a_configured_wearable_not_heard_is_listed_as_not_seen(
    emulated: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p01"\n[ble]\nbackend = "bumble"\ntransport = "{emulated.collector_transport}"\n'
        f'[[device]]\nprofile = "reference"\naddress = "{wearable_address(1)}"\nplacement = "calf"\n'
        'side = "left"\nmuscle = "gastrocnemius"\n'
        f'[[device]]\nprofile = "reference"\naddress = "{ABSENT}"\nplacement = "thigh"\nside = "right"\n'
    )
    code = main(["devices", "scan", "--config", str(config), "--timeout-s", "2"])
    out = capsys.readouterr().out
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line[:1].isalnum()}
    seen = lines[wearable_address(1)]
    assert "dBm" in seen
    assert "left calf, gastrocnemius" in seen
    assert seen.rstrip().endswith("yes")
    absent = lines[ABSENT]
    assert "not seen" in absent
    assert "right thigh" in absent
    assert "1 configured wearable(s) not seen" in out
