"""Notifications through apprise (ntfy, e-mail, JSON webhooks, and the rest).

Notification URLs often hold credentials (a token in the path, a password in the userinfo),
so they are read from the environment or a file (see :mod:`monitor.config.alerts`) and
never logged: not by us, and not by the libraries under apprise. apprise's debug log
prints the URL it posts to, and urllib3's prints the request path with its query string
(where tokens live), so the notifier keeps both loggers at INFO or above.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise

from monitor.alerts.alert import Alert
from monitor.errors import ConfigError

# Loggers whose DEBUG lines contain notification URLs or their query strings.
_URL_LEAKING_LOGGERS = ("apprise", "urllib3")


class Notifier:
    """Send alerts to every configured apprise URL.

    Parameters
    ----------
    urls : sequence of str
        apprise URLs (``ntfy://...``, ``mailtos://...``, ``json://host:port/path``...).
    timeout_s : float
        Give up on a slow service after this long, s.

    Raises
    ------
    ConfigError
        A URL apprise does not understand; the message gives its position, not the URL.
    """

    def __init__(self, urls: Sequence[str], timeout_s: float = 10.0) -> None:
        _quiet_apprise_debug()
        self._apprise = apprise.Apprise()
        self.timeout_s = timeout_s
        for index, url in enumerate(urls):
            if not self._apprise.add(url):
                scheme = url.split("://", 1)[0] if "://" in url else "?"
                raise ConfigError(
                    f"alerts: notification URL #{index + 1} (scheme {scheme!r}) is not a valid apprise URL",
                    "see https://github.com/caronc/apprise/wiki for the URL forms",
                )
        self.count = len(urls)

    async def send(self, alert: Alert) -> bool:
        """Notify every URL about ``alert``; True when all of them accepted it.

        Uses apprise's asyncio dispatch, which runs each service's blocking HTTP call in
        its worker-thread pool: the event loop (and the BLE sessions on it) keeps running.
        """
        if self.count == 0:
            return False
        result = await self._apprise.async_notify(
            body=alert.message,
            title=alert.title,
            notify_type=apprise.NotifyType.WARNING,
            timeout=self.timeout_s,
        )
        return bool(result)


def _quiet_apprise_debug() -> None:
    for name in _URL_LEAKING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
