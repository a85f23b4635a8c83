"""``spasm-monitor run``: collect the wearables of config.toml until stopped (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from monitor.collect.errors import RunStoppedError
from monitor.commands.config import add_config_argument
from monitor.config import load_config
from monitor.config.preflight import check_runnable
from monitor.live import LOG_STATUS_EVERY_S, STATUS_EVERY_S, LiveResult, LiveStatus, run_live
from monitor.store import Spool

# A part of the run died (not a user mistake, which exits 2): non-zero, so systemd restarts it.
RUN_STOPPED_EXIT = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run", help="collect the configured wearables into the store until stopped (Ctrl-C)"
    )
    add_config_argument(parser)
    parser.add_argument("--duration-s", type=float, default=None, help="stop after this long (default never)")
    parser.add_argument(
        "--status-every-s",
        type=float,
        default=None,
        help=f"status line at least this often, and on every change (default {STATUS_EVERY_S:g} s on a"
        f" terminal, {LOG_STATUS_EVERY_S:g} s to a log such as the journal)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    status_every_s = args.status_every_s
    if status_every_s is None:
        status_every_s = STATUS_EVERY_S if sys.stderr.isatty() else LOG_STATUS_EVERY_S
    elif not status_every_s > 0:
        raise ValueError(f"--status-every-s must be > 0, got {status_every_s:g}")
    config = load_config(args.config)
    check_runnable(config)  # what `config check` refuses, in the same one-line words (and no secret)
    config.store.spool_path.parent.mkdir(parents=True, exist_ok=True)
    spool = Spool(config.store.spool_path, cap_bytes=config.store.spool_cap_bytes)
    print(
        f"collecting {len(config.devices)} wearable(s) for patient {config.patient.id} into"
        f" {config.store.spool_path}; Ctrl-C stops",
        file=sys.stderr,
    )
    try:
        result = asyncio.run(
            run_live(
                config,
                spool,
                duration_s=args.duration_s,
                on_status=print_status,
                status_every_s=status_every_s,
            )
        )
    except RunStoppedError as error:  # what was collected is stored; systemd restarts the run
        print(f"spasm-monitor run: stopped: {error}", file=sys.stderr)
        return RUN_STOPPED_EXIT
    print_summary(result)
    return 0


def print_status(status: LiveStatus) -> None:
    """One status line: which wearables stream, samples so far, spasms, alerts."""
    devices = ", ".join(
        f"{device} {_link_word(device, up, status)} {status.samples.get(device, 0):,} samples"
        + (f" ({status.problems[device]})" if device in status.problems else "")
        for device, up in status.connected.items()
    )
    print(
        f"[{status.elapsed_s:6.0f} s] {devices} | spasms {status.spasms} | alerts {status.alerts}"
        + (f" ({status.undelivered_alerts} NOT delivered)" if status.undelivered_alerts else "")
        + (f" | {status.store}" if status.store else ""),
        file=sys.stderr,
        flush=True,
    )


def _link_word(device: str, up: bool, status: LiveStatus) -> str:
    if up:
        return "up"
    return "connecting" if device in status.connecting else "DOWN"


def print_summary(result: LiveResult) -> None:
    records = result.pipeline.records
    print(
        f"ran {result.duration_s:.0f} s: {result.records} records stored"
        f" (stopping and storing the last of them took {result.stop_s:.0f} s more)"
    )
    for device, stats in result.sessions.items():
        print(
            f"  {device}: {stats.connects} connection(s), {stats.drops} drop(s), {stats.frames} frames,"
            f" {stats.malformed} malformed, battery {stats.battery_percent}%"
        )
    print(
        f"  spasm events {records['spasm_event']}, ROM records {records['rom']},"
        f" gaps {records['ble_gap']}, alerts {len(result.alerts)}"
    )
    if result.forwarded is not None:
        print(f"  forwarded to InfluxDB: {result.forwarded}")
    for kind, count in sorted(result.pipeline.processor_errors.items()):
        print(f"  DSP failures {kind}: {count} (processor reset, see the log)")
    if result.pipeline.unrenderable_records:
        print(f"  {result.pipeline.unrenderable_records} records dropped: not storable (see the log)")
