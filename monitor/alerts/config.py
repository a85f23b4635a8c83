"""The ``[alerts]`` table of config.toml: thresholds and where the notification URLs come from.

Example::

    [alerts]
    spike_sigma = 3.0
    cooldown_min = 60
    notify_urls_env = "SPASM_MONITOR_NOTIFY_URLS"   # default; URLs separated by spaces, commas or newlines
    notify_urls_file = "/etc/spasm-monitor/notify"  # optional; one URL a line, '#' comments

URLs may carry credentials, so they are never inline in config.toml (ARCHITECTURE.md:
Configuration); both sources are read and combined.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from monitor.alerts.thresholds import AlertThresholds
from monitor.errors import ConfigError

DEFAULT_URLS_ENV = "SPASM_MONITOR_NOTIFY_URLS"
_SOURCE_KEYS = ("notify_urls_env", "notify_urls_file")


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Validated ``[alerts]``: the thresholds and the notification URLs (secret: never print them)."""

    thresholds: AlertThresholds
    notify_urls: tuple[str, ...]

    def __repr__(self) -> str:  # the URLs may hold credentials
        return f"AlertConfig(thresholds={self.thresholds!r}, notify_urls=<{len(self.notify_urls)} hidden>)"


def load_alert_config(table: Mapping[str, object], environ: Mapping[str, str] | None = None) -> AlertConfig:
    """Validate the ``[alerts]`` table and read the notification URLs.

    Parameters
    ----------
    table : mapping
        The parsed ``[alerts]`` table (may be empty: all defaults).
    environ : mapping, optional
        Environment to read the URL variable from; ``os.environ`` by default.

    Raises
    ------
    ConfigError
        An unknown key, a value of the wrong type or range, or an unreadable URL file; the
        one-line message names the key.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(AlertThresholds)}
    values: dict[str, object] = {}
    for key, value in table.items():
        if key in _SOURCE_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"alerts.{key} must be a string, got {type(value).__name__}")
            continue
        if key == "notify_urls":
            raise ConfigError(
                "alerts.notify_urls: URLs may hold credentials, give them in notify_urls_env or _file"
            )
        if key not in fields:
            raise ConfigError(
                f"alerts.{key} is not a known key (known: {', '.join([*fields, *_SOURCE_KEYS])})"
            )
        wanted = int if fields[key].type in (int, "int") else float
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (wanted is int and isinstance(value, float))
        ):
            raise ConfigError(f"alerts.{key} must be a number ({wanted.__name__}), got {value!r}")
        values[key] = wanted(value)
    try:
        thresholds = AlertThresholds(**values)  # type: ignore[arg-type]
    except ValueError as error:
        raise ConfigError(str(error)) from None
    urls = _split(env.get(str(table.get("notify_urls_env", DEFAULT_URLS_ENV)), ""))
    if "notify_urls_file" in table:
        path = Path(str(table["notify_urls_file"]))
        try:
            lines = path.read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"alerts.notify_urls_file: cannot read {path}: {error.strerror}") from None
        urls += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return AlertConfig(thresholds, tuple(urls))


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text) if part]
