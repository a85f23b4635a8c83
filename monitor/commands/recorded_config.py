"""The configuration a recording keeps (secret-free), and an optional ``--config``."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from monitor.commands.config import DEFAULT_CONFIG
from monitor.config import AppConfig, load_config, parse_config
from monitor.errors import ConfigError

# Sections a recording keeps: what was worn where, the radio and the detector settings. The
# store, Grafana and alert sections are left out: they name tokens and notification URLs.
SNAPSHOT_SECTIONS = ("patient", "device", "ble", "dsp")


def optional_config(args: argparse.Namespace) -> AppConfig | None:
    """The ``--config`` file, validated; None when none was named and the default is absent."""
    path: Path = args.config or DEFAULT_CONFIG
    if path == DEFAULT_CONFIG and not path.exists():
        return None
    return load_config(path)


def config_snapshot(config: AppConfig) -> dict[str, Any]:
    """The snapshot sections of the configuration file, as TOML read them (no secrets)."""
    try:
        document = tomllib.loads(Path(config.source).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}  # a configuration not read from a file has nothing to snapshot
    return {name: document[name] for name in SNAPSHOT_SECTIONS if name in document}


def config_from_snapshot(snapshot: dict[str, Any], source: str) -> AppConfig | None:
    """Rebuild the configuration kept in a recording; None if it kept none."""
    if "patient" not in snapshot:
        return None
    try:
        return parse_config(snapshot, environ={}, source=source)
    except ConfigError as error:
        raise ConfigError(f"{source}: its configuration snapshot: {error.args[0]}", "give --config") from None
