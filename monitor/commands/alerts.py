"""``spasm-monitor alerts test``: send a test notification and say whether it was delivered."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from monitor.alerts.alert import Alert
from monitor.alerts.notify import Notifier
from monitor.commands.config import add_config_argument
from monitor.config import load_config

# Exit code when the test notification reached nobody (the command itself worked).
NOT_DELIVERED_EXIT = 1
TEST_RULE = "test"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("alerts", help="check that alerts reach the carer")
    actions = parser.add_subparsers(dest="alerts_action", required=True)
    test = actions.add_parser(
        "test", help="send a test notification through the configured URLs and say whether it arrived"
    )
    add_config_argument(test)
    test.add_argument(
        "--timeout-s", type=float, default=10.0, help="give up on a slow service after this long"
    )
    test.set_defaults(handler=run_test)


def run_test(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    urls = config.alerts.notify_urls
    if not urls:
        print(
            "alerts test: NOT delivered: no notification URL configured"
            " (set SPASM_MONITOR_NOTIFY_URLS or [alerts] notify_urls_file)"
        )
        return NOT_DELIVERED_EXIT
    alert = Alert(
        TEST_RULE,
        time.time_ns(),
        config.patient.id,
        "",
        0.0,
        0.0,
        "",
        "This is a test notification from spasm-monitor: alerts reach you.",
    )
    notifier = Notifier(urls, timeout_s=args.timeout_s)
    # apprise logs each failed service at WARNING (several lines); the one line below says it.
    apprise_log = logging.getLogger("apprise")
    level = apprise_log.level
    if getattr(args, "verbose", 0) == 0:
        apprise_log.setLevel(logging.CRITICAL)
    try:
        delivered = asyncio.run(notifier.send(alert))
    finally:
        apprise_log.setLevel(level)
    where = f"{len(urls)} notification URL{'s' if len(urls) > 1 else ''}"
    if delivered:
        print(f"alerts test: delivered to {where}")
        return 0
    print(
        f"alerts test: NOT delivered to {where}:"
        " the service refused it or could not be reached (-v shows why)"
    )
    return NOT_DELIVERED_EXIT
