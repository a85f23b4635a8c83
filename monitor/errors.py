"""The error hierarchy: every failure the user can act on is a :class:`SpasmMonitorError`.

Each error carries advice: what the user can do about it. The CLI prints the message
with its advice in parentheses on one line and exits with code 2, never a traceback.
"""

from __future__ import annotations


class SpasmMonitorError(Exception):
    """Base of all spasm-monitor errors."""

    default_advice = ""

    def __init__(self, message: str, advice: str | None = None) -> None:
        super().__init__(message)
        self.advice = self.default_advice if advice is None else advice

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.advice})" if self.advice else message


class ConfigError(SpasmMonitorError):
    """The configuration is missing, malformed or holds an impossible value."""

    default_advice = "fix the named key in config.toml; `spasm-monitor config check` validates it"


class DeviceError(SpasmMonitorError):
    """A wearable could not be found, connected, or sent something unusable."""

    default_advice = "check the wearable is charged, in range and not connected to another app"


class StoreError(SpasmMonitorError):
    """The local spool or a remote database could not be used."""

    default_advice = "check the spool path is writable and the database URL and token"


class GrafanaError(SpasmMonitorError):
    """Grafana could not be reached, refused the token or a request, or is not Grafana."""

    default_advice = "check the Grafana URL (the address of its login page) and the API token"
