"""The ``spasm-monitor`` command line: the one place that wires the parts together."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from monitor.commands import COMMANDS
from monitor.errors import SpasmMonitorError

# Exit code for a user mistake (bad config, bad argument), as argparse uses.
USAGE_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spasm-monitor", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except (SpasmMonitorError, ValueError) as error:
        print(f"spasm-monitor: {error}", file=sys.stderr)
        return USAGE_ERROR
    return code


if __name__ == "__main__":
    raise SystemExit(main())
