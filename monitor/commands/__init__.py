"""Subcommands of ``spasm-monitor``: one module each, registered by name.

Each module has ``register(subparsers)``, which adds its parser and sets ``handler`` to a
function taking the parsed arguments and returning the exit code.
"""

from monitor.commands import (
    alerts,
    analyze,
    calibrate,
    config,
    dashboards,
    demo,
    devices,
    export,
    forget,
    record,
    replay,
    report,
    run,
    status,
    store,
    tardieu,
    treatment,
)

COMMANDS = [
    demo,
    run,
    analyze,
    config,
    dashboards,
    treatment,
    report,
    devices,
    record,
    replay,
    store,
    calibrate,
    tardieu,
    status,
    export,
    forget,
    alerts,
]
