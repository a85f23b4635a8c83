"""``[dsp]``: the EMG detector's parameters (:class:`monitor.dsp.EmgParams`), defaults if absent."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from monitor.config.reader import TableReader
from monitor.dsp import EmgParams
from monitor.errors import ConfigError


def read_emg_params(table: Mapping[str, Any]) -> EmgParams:
    """Type-check each key against the parameter's default, then let EmgParams check ranges."""
    reader = TableReader(table, "dsp")
    defaults = EmgParams()
    values: dict[str, Any] = {}
    for param in dataclasses.fields(EmgParams):
        if not reader.has(param.name):
            continue
        default = getattr(defaults, param.name)
        if isinstance(default, bool):
            values[param.name] = reader.boolean(param.name)
        elif isinstance(default, int):
            values[param.name] = reader.integer(param.name)
        elif isinstance(default, tuple):
            value = reader.raw(param.name)
            if not (
                isinstance(value, list)
                and len(value) == len(default)
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            ):
                raise reader.error(param.name, f"a list of {len(default)} numbers", value)
            values[param.name] = tuple(float(v) for v in value)
        elif param.name == "mains_hz" and reader.raw(param.name) == 0:
            values[param.name] = None  # TOML has no null: 0 turns the mains notch off
        else:
            values[param.name] = reader.number(param.name)
    reader.done()
    try:
        return EmgParams(**values)
    except ValueError as error:
        raise ConfigError(f"dsp.{error}") from None
