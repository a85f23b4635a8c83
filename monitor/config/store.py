"""``[store]`` (the local spool, and ``[store.influx]``) and ``[grafana]``.

Secrets (InfluxDB token or password, Grafana token) are never inline: a key such as
``token_env`` names an environment variable and ``token_file`` a file; an inline
``token`` or ``password`` is refused so it cannot end up in a repository or a log.
"""

from __future__ import annotations

import difflib
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config.reader import TableReader
from monitor.errors import ConfigError
from monitor.store import InfluxV1Writer, InfluxV2Writer
from monitor.store.influx_reader import InfluxQLReader
from monitor.store.writer import Writer, read_secret

DEFAULT_SPOOL = "data/spool.sqlite"
INFLUX_VERSIONS = ("1", "2", "3")
_INLINE_SECRETS = ("token", "password")
# Query parameters that carry credentials: InfluxDB 1.x reads ``u`` and ``p``; the rest are
# the usual names of tokens and keys. A URL is printed by ``config check``, logged on every
# retry and written into Grafana's provisioning, so a credential in it would leak there.
_CREDENTIAL_PARAMS = re.compile(r"u|p|.*(token|passw|pwd|secret|api_?key|auth|signature).*", re.IGNORECASE)
_INFLUX_INSTEAD = "username with password_env or password_file (1.x), or token_env or token_file"


@dataclass(frozen=True, slots=True)
class InfluxConfig:
    """``[store.influx]``: where the forwarder writes.

    ``version = "1"`` uses the v1 ``/write`` API (database, retention policy, optional
    user); ``"2"`` and ``"3"`` the v2 API (org and bucket; 3.x takes the database as
    bucket). Cloud is 2 or 3 with its URL.
    """

    version: str
    url: str
    database: str = "spasm"
    retention_policy: str | None = None
    org: str = ""
    bucket: str = ""
    username: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    password_env: str | None = None
    password_file: str | None = None

    def writer(self) -> Writer:
        """A writer for this server; reads the secret now (ConfigError if it is missing)."""
        if self.version == "1":
            password, token = self._v1_secrets()
            return InfluxV1Writer(
                self.url,
                self.database,
                retention_policy=self.retention_policy,
                username=self.username,
                password=password,
                token=token,
            )
        token = read_secret(self.token_env, self.token_file)
        return InfluxV2Writer(self.url, self.org, self.bucket or self.database, token=token)

    def reader(self) -> InfluxQLReader:
        """An InfluxQL reader of the same data (the report built from the server).

        1.x: the database, with the user's password or the token. 2.x and 3.x: the bucket's
        database name over the v1 ``/query`` API, with the token (2.x needs a DBRP mapping).
        """
        if self.version == "1":
            password, token = self._v1_secrets()
            return InfluxQLReader(
                self.url, self.database, username=self.username, password=password, token=token
            )
        token = read_secret(self.token_env, self.token_file)
        return InfluxQLReader(self.url, self.bucket or self.database, token=token)

    def _v1_secrets(self) -> tuple[str | None, str | None]:
        """(password, token) of the v1 API: the user's password, else the token, else neither."""
        if self.username:
            return read_secret(self.password_env, self.password_file), None
        if self.token_env or self.token_file:
            return None, read_secret(self.token_env, self.token_file)
        return None, None


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """``[store]``: the spool every record enters first, and the optional InfluxDB."""

    spool_path: Path = Path(DEFAULT_SPOOL)
    spool_cap_mb: float = 2048.0
    influx: InfluxConfig | None = None
    # Days of data the spool keeps (None: all); older rows are pruned at `run` start and daily.
    retention_days: float | None = None

    @property
    def spool_cap_bytes(self) -> int:
        return round(self.spool_cap_mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class GrafanaConfig:
    """``[grafana]``: where ``dashboards publish`` goes, and its token's source."""

    url: str | None = None
    token_env: str = "SPASM_GRAFANA_TOKEN"
    token_file: str | None = None


def resolve_path(path: str | Path, base_dir: Path | None) -> Path:
    """``path`` as config.toml means it: relative to the file's folder ``base_dir``.

    ``~`` is expanded (a user writes ``~/spasm/spool.sqlite``); an absolute path is kept; with
    ``base_dir`` None a relative path stays relative to the current directory.
    """
    expanded = Path(path).expanduser()
    if base_dir is None or expanded.is_absolute():
        return expanded
    return base_dir / expanded


def read_store(table: Mapping[str, Any], base_dir: Path | None = None) -> StoreConfig:
    """``[store]``; relative paths (and the default spool) resolve against ``base_dir``."""
    reader = TableReader(table, "store")
    defaults = StoreConfig()
    spool_path = resolve_path(reader.string("spool_path", DEFAULT_SPOOL), base_dir)
    cap_mb = reader.number("spool_cap_mb", defaults.spool_cap_mb, at_least=1)
    influx = _read_influx(reader.sub_table("influx"), base_dir) if reader.has("influx") else None
    retention_days = reader.number("retention_days", 0.0, above=0) if reader.has("retention_days") else None
    reader.done()
    return StoreConfig(spool_path, cap_mb, influx, retention_days)


def _read_influx(table: Mapping[str, Any], base_dir: Path | None) -> InfluxConfig:
    reader = TableReader(table, "store.influx")
    _refuse_inline_secrets(reader)
    version = str(reader.raw("version")) if reader.has("version") else "2"
    if version not in INFLUX_VERSIONS:
        raise reader.error("version", "1, 2 or 3 (the InfluxDB major version)", reader.raw("version"))
    url = _read_url(reader, reader.string("url"), _INFLUX_INSTEAD)
    config = InfluxConfig(
        version=version,
        url=url,
        database=reader.string("database", "spasm"),
        retention_policy=reader.optional_string("retention_policy"),
        org=reader.string("org", ""),
        bucket=reader.string("bucket", ""),
        username=reader.optional_string("username"),
        token_env=reader.optional_string("token_env"),
        token_file=_optional_path(reader, "token_file", base_dir),
        password_env=reader.optional_string("password_env"),
        password_file=_optional_path(reader, "password_file", base_dir),
    )
    reader.done()
    if version in ("2", "3") and not (config.token_env or config.token_file):
        raise ConfigError(
            f"store.influx.token_env or token_file is missing: InfluxDB {version}.x needs a token"
        )
    if version == "2" and not (config.org and config.bucket):
        raise ConfigError("store.influx.org and bucket are required for InfluxDB 2.x")
    if config.username and not (config.password_env or config.password_file):
        raise ConfigError("store.influx.password_env or password_file is missing for username")
    return config


def read_grafana(table: Mapping[str, Any], base_dir: Path | None = None) -> GrafanaConfig:
    reader = TableReader(table, "grafana")
    _refuse_inline_secrets(reader)
    if "folder" in table:  # read once and never used: the dashboards' folder is fixed
        raise ConfigError(
            "grafana.folder is no longer a setting: dashboards publish always uses its own folder,"
            " the one its alert rules and dashboard links name; delete the key"
        )
    defaults = GrafanaConfig()
    url = reader.optional_string("url")
    if url is not None:
        url = _read_url(reader, url, "token_env or token_file")
    config = GrafanaConfig(
        url=url,
        token_env=reader.string("token_env", defaults.token_env),
        token_file=_optional_path(reader, "token_file", base_dir),
    )
    reader.done()
    return config


def _optional_path(reader: TableReader, name: str, base_dir: Path | None) -> str | None:
    """An optional file name, resolved against the config's folder (kept a string: secrets' API)."""
    value = reader.optional_string(name)
    return None if value is None else str(resolve_path(value, base_dir))


def _refuse_inline_secrets(reader: TableReader) -> None:
    for key in _INLINE_SECRETS:
        if key in reader.table:
            raise ConfigError(
                f"{reader.key(key)}: secrets are never written in config.toml;"
                f" use {key}_env (an environment variable) or {key}_file (a file)"
            )


def _read_url(reader: TableReader, url: str, instead: str) -> str:
    """An http(s) server URL without credentials (``instead`` names where they go).

    The error shows the URL with any credential masked: it must not leak the secret either.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f"***@{url.rpartition('@')[2]}" if "@" in url else url
        near = difflib.get_close_matches(parts.scheme.lower(), ("http", "https"), n=1)
        hint = f" (did you mean {near[0]}://?)" if near and "://" in url else ""
        raise ConfigError(f"{reader.key('url')} must be an http:// or https:// URL, got {shown!r}{hint}")
    params = [key for key, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    if "@" in parts.netloc or any(_CREDENTIAL_PARAMS.fullmatch(key) for key in params):
        raise ConfigError(
            f"{reader.key('url')} must not hold credentials (secrets are never inline in config.toml);"
            f" use {instead}, got {_masked(parts)!r}"
        )
    return url


def _masked(parts: urllib.parse.SplitResult) -> str:
    """The URL with its user, password and every query value replaced by ``***``."""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = "&".join(f"{key}=***" for key, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))
