"""The ``spasm-monitor`` command line: the one place that wires the parts together."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from monitor.commands import COMMANDS
from monitor.errors import SpasmMonitorError

# Exit code for a user mistake (bad config, bad argument), as argparse uses.
USAGE_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spasm-monitor", description=__doc__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail in the log (-v info, -vv debug)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        code: int = args.handler(args)
    except (SpasmMonitorError, ValueError) as error:
        print(f"spasm-monitor: {error}", file=sys.stderr)
        return USAGE_ERROR
    return code


def configure_logging(verbosity: int) -> None:
    """Structured log lines on stderr: time, level, logger, then the message."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    logging.basicConfig(
        level=level,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # bumble and urllib3 log at debug what a user never needs (and urllib3 logs query strings).
    for noisy in ("bumble", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


if __name__ == "__main__":
    raise SystemExit(main())
