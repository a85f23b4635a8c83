"""``[alerts]``: the alert thresholds, and where the notification URLs come from.

Example::

    [alerts]
    spike_sigma = 3.0
    cooldown_min = 60
    notify_urls_env = "SPASM_MONITOR_NOTIFY_URLS"   # default; URLs separated by spaces, commas or newlines
    notify_urls_file = "/etc/spasm-monitor/notify"  # optional; one URL a line, '#' comments

The thresholds are :class:`~monitor.alerts.AlertThresholds`, read like every parameter
class (:meth:`~monitor.config.reader.TableReader.dataclass`). URLs may carry credentials,
so they are never inline in config.toml (ARCHITECTURE.md: Configuration); both sources are
read and combined.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.alerts.thresholds import AlertThresholds
from monitor.config.reader import TableReader
from monitor.config.store import resolve_path
from monitor.errors import ConfigError

DEFAULT_URLS_ENV = "SPASM_MONITOR_NOTIFY_URLS"


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Validated ``[alerts]``: the thresholds and the notification URLs (secret: never print them)."""

    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    notify_urls: tuple[str, ...] = ()

    def __repr__(self) -> str:  # the URLs may hold credentials
        return f"AlertConfig(thresholds={self.thresholds!r}, notify_urls=<{len(self.notify_urls)} hidden>)"


def read_alerts(
    table: Mapping[str, Any], environ: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> AlertConfig:
    """Validate the ``[alerts]`` table and read the notification URLs.

    Parameters
    ----------
    table : mapping
        The parsed ``[alerts]`` table (may be empty: all defaults).
    environ : mapping, optional
        Environment to read the URL variable from; ``os.environ`` by default.
    base_dir : Path, optional
        The config file's folder, against which a relative ``notify_urls_file`` is resolved.

    Raises
    ------
    ConfigError
        An unknown key, a value of the wrong type or range, or an unreadable URL file; the
        one-line message names the key.
    """
    reader = TableReader(table, "alerts")
    if "notify_urls" in table:
        raise ConfigError(
            "alerts.notify_urls: URLs may hold credentials, give them in notify_urls_env or _file"
        )
    thresholds = reader.dataclass(AlertThresholds)
    urls_env = reader.string("notify_urls_env", DEFAULT_URLS_ENV)
    urls_file = reader.optional_string("notify_urls_file")
    reader.done()
    env = os.environ if environ is None else environ
    urls = _split(env.get(urls_env, ""))
    if urls_file is not None:
        path = resolve_path(urls_file, base_dir)
        try:
            lines = path.read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"alerts.notify_urls_file: cannot read {path}: {error.strerror}") from None
        urls += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return AlertConfig(thresholds, tuple(urls))


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", text) if part]
