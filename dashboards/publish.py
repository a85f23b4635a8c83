"""``spasm-monitor dashboards publish``: push everything to a running Grafana, idempotently.

Through grafana-client: the folder, the InfluxDB datasources (create or update by uid), the
dashboards (by uid, skipped when unchanged), the contact point and the alert rules (through
the alerting provisioning API, create or update by uid). Running it twice creates nothing twice.

Every way the server can fail (not running, a wrong token, a refused object, a server that is
not Grafana) is a :class:`~monitor.errors.GrafanaError` naming the URL and the object being
published, with advice: one line for the user, never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import niquests.exceptions
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from dashboards.alert_rules import alert_rules
from dashboards.build import dashboard_models
from dashboards.provisioning import (
    CONTACT_POINT,
    FOLDER_TITLE,
    FOLDER_UID,
    ProvisioningSettings,
    contact_point,
    datasources,
)
from monitor.alerts.thresholds import AlertThresholds
from monitor.errors import GrafanaError

NOT_FOUND = 404
FORBIDDEN = 403
logger = logging.getLogger(__name__)
_OS_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")  # "[Errno 111] Connection refused" in niquests' text
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_GRAFANA = (
    "check the URL is Grafana's own address (its login page), not InfluxDB, a proxy or another service"
)
# Keys Grafana adds to a stored dashboard; they say nothing about its content.
_SERVER_KEYS = ("id", "version")


@dataclass
class PublishReport:
    """What a publish did, by kind of object: uids created, updated and left as they were."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def publish(
    api: GrafanaApi,
    settings: ProvisioningSettings | None = None,
    thresholds: AlertThresholds | None = None,
    environ: dict[str, str] | None = None,
) -> PublishReport:
    """Create or update the folder, datasources, dashboards, contact point and alert rules.

    Parameters
    ----------
    api : GrafanaApi
        A client for the target Grafana (its token comes from the caller, never from here).
    settings : ProvisioningSettings, optional
        InfluxDB URLs and the names of the environment variables holding the secrets.
    thresholds : AlertThresholds, optional
        The alert rules' thresholds.
    environ : dict, optional
        Where the secrets are read (default: ``os.environ``). A secret that is not set is not
        sent, so Grafana keeps the one it has.

    Returns
    -------
    PublishReport

    Raises
    ------
    GrafanaError
        Grafana cannot be reached, refuses the token or an object, or the server is not Grafana.
    """
    settings = settings or ProvisioningSettings()
    thresholds = thresholds or AlertThresholds()
    env = dict(os.environ) if environ is None else environ
    report = PublishReport()
    client: Any = api  # grafana-client's element methods carry no annotations
    url = str(client.client.url).removesuffix("/api")
    steps: list[tuple[str, Callable[[], None]]] = [(f"folder {FOLDER_UID}", lambda: _folder(client, report))]
    for ds in datasources(settings):
        steps.append((f"datasource {ds['uid']}", _bind(_datasource, client, _with_secrets(ds, env), report)))
    for uid, model in dashboard_models(settings.timezone).items():
        steps.append((f"dashboard {uid}", _bind(_dashboard, client, uid, model, report)))
    point = _with_secrets(contact_point(settings), env)
    steps.append((f"contact point {point['uid']}", _bind(_contact_point, client, point, report)))
    for rule in alert_rules(thresholds, settings):
        steps.append((f"alert rule {rule['uid']}", _bind(_alert_rule, client, rule, report)))
    for what, step in steps:
        with grafana_errors(url, what):
            step()
    return report


@contextmanager
def grafana_errors(url: str, what: str) -> Iterator[None]:
    """Turn what grafana-client and niquests raise into a :class:`GrafanaError` with advice.

    Parameters
    ----------
    url : str
        Grafana's base URL, named in the message (it holds no credential: the CLI refuses them).
    what : str
        The object being published ("dashboard spasm-patient"), named in the message.
    """
    try:
        yield
    except GrafanaUnauthorizedError:
        raise GrafanaError(
            f"Grafana at {url} refused the API token (401 Unauthorized)",
            "create a service account token with the Admin role (Administration > Service accounts)"
            " and give it through the token file or variable",
        ) from None
    except GrafanaClientError as error:
        if error.status_code == FORBIDDEN:
            raise GrafanaError(
                f"Grafana at {url} does not let this token change {what} (403 Forbidden)",
                "give the token's service account the Admin role",
            ) from None
        if error.status_code == NOT_FOUND:
            raise GrafanaError(
                f"the server at {url} has no Grafana HTTP API ({what}: 404 Not Found)", _NOT_GRAFANA
            ) from None
        raise GrafanaError(
            f"Grafana at {url} refused {what} ({error.status_code}: {_server_message(error)})",
            "the dashboards are built for Grafana 11 or newer; Grafana's log names the field it refused",
        ) from None
    except GrafanaServerError as error:
        raise GrafanaError(
            f"Grafana at {url} failed on {what} ({error.status_code}: {_server_message(error)})",
            "see Grafana's own log, then publish again (it is idempotent)",
        ) from None
    except GrafanaTimeoutError:
        raise GrafanaError(
            f"Grafana at {url} did not answer in time ({what})",
            "check Grafana is up and the network path to it, then publish again",
        ) from None
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        # Grafana answers JSON of documented shapes; anything else came from another server.
        logger.debug("unexpected answer while publishing %s", what, exc_info=True)
        raise GrafanaError(
            f"the server at {url} does not answer as Grafana does ({what}:"
            f" {type(error).__name__}: {_first_line(error)})",
            _NOT_GRAFANA,
        ) from None
    except (GrafanaException, niquests.exceptions.RequestException) as error:
        reason = _OS_REASON.search(str(error))
        raise GrafanaError(
            f"cannot reach Grafana at {url}: {reason.group(1) if reason else _first_line(error)}",
            f"is Grafana running at that address? `curl {url}/api/health` answers when it is",
        ) from None


def _bind(function: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: function(*args)


def _server_message(error: GrafanaException) -> str:
    """Grafana's own explanation (its JSON ``message``), else the start of the body."""
    body = error.response
    text = body.get("message") if isinstance(body, dict) else None
    return _first_line(text or body or error.message)


def _first_line(value: object, limit: int = 160) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _get(call: Any, *args: Any) -> Any:
    """The object, or None when Grafana answers 404."""
    try:
        return call(*args)
    except GrafanaClientError as error:
        if error.status_code == NOT_FOUND:
            return None
        raise


def _folder(api: Any, report: PublishReport) -> None:
    if _get(api.folder.get_folder, FOLDER_UID) is None:
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        report.created.append(f"folder/{FOLDER_UID}")
    else:
        report.unchanged.append(f"folder/{FOLDER_UID}")


def _datasource(api: Any, ds: dict[str, Any], report: PublishReport) -> None:
    _upsert(
        api.datasource.get_datasource_by_uid,
        api.datasource.create_datasource,
        api.datasource.update_datasource_by_uid,
        f"datasource/{ds['uid']}",
        ds,
        report,
    )


def _upsert(
    get: Any, create: Any, update: Any, name: str, body: dict[str, Any], report: PublishReport
) -> None:
    """Create ``body`` by its uid if Grafana has none, else update it in place."""
    uid = body["uid"]
    if _get(get, uid) is None:
        create(body)
        report.created.append(name)
    else:
        update(uid, body)
        report.updated.append(name)


def _dashboard(api: Any, uid: str, model: dict[str, Any], report: PublishReport) -> None:
    stored = _get(api.dashboard.get_dashboard, uid)
    if stored is not None:
        current = {k: v for k, v in stored.get("dashboard", {}).items() if k not in _SERVER_KEYS}
        if current == model and stored.get("meta", {}).get("folderUid") == FOLDER_UID:
            report.unchanged.append(f"dashboard/{uid}")
            return
    api.dashboard.update_dashboard(
        {"dashboard": model, "folderUid": FOLDER_UID, "overwrite": True, "message": "spasm-monitor publish"}
    )
    (report.created if stored is None else report.updated).append(f"dashboard/{uid}")


def _contact_point(api: Any, point: dict[str, Any], report: PublishReport) -> None:
    stored = api.alertingprovisioning.get_contactpoints(name=CONTACT_POINT)
    existing = [p for p in stored if p["uid"] == point["uid"]]
    if existing:
        api.alertingprovisioning.update_contactpoint(point["uid"], point)
        report.updated.append(f"contact-point/{point['uid']}")
    else:
        api.alertingprovisioning.create_contactpoint(point)
        report.created.append(f"contact-point/{point['uid']}")


def _alert_rule(api: Any, rule: dict[str, Any], report: PublishReport) -> None:
    provisioning = api.alertingprovisioning
    _upsert(
        provisioning.get_alertrule,
        provisioning.create_alertrule,
        provisioning.update_alertrule,
        f"alert-rule/{rule['uid']}",
        rule,
        report,
    )


def _with_secrets(obj: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """``obj`` with each ``${NAME}`` environment reference replaced by the variable's value.

    Provisioning files keep the references for Grafana to expand (its documented syntax);
    the HTTP API needs the values. A reference to an unset variable drops its key, so that
    Grafana keeps the secret it has.
    """
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            inner = _with_secrets(value, env)
            if inner or not value:
                out[key] = inner
        elif isinstance(value, str) and (refs := _ENV_REFERENCE.findall(value)):
            if all(name in env for name in refs):
                out[key] = _ENV_REFERENCE.sub(lambda m: env[m.group(1)], value)
        else:
            out[key] = value
    return out
