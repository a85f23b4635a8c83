"""``spasm-monitor dashboards build|publish``: Grafana dashboards, provisioning and alert rules.

``build`` writes the dashboard JSON and the provisioning YAML to a folder; ``publish`` pushes the
same to a running Grafana through its HTTP API. The Grafana token comes from an environment
variable or a file, never from the command line, and is never printed.
"""

from __future__ import annotations

import argparse
import os
import urllib.parse
from pathlib import Path

from grafana_client.api import GrafanaApi

from dashboards.build import build_all
from dashboards.provisioning import ProvisioningSettings
from dashboards.publish import publish as publish_to_grafana
from monitor.config import load_config
from monitor.errors import ConfigError

TOKEN_ENV = "SPASM_GRAFANA_TOKEN"
GRAFANA_TIMEOUT_S = 10.0  # per request: a Grafana that takes longer is reported, not waited on


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("dashboards", help="build or publish the Grafana dashboards and alert rules")
    actions = parser.add_subparsers(dest="dashboards_action", required=True)

    build = actions.add_parser("build", help="write dashboard JSON and Grafana provisioning YAML")
    build.add_argument("--out", type=Path, default=Path("out/grafana"), help="output folder")
    _influx_arguments(build)
    build.set_defaults(handler=run_build)

    publish = actions.add_parser("publish", help="create or update everything on a running Grafana")
    publish.add_argument(
        "--url", help="Grafana base URL, e.g. http://localhost:3000 (default: [grafana] url)"
    )
    publish.add_argument(
        "--token-env",
        default=None,
        help=f"environment variable holding the API token (default: [grafana] token_env, or {TOKEN_ENV})",
    )
    publish.add_argument(
        "--token-file", type=Path, help="file holding the API token (instead of --token-env)"
    )
    _influx_arguments(publish)
    publish.set_defaults(handler=run_publish)


def _influx_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        help="defaults from this config.toml ([store.influx], [grafana])",
    )
    parser.add_argument("--influx-version", choices=("1", "2", "3"), help="default datasource (default 1)")
    parser.add_argument(
        "--influx-url", help="InfluxDB URL for that datasource (default http://localhost:8086)"
    )
    parser.add_argument(
        "--influx-database", dest="database", help="InfluxDB database, DBRP-mapped on 2.x (default spasm)"
    )
    # The old spelling, kept working for scripts; `demo` and the help say --influx-database.
    parser.add_argument("--database", dest="database", help=argparse.SUPPRESS)


def _apply_config(args: argparse.Namespace) -> None:
    """Fill unset options from config.toml, then from the built-in defaults."""
    influx = grafana = None
    if args.config is not None:
        config = load_config(args.config)
        influx, grafana = config.store.influx, config.grafana
        args.timezone = config.patient.timezone  # the dashboards' local days
    args.influx_version = args.influx_version or (influx.version if influx else "1")
    args.influx_url = args.influx_url or (influx.url if influx else "http://localhost:8086")
    args.database = args.database or (influx.database if influx else "spasm")
    if hasattr(args, "token_env"):
        args.url = args.url or (grafana.url if grafana else None)
        if not args.url:
            raise ConfigError("no Grafana URL: give --url or [grafana] url in config.toml")
        _check_url(args.url)
        if args.token_file is None and grafana is not None and grafana.token_file and args.token_env is None:
            args.token_file = Path(grafana.token_file)
        args.token_env = args.token_env or (grafana.token_env if grafana else TOKEN_ENV)


def _check_url(url: str) -> None:
    """Refuse a Grafana URL without http(s):// and a host, or with a credential in it."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        raise ConfigError(
            f"the Grafana URL must not hold credentials, got {parts.scheme}://***@{parts.netloc.rpartition('@')[2]}",
            "give the API token through --token-file or --token-env",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"the Grafana URL must start with http:// or https://, got {url!r}",
            f"e.g. --url http://{url.split('://')[-1] or 'localhost:3000'}",
        )


def _settings(args: argparse.Namespace) -> ProvisioningSettings:
    url_field = {"1": "influx_v1_url", "2": "influx_v2_url", "3": "influx_v3_url"}[args.influx_version]
    return ProvisioningSettings(
        database=args.database,
        default_version=args.influx_version,
        timezone=getattr(args, "timezone", "UTC"),
        **{url_field: args.influx_url},
    )


def run_build(args: argparse.Namespace) -> int:
    _apply_config(args)
    files = build_all(args.out, _settings(args))
    for path in files:
        print(path)
    print(f"{len(files)} files written to {args.out}")
    return 0


def read_token(args: argparse.Namespace) -> str:
    """The Grafana API token from ``--token-file`` or the ``--token-env`` variable."""
    if args.token_file is not None:
        try:
            token: str = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(
                f"cannot read the Grafana token file {args.token_file}: {error.strerror}"
            ) from None
        source = f"file {args.token_file}"
    else:
        token = os.environ.get(args.token_env, "").strip()
        source = f"environment variable {args.token_env}"
    if not token:
        raise ConfigError(f"no Grafana API token: {source} is empty or not set")
    return token


def run_publish(args: argparse.Namespace) -> int:
    _apply_config(args)
    api = GrafanaApi.from_url(args.url, credential=read_token(args), timeout=GRAFANA_TIMEOUT_S)
    report = publish_to_grafana(api, _settings(args))
    print(
        f"published to {args.url}: {len(report.created)} created, {len(report.updated)} updated,"
        f" {len(report.unchanged)} unchanged"
    )
    for uid in report.created:
        print(f"  created {uid}")
    return 0
