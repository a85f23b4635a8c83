"""The ``spasm-monitor`` command line: the one place that wires the parts together.

Users see :data:`DESCRIPTION` in ``--help``, not this docstring.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

from monitor.commands import COMMAND_NAMES, load_command
from monitor.errors import SpasmMonitorError

# Exit code for a user mistake (bad config, bad argument, unusable input), as argparse uses.
USAGE_ERROR = 2
# Exit code for a failure that is not the user's: a bug, reported in one line too.
INTERNAL_ERROR = 1
# The dest of -v given after the subcommand: added to the count given before it.
_VERBOSE_AFTER = "verbose_after_command"

logger = logging.getLogger(__name__)
# What `spasm-monitor --help` says first: for the person using it, not for a developer.
DESCRIPTION = (
    "Watch for muscle spasms with wearable EMG and motion sensors. spasm-monitor connects to"
    " the wearables listed in config.toml, finds spasms as they happen, keeps every result in a"
    " local file (the spool) and, if configured, sends them to InfluxDB for Grafana dashboards."
    " It writes a patient report that opens offline, alerts a carer when spasms rise, and keeps"
    " a treatment log to compare before and after each injection. Start with `spasm-monitor"
    " config check`, then `spasm-monitor run`; `spasm-monitor demo` shows it without wearables."
)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    verbosity = args.verbose + getattr(args, _VERBOSE_AFTER, 0)
    configure_logging(verbosity)
    try:
        code: int = args.handler(args)
    except (SpasmMonitorError, ValueError) as error:
        print(f"{_clear_line()}spasm-monitor: {_one_line(error)}", file=sys.stderr)
        return USAGE_ERROR
    except Exception as error:  # the last resort: a bug, still one line unless asked for detail
        if verbosity >= 2:
            raise
        print(
            f"{_clear_line()}spasm-monitor: unexpected {type(error).__name__}: {_one_line(error)}"
            " (a bug: please report it with the output of the same command run with -vv)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
    return code


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line; ``-v`` and ``--version`` are accepted before or after a subcommand.

    Given the ``argv`` it will parse, only the command it names is imported and built in
    full; the others are there by name, so a misspelt one is still refused with the list.
    Without ``argv``, or when ``argv`` names no command or asks for the top-level help
    (which lists every command's summary), every command is built.
    """
    command = _named_command(argv)
    parser = OneLineErrorParser(prog="spasm-monitor", description=DESCRIPTION)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail in the log (-v info, -vv debug)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {app_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_NAMES:
        if command is None or name == command:
            load_command(name).register(subparsers)
        else:
            subparsers.add_parser(name)  # never parsed into: argv names another command
    for sub in _subcommand_parsers(parser):
        # Its own dest, unset unless given: a subparser's values overwrite the ones before it.
        sub.add_argument(
            "-v", "--verbose", action="count", default=argparse.SUPPRESS, dest=_VERBOSE_AFTER,
            help="more detail in the log (-v info, -vv debug)",
        )  # fmt: skip
        sub.add_argument("--version", action="version", version=f"spasm-monitor {app_version()}")
    return parser


def _named_command(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` names, if it names one and asks for no top-level help.

    The top-level options take no value, so the command is the first word not an option.
    """
    for word in argv or ():
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word if word in COMMAND_NAMES else None
    return None


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2, as every other error of the CLI.

    argparse prints the whole usage block before the error; the usage stays one ``--help``
    away. Subcommand parsers are of this class too (``add_subparsers`` uses the parent's).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {_one_line_text(message)} (see --help)\n")


def app_version() -> str:
    """The installed spasm-monitor version ("unknown" when run from a bare checkout)."""
    try:
        return importlib.metadata.version("spasm-monitor")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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


def _subcommand_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser below ``parser`` (``report``, ``dashboards``, ``dashboards publish``, ...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share one parser
                yield sub
                yield from _subcommand_parsers(sub)


def _clear_line() -> str:
    """Erase a progress line a command left on a terminal, so the error stands on its own line."""
    return "\r\x1b[2K" if sys.stderr.isatty() else ""


def _one_line(error: BaseException) -> str:
    """The error's text on one line (a library's message may span several)."""
    return _one_line_text(str(error)) or type(error).__name__


def _one_line_text(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    raise SystemExit(main())
