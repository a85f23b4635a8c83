"""The small interface every database writer implements, and how a refusal is classified.

A writer sends one line-protocol body and either returns (the server acknowledged it
with 2xx) or raises one of the errors below, which tell the forwarder what to do next.
"""

from __future__ import annotations

import email.utils
import os
import time
from pathlib import Path
from typing import Protocol

from monitor.errors import ConfigError


class Writer(Protocol):
    """Sends line protocol to one database."""

    async def write(self, body: bytes) -> None:
        """Send ``body`` (newline-separated points, ns precision); return once acknowledged."""
        ...

    async def close(self) -> None: ...


class WriteError(Exception):
    """The server did not acknowledge a body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


class RetryableWriteError(WriteError):
    """Try the same body again later: server down, overloaded, 429/5xx or a timeout."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(status, message)
        self.retry_after_s = retry_after_s


class RejectedWriteError(WriteError):
    """The server refused the data itself (400, 422): retrying the same body cannot help."""


class TooLargeWriteError(WriteError):
    """The body exceeds the server's size limit (413): send it in smaller pieces."""


class AccessWriteError(RetryableWriteError):
    """Authentication, permission or a missing database (401/403/404): fix the config.

    The data is fine, so it stays queued and is retried, slowly, until the config is fixed.
    """


def classify(status: int, message: str, retry_after: str | None) -> WriteError:
    """The error for a non-2xx HTTP answer."""
    if status in (401, 403, 404):
        return AccessWriteError(status, message)
    if status == 413:
        return TooLargeWriteError(status, message)
    if status == 429 or status >= 500:
        return RetryableWriteError(status, message, parse_retry_after(retry_after))
    return RejectedWriteError(status, message)


def parse_retry_after(value: str | None, now_s: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now_s = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - now_s)


def read_secret(env_var: str | None = None, file: str | Path | None = None) -> str:
    """A token or password from an environment variable or a file, never from the config itself.

    Raises
    ------
    ConfigError
        When neither source is given or the one given is empty.
    """
    if env_var:
        value = os.environ.get(env_var, "")
        if not value:
            raise ConfigError(f"environment variable {env_var} holds no secret", f"export {env_var}=...")
        return value
    if file:
        try:
            value = Path(file).read_text().strip()
        except OSError as error:
            raise ConfigError(f"cannot read the secret file {file}: {error.strerror}") from error
        if not value:
            raise ConfigError(f"the secret file {file} is empty")
        return value
    raise ConfigError("no secret source given", "name an environment variable or a file for the token")
