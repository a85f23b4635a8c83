"""``spasm-monitor status``: one screen for a carer, read from the spool while ``run`` runs."""

from __future__ import annotations

import argparse
import json
import time

from monitor.carer import carer_status
from monitor.commands.config import add_config_argument, add_spool_argument, existing_spool
from monitor.config import load_config
from monitor.store import Spool


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "status",
        help="each wearable (connected? battery? signal?), today's worn hours and spasms, sending, alerts",
    )
    add_config_argument(parser)
    add_spool_argument(parser)
    parser.add_argument("--json", action="store_true", help="the same facts as JSON, for scripts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    spool_path = existing_spool(
        args.spool or config.store.spool_path,
        "has `spasm-monitor run` started yet? Or give the spool it writes with --spool",
    )
    with Spool(spool_path, read_only=True) as spool:
        status = carer_status(spool, config, time.time_ns())
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        print("\n".join(status.lines()))
    return 0
