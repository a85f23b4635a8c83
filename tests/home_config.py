"""A home's ``config.toml`` of reference wearables on the left side, for tests over emulated BLE."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def left_side_home_toml(
    wearables: Sequence[tuple[str, str, str]], transport: str, spool_path: Path, patient_keys: str = ""
) -> str:
    """The text of a ``config.toml`` for patient p07.

    ``wearables`` are (address, placement, further TOML lines such as ``joint = "knee"``);
    BLE goes through bumble on ``transport``; ``patient_keys`` are further ``[patient]`` lines.
    """
    devices = "".join(
        f'[[device]]\nprofile = "reference"\naddress = "{address}"\n'
        f'placement = "{placement}"\nside = "left"\n{keys}\n\n'
        for address, placement, keys in wearables
    )
    return (
        f'[patient]\nid = "p07"\n{patient_keys}\n'
        + devices
        + f'[ble]\nbackend = "bumble"\ntransport = "{transport}"\nscan_timeout_s = 5.0\n\n'
        + f'[store]\nspool_path = "{spool_path}"\n'
    )


def write_left_side_home(tmp_path: Path, wearables: Sequence[tuple[str, str, str]], transport: str) -> Path:
    """Write :func:`left_side_home_toml` to ``tmp_path/config.toml``, the spool beside it; its path."""
    path = tmp_path / "config.toml"
    path.write_text(left_side_home_toml(wearables, transport, tmp_path / "spool.sqlite"))
    return path
