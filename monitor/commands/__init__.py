"""Subcommands of ``spasm-monitor``: one module each, registered by name.

Each module has ``register(subparsers)``, which adds its parser and sets ``handler`` to a
function taking the parsed arguments and returning the exit code.
"""

from monitor.commands import config, dashboards, demo, report, treatment

COMMANDS = [demo, config, dashboards, treatment, report]
