"""A home's ``config.toml`` of reference wearables on the left side, for tests over emulated BLE."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def write_left_side_home(tmp_path: Path, wearables: Sequence[tuple[str, str, str]], transport: str) -> Path:
    """Write ``tmp_path/config.toml`` for patient p07 and return its path.

    ``wearables`` are (address, placement, further TOML lines such as ``joint = "knee"``);
    the spool is ``tmp_path/spool.sqlite``; BLE goes through bumble on ``transport``.
    """
    devices = "".join(
        f'[[device]]\nprofile = "reference"\naddress = "{address}"\n'
        f'placement = "{placement}"\nside = "left"\n{keys}\n\n'
        for address, placement, keys in wearables
    )
    path = tmp_path / "config.toml"
    path.write_text(
        '[patient]\nid = "p07"\n\n'
        + devices
        + f'[ble]\nbackend = "bumble"\ntransport = "{transport}"\nscan_timeout_s = 5.0\n\n'
        + f'[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    )
    return path
