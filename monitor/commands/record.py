"""``spasm-monitor record FILE``: raw Frames and collector Records from the wearables, to a file.

Nothing is processed: the file (:mod:`monitor.recording`) keeps exactly what the collector
delivered, so ``replay`` can run it through any version of the DSP, and ``analyze`` can
summarise it offline. It stops on Ctrl-C, SIGTERM or after ``--duration-s``; everything
delivered by then is in the file, and a kill -9 loses at most the last second.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import time
from collections import Counter
from pathlib import Path

from monitor.collect import Collector
from monitor.collect.queue import Item
from monitor.commands.config import add_config_argument
from monitor.commands.progress import Progress
from monitor.commands.recorded_config import config_snapshot
from monitor.config import AppConfig, load_config
from monitor.errors import ConfigError, StoreError
from monitor.recording import RecordingWriter
from monitor.types import Frame

STATUS_EVERY_S = 0.5  # how often the loop looks at the clock, the duration and the status line


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "record", help="record the configured wearables' raw data to a file until stopped (Ctrl-C)"
    )
    parser.add_argument(
        "file", type=Path, nargs="?", default=None, help="the recording to create (SQLite; never overwritten)"
    )
    parser.add_argument("--out", type=Path, default=None, help="the same as FILE")
    parser.add_argument("--duration-s", type=float, default=None, help="stop after this long (default never)")
    add_config_argument(parser)
    parser.set_defaults(handler=run_record)


def run_record(args: argparse.Namespace) -> int:
    if args.duration_s is not None and not args.duration_s > 0:
        raise ConfigError(f"--duration-s must be > 0, got {args.duration_s}", "")
    if (args.file is None) == (args.out is None):
        raise ConfigError("give the recording file once: `record FILE` or `record --out FILE`", "")
    path: Path = args.file or args.out
    config = load_config(args.config)
    collector_config = config.collector_config()  # no [[device]] fails here, before the file exists
    with RecordingWriter(path, config_snapshot(config), app_version()) as writer:
        counts = asyncio.run(record(config, writer, args.duration_s, Progress(f"record {path.name}")))
    print(
        f"recorded {counts['seconds']} s from {len(collector_config.devices)} wearable(s) to {path}:"
        f" {writer.n_frames} frames, {writer.n_records} records ({counts['ble_gap']} gaps)"
    )
    return 0


async def record(
    config: AppConfig, writer: RecordingWriter, duration_s: float | None, progress: Progress
) -> Counter[str]:
    """Collect into ``writer`` until SIGINT/SIGTERM or ``duration_s``; counts by kind of item.

    The counts have ``seconds`` (elapsed, whole), the number of each record measurement,
    and ``samples`` per ``device/sensor``.
    """
    counts: Counter[str] = Counter()
    failures: list[StoreError] = []

    def sink(item: Item) -> None:
        if failures:
            return
        try:
            writer.append(item)
        except StoreError as error:  # disk full: stop, rather than collect into nowhere
            failures.append(error)
            collector.stop()
            return
        if isinstance(item, Frame):
            counts[f"{item.stream.device}/{item.stream.sensor}"] += item.n_samples
        else:
            counts[item.measurement] += 1

    collector = Collector(config.collector_config(), sink)
    collector.install_signal_handlers()
    started = time.monotonic()
    collecting = asyncio.create_task(collector.run())
    try:
        while not collecting.done():
            await asyncio.wait([collecting], timeout=STATUS_EVERY_S)
            elapsed_s = time.monotonic() - started
            if duration_s is not None and elapsed_s >= duration_s:
                collector.stop()
            writer.commit()  # a quiet link still gets its last items to disk within a status tick
            connected = sum(s.is_connected for s in collector.sessions)
            progress.update(
                round(elapsed_s),
                f"{connected}/{len(collector.sessions)} connected, {writer.n_frames} frames,"
                f" {counts['ble_gap']} gaps",
            )
        await collecting  # re-raises a collector failure
    finally:
        if not collecting.done():
            collector.stop()
            await asyncio.gather(collecting, return_exceptions=True)
    if failures:
        raise failures[0]
    counts["seconds"] = round(time.monotonic() - started)
    progress.done(f"stopped after {counts['seconds']} s")
    return counts


def app_version() -> str:
    """The installed spasm-monitor version ("unknown" when run from a bare checkout)."""
    try:
        return importlib.metadata.version("spasm-monitor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
