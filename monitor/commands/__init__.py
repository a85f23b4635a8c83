"""Subcommands of ``spasm-monitor``: one module each, registered by name.

Each module ``monitor.commands.<name>`` has ``register(subparsers)``, which adds the parser
named ``<name>`` and sets ``handler`` to a function taking the parsed arguments and
returning the exit code. Modules are imported only when their command is asked for: the
heavy ones load numpy, scipy, numba, the BLE stack and the InfluxDB client, seconds on a
small gateway that ``spasm-monitor status`` or ``config check`` should not wait.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# In the order ``spasm-monitor --help`` lists them.
COMMAND_NAMES = (
    "demo",
    "run",
    "analyze",
    "config",
    "dashboards",
    "treatment",
    "report",
    "devices",
    "record",
    "replay",
    "store",
    "calibrate",
    "tardieu",
    "status",
    "export",
    "forget",
    "alerts",
)


def load_command(name: str) -> ModuleType:
    """The module of command ``name`` (one of :data:`COMMAND_NAMES`)."""
    if name not in COMMAND_NAMES:
        raise KeyError(f"no command {name!r}; the commands are {', '.join(COMMAND_NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
