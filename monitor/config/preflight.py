"""What ``run`` would refuse, checked without running: ``config check`` passes only a runnable config.

:func:`load_config` checks what every command needs (types, ranges, names the store can
carry). A config meant for ``run`` needs more, checked here and nowhere else because other
commands read the same file in other places (``report`` reads a spool on read-only media):

- at least one ``[[device]]`` (the same check as :meth:`AppConfig.collector_config`);
- a spool whose directory exists or can be created (nothing is created here);
- notification URLs the notifier can send to (their text is never shown: it may hold a
  token or password);
- an InfluxDB token or password source that resolves now, not at 3 a.m.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from pathlib import Path

from monitor.config.app import AppConfig
from monitor.errors import ConfigError

# Schemes a user writes for a webhook that the notifier spells differently (apprise).
_WEBHOOK_SCHEMES = {"http": "json://", "https": "jsons://"}


def check_runnable(config: AppConfig) -> None:
    """Refuse, with one line naming the key, a config that ``run`` could not run.

    Raises
    ------
    ConfigError
        The first problem found; the message starts with the config's source (its file).
    """
    config.collector_config()  # no [[device]]: refused with the file's name
    try:
        _check_spool_dir(config.store.spool_path)
        _check_notify_urls(config.alerts.notify_urls)
        if config.store.influx is not None:
            config.store.influx.writer()  # reads the token or password from its source now
    except ConfigError as error:
        raise ConfigError(f"{config.source}: {error.args[0]}", error.advice) from None


def _check_spool_dir(spool_path: Path) -> None:
    """The spool's directory exists and is writable, or its nearest ancestor lets it be made."""
    if spool_path.is_dir():
        raise ConfigError(f"store.spool_path must name a file, got the directory '{spool_path}'")
    existing = spool_path.absolute().parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        reason = f"{existing} is a file"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = f"{existing} is not writable"
    elif spool_path.exists() and not os.access(spool_path, os.W_OK):
        reason = "the file is not writable"
    else:
        return
    raise ConfigError(
        "store.spool_path must be in a directory that exists or can be created,"
        f" got '{spool_path}' ({reason})"
    )


def _check_notify_urls(urls: tuple[str, ...]) -> None:
    """Every notification URL is one the notifier (apprise) supports; no URL is ever shown.

    apprise logs a refused URL at ERROR, whole or partly masked: its logger is muted while
    it judges them, as the secret must not reach the log either.
    """
    if not urls:
        return
    import apprise  # loads only where it is needed

    logger = logging.getLogger("apprise")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        refused = next((i for i, url in enumerate(urls) if not apprise.Apprise().add(url)), None)
    finally:
        logger.setLevel(level)
    if refused is None:
        return
    scheme = urllib.parse.urlsplit(urls[refused]).scheme.lower() if "://" in urls[refused] else ""
    near = _WEBHOOK_SCHEMES.get(scheme)
    raise ConfigError(
        f"alerts: notification URL #{refused + 1}"
        + (f" (scheme {scheme!r})" if scheme.isalnum() else " (no scheme://)")
        + " is not one the notifier supports"
        + (f" (did you mean {near} for a webhook?)" if near else ""),
        "see https://github.com/caronc/apprise/wiki for the URL forms",
    )
