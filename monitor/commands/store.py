"""``spasm-monitor store status|retry``: the spool's queue, the forwarder's health, refused points."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from monitor.commands.config import DEFAULT_CONFIG, add_spool_argument, existing_spool
from monitor.config import load_config
from monitor.config.store import InfluxConfig
from monitor.store import Forwarder, ForwardStats, Spool, store_status

DEFAULT_RETRY_TIMEOUT_S = 60.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    store = commands.add_parser("store", help="the local spool: what is queued, sent and refused")
    actions = store.add_subparsers(dest="store_action", required=True)
    status = actions.add_parser(
        "status", help="queued, sent and set-aside points, the last forwarding error, the oldest unsent point"
    )
    retry = actions.add_parser(
        "retry", help="send the points InfluxDB refused again (after the server or its schema was fixed)"
    )
    for parser in (status, retry):
        parser.add_argument(
            "--config", type=Path, default=None, help=f"config.toml (default {DEFAULT_CONFIG} unless --spool)"
        )
        add_spool_argument(parser)
    retry.add_argument(
        "--timeout-s",
        type=float,
        default=DEFAULT_RETRY_TIMEOUT_S,
        help="how long to try sending before leaving the rest queued for `run`",
    )
    status.set_defaults(handler=run_status)
    retry.set_defaults(handler=run_retry)


def run_status(args: argparse.Namespace) -> int:
    spool_path, _ = _where(args)
    with Spool(spool_path, read_only=True) as spool:
        status = store_status(spool)
    print("\n".join(status.lines(time.time_ns())))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    spool_path, influx = _where(args)
    with Spool(spool_path) as spool:
        n = spool.requeue_set_aside()
    print(f"{n:,} set-aside points queued again")
    if n == 0:
        return 0
    if influx is None:
        print("no [store.influx] configured: they stay queued for the next `run`")
        return 0
    forwarder = Forwarder(spool_path, influx.writer())
    stats, finished = asyncio.run(_drain(forwarder, args.timeout_s))
    with Spool(spool_path, read_only=True) as spool:
        status = store_status(spool)
    print(
        f"sent {stats.sent_points:,} points, {stats.set_aside_points:,} refused again;"
        f" {status.queued_points:,} still queued"
    )
    if stats.set_aside_points:
        print("refused again: " + ", ".join(f"{r}: {k}" for r, k in status.set_aside_by_reason.items()))
    if not finished:
        print(f"the server did not take everything within {args.timeout_s:g} s; `run` sends the rest")
    return 1 if stats.set_aside_points or not finished else 0


async def _drain(forwarder: Forwarder, timeout_s: float) -> tuple[ForwardStats, bool]:
    """Forward what is queued, for at most about ``timeout_s``; the stats and whether all went."""
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.drain(stop))
    try:
        done, _ = await asyncio.wait([task], timeout=timeout_s)
        if not done:
            stop.set()
        return await task, bool(done)
    finally:
        await forwarder.close()


def _where(args: argparse.Namespace) -> tuple[Path, InfluxConfig | None]:
    """The spool and the InfluxDB: ``--spool`` alone, or from config.toml."""
    config_path = args.config
    if config_path is None and args.spool is None:
        config_path = DEFAULT_CONFIG
    influx = None
    spool = args.spool
    if config_path is not None:
        config = load_config(config_path)
        spool = spool or config.store.spool_path
        influx = config.store.influx
    return existing_spool(spool), influx
