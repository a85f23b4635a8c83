"""``spasm-monitor config check``: validate config.toml without running anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.config import AppConfig, load_config
from monitor.config.preflight import check_runnable
from monitor.errors import ConfigError, StoreError

DEFAULT_CONFIG = Path("config.toml")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config PATH``, shared by every subcommand that reads config.toml."""
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"configuration file (default {DEFAULT_CONFIG})"
    )


def add_spool_argument(parser: argparse.ArgumentParser) -> None:
    """``--spool PATH``, for the subcommands that read the spool ``run`` writes."""
    parser.add_argument(
        "--spool", type=Path, default=None, help="the spool file (default: [store] spool_path)"
    )


def existing_spool(path: Path | str, advice: str = "give the spool `run` writes with --spool") -> Path:
    """``path`` as a Path; a one-line error if no spool is there (a reader never creates one)."""
    if not Path(path).is_file():
        raise StoreError(f"spool file {str(path)!r} not found", advice)
    return Path(path)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("config", help="validate config.toml")
    actions = parser.add_subparsers(dest="config_action", required=True)
    check = actions.add_parser("check", help="validate a config file and its secret sources")
    add_config_argument(check)
    check.set_defaults(handler=run_check)


# What a bad key's error advises during `config check` itself.
CHECK_ADVICE = "fix the named key in config.toml and run `spasm-monitor config check` again"


def run_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        check_runnable(config)  # what `run` would refuse: no wearable, no spool directory, bad URLs, secrets
    except ConfigError as error:
        if error.advice == ConfigError.default_advice:  # "`config check` validates it": this is it
            error.advice = CHECK_ADVICE
        raise
    print(f"{args.config}: OK")
    for line in describe(config):
        print(f"  {line}")
    return 0


def describe(config: AppConfig) -> list[str]:
    """What the configuration will do, one line per part (no secret is shown)."""
    lines = [f"patient {config.patient.id} ({config.patient.timezone})"]
    for device in config.devices:
        measures = [f"muscle {device.muscle}"] if device.muscle else []
        measures += [f"{device.joint} ({device.segment})"] if device.joint else []
        lines.append(
            f"device {device.device_id}: {device.profile} on the {device.side} {device.placement}"
            + (f", {', '.join(measures)}" if measures else "")
        )
    transport = config.ble.bumble_transport
    radio = config.ble.backend + (f" on {transport}" if transport else "")
    lines.append(f"radio {radio}, ATT MTU {config.ble.mtu_bytes}")
    store = config.store
    influx = store.influx
    target = f"InfluxDB {influx.version}.x at {influx.url}" if influx else "no InfluxDB (spool only)"
    lines.append(f"spool {store.spool_path} (cap {store.spool_cap_mb:g} MB), {target}")
    lines.append(f"alerts: {len(config.alerts.notify_urls)} notification URL(s)")
    return lines
