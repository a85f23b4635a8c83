"""``[dsp]``: the EMG detector's parameters (:class:`monitor.dsp.EmgParams`), defaults if absent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.config.reader import TableReader
from monitor.dsp import EmgParams
from monitor.errors import ConfigError

# Every public grid runs at 50 or 60 Hz; a notch anywhere else leaves the hum in and cuts EMG.
MAINS_HZ = (50, 60)
_MAINS_EXPECTED = "50 or 60 (the mains frequency, Hz) or 0 to turn the notch off"


def read_emg_params(table: Mapping[str, Any]) -> EmgParams:
    """Each key typed by its field of EmgParams; EmgParams checks the ranges."""
    reader = TableReader(table, "dsp")
    params = reader.dataclass(EmgParams, special={"mains_hz": _mains_hz})
    reader.done()
    return params


def _mains_hz(reader: TableReader) -> float | None:
    """50 or 60 Hz; 0 or "none" turns the notch off (TOML has no null)."""
    value = reader.raw("mains_hz")
    if isinstance(value, str) and value.lower() == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise reader.error("mains_hz", _MAINS_EXPECTED, value)
    if value == 0:
        return None
    if value not in MAINS_HZ:
        near = [hz for hz in MAINS_HZ if abs(hz - value) < 5]  # a typo of one, not a guess
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ConfigError(f"{reader.error('mains_hz', _MAINS_EXPECTED, value).args[0]}{hint}")
    return float(value)
