"""Deleting what the forwarder sent to InfluxDB: one entry's point, or every point of a patient.

The spool keeps what the forwarder sent, so an entry removed or a patient forgotten locally
must go on the server as well, or the dashboards keep showing it. Each InfluxDB major
version deletes its own way:

- **1.x**: InfluxQL over ``/query``: ``DELETE FROM <measurement> WHERE <tags> AND <time range>``
  for one point, ``DROP SERIES WHERE <tags>`` for everything of a patient (every measurement,
  every time, and the series with it).
- **2.x** (and Cloud on it): ``POST /api/v2/delete`` through influxdb-client's ``DeleteApi``,
  with a predicate of ``_measurement`` and tags (``AND`` only) and an inclusive time range.
- **3.x** has no API that deletes points (only whole tables or databases), so a deletion is
  refused with a :class:`StoreError` and the caller says what stays there.

Every name and value is quoted by :mod:`monitor.store.influxql`: the 2.x predicate is read by
the same InfluxQL scanner (a double-quoted identifier on either side of ``=``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException

from monitor.errors import StoreError
from monitor.store.influx_reader import InfluxQLReader
from monitor.store.influxql import quote_ident, quote_string
from monitor.store.writer import read_secret
from monitor.types import NS_PER_S

# The range InfluxDB stores (models.MinNanoTime, models.MaxNanoTime), ns: "all time" for 2.x,
# whose delete API refuses a start or stop outside it.
MIN_TIME_NS = -(2**63) + 2
MAX_TIME_NS = 2**63 - 2
DELETE_TIMEOUT_MS = 30_000  # one request; a delete of a whole patient may take a while
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PointSelection:
    """The points to delete: tags equal to ``tags``, ``start_ns <= time <= stop_ns``.

    Attributes
    ----------
    tags : mapping of str to str
        Tag key and value every deleted point has (``patient``, ``kind``, ``side``...).
    measurement : str or None
        Only points of this measurement; None: every measurement.
    start_ns, stop_ns : int
        Inclusive UTC time range, ns since the Unix epoch (all time by default).

    Examples
    --------
    >>> one = PointSelection({"patient": "p01", "kind": "pt"}, "treatment", 5, 5)
    >>> print(one.influxql())
    DELETE FROM "treatment" WHERE "kind" = 'pt' AND "patient" = 'p01' AND time >= 5 AND time <= 5
    >>> print(one.predicate())
    "_measurement" = "treatment" AND "kind" = "pt" AND "patient" = "p01"
    >>> print(PointSelection({"patient": "p01"}).influxql())
    DROP SERIES WHERE "patient" = 'p01'
    """

    tags: Mapping[str, str]
    measurement: str | None = None
    start_ns: int = MIN_TIME_NS
    stop_ns: int = MAX_TIME_NS
    _sorted_tags: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tags:
            raise ValueError("a deletion needs at least one tag: it would delete every point")
        if not MIN_TIME_NS <= self.start_ns <= self.stop_ns <= MAX_TIME_NS:
            raise ValueError(f"time range {self.start_ns}..{self.stop_ns} ns is empty or beyond int64")
        object.__setattr__(self, "_sorted_tags", tuple(sorted(self.tags.items())))

    @property
    def all_time(self) -> bool:
        return (self.start_ns, self.stop_ns) == (MIN_TIME_NS, MAX_TIME_NS)

    def influxql(self) -> str:
        """The InfluxDB 1.x statement: ``DROP SERIES`` for all of it, else ``DELETE``."""
        where = " AND ".join(f"{quote_ident(k)} = {quote_string(v)}" for k, v in self._sorted_tags)
        if self.measurement is None and self.all_time:
            return f"DROP SERIES WHERE {where}"
        source = f" FROM {quote_ident(self.measurement)}" if self.measurement is not None else ""
        return f"DELETE{source} WHERE {where} AND time >= {self.start_ns} AND time <= {self.stop_ns}"

    def predicate(self) -> str:
        """The InfluxDB 2.x delete predicate (its time range goes beside it)."""
        rules = [("_measurement", self.measurement)] if self.measurement is not None else []
        return " AND ".join(
            f"{quote_ident(k)} = {quote_ident(v)}" for k, v in rules + list(self._sorted_tags)
        )

    def describe(self) -> str:
        """What is selected, in words: ``treatment p01 botox left at 2026-03-02T09:30:00Z``."""
        what = self.measurement or "every measurement"
        tags = " ".join(f"{k}={v}" for k, v in self._sorted_tags)
        if self.all_time:
            return f"{what} with {tags}, all times"
        when = rfc3339_ns(self.start_ns)
        if self.stop_ns != self.start_ns:
            when += f" to {rfc3339_ns(self.stop_ns)}"
        return f"{what} with {tags} at {when} ({self.start_ns} ns)"


class InfluxDeleter(Protocol):
    """Deletes selected points on one InfluxDB database or bucket."""

    @property
    def can_delete(self) -> bool:
        """False where the server has no way to delete points (InfluxDB 3): retrying is no use."""

    @property
    def where(self) -> str:
        """The database or bucket and server, for messages (no secret in it)."""

    def delete(self, selection: PointSelection) -> None:
        """Delete the selected points; :class:`StoreError` when the server did not."""

    def how_to(self, selection: PointSelection) -> str:
        """What a user can run to delete the points by hand."""


class InfluxQLDeleter:
    """InfluxDB 1.x: ``DELETE`` / ``DROP SERIES`` over ``/query`` (:class:`InfluxQLReader`)."""

    can_delete = True

    def __init__(self, reader: InfluxQLReader) -> None:
        self.reader = reader

    @property
    def where(self) -> str:
        return f"InfluxDB database {self.reader.database!r} at {self.reader.url}"

    def delete(self, selection: PointSelection) -> None:
        self.reader.execute(selection.influxql())

    def how_to(self, selection: PointSelection) -> str:
        return f"run `{selection.influxql()}` on database {self.reader.database!r}"


class InfluxV2Deleter:
    """InfluxDB 2.x: ``/api/v2/delete`` through influxdb-client's ``DeleteApi``.

    Parameters
    ----------
    url, org, bucket : str
        Server, organisation and bucket.
    token : str
        API token with write access to the bucket; never shown.
    timeout_ms : int
        The request's timeout, ms.

    Examples
    --------
    >>> InfluxV2Deleter("http://127.0.0.1:8086/", "home", "spasm", token="t").where
    "InfluxDB bucket 'spasm' (org 'home') at http://127.0.0.1:8086"
    """

    can_delete = True

    def __init__(
        self, url: str, org: str, bucket: str, *, token: str, timeout_ms: int = DELETE_TIMEOUT_MS
    ) -> None:
        self.url = url.rstrip("/")
        self.org = org
        self.bucket = bucket
        self.timeout_ms = timeout_ms
        self._token = token

    def __repr__(self) -> str:  # never shows the token
        return f"InfluxV2Deleter(url={self.url!r}, org={self.org!r}, bucket={self.bucket!r})"

    @property
    def where(self) -> str:
        return f"InfluxDB bucket {self.bucket!r} (org {self.org!r}) at {self.url}"

    def delete(self, selection: PointSelection) -> None:
        try:
            with InfluxDBClient(self.url, token=self._token, org=self.org, timeout=self.timeout_ms) as client:
                client.delete_api().delete(
                    rfc3339_ns(selection.start_ns),
                    rfc3339_ns(selection.stop_ns),
                    selection.predicate(),
                    bucket=self.bucket,
                    org=self.org,
                )
        except ApiException as error:
            refused = error.status in (401, 403)
            raise StoreError(
                f"InfluxDB at {self.url} refused the delete ({error.status}): {_api_message(error)}",
                "check the token: it needs write access to the bucket"
                if refused
                else "check url, org and bucket",
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise StoreError(
                f"InfluxDB at {self.url} unreachable: {error}", "is the server running, and the URL right?"
            ) from None

    def how_to(self, selection: PointSelection) -> str:
        return (
            f"run `influx delete --host {self.url} --org {self.org} --bucket {self.bucket}"
            f" --start {rfc3339_ns(selection.start_ns)} --stop {rfc3339_ns(selection.stop_ns)}"
            f" --predicate '{selection.predicate()}'`"
        )


class NoPointDelete:
    """InfluxDB 3.x: no API deletes points, so every deletion is refused, naming what stays."""

    can_delete = False

    def __init__(self, url: str, database: str) -> None:
        self.url = url.rstrip("/")
        self.database = database

    @property
    def where(self) -> str:
        return f"InfluxDB 3 database {self.database!r} at {self.url}"

    def delete(self, selection: PointSelection) -> None:
        raise StoreError(
            f"InfluxDB 3 at {self.url} has no API that deletes points",
            "only a whole table or database can be deleted there",
        )

    def how_to(self, selection: PointSelection) -> str:
        return "InfluxDB 3 deletes only whole tables or databases"


class InfluxTarget(Protocol):
    """What :func:`influx_deleter` needs of ``[store.influx]`` (``monitor.config.InfluxConfig``)."""

    @property
    def version(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def database(self) -> str: ...
    @property
    def org(self) -> str: ...
    @property
    def bucket(self) -> str: ...
    @property
    def token_env(self) -> str | None: ...
    @property
    def token_file(self) -> str | None: ...

    def reader(self) -> InfluxQLReader: ...


def influx_deleter(target: InfluxTarget) -> InfluxDeleter:
    """The deleter of the configured server; reads its secret now (ConfigError when missing).

    Called before anything is deleted locally: a missing token stops the command there.
    """
    if target.version == "1":
        return InfluxQLDeleter(target.reader())
    if target.version == "2":
        token = read_secret(target.token_env, target.token_file)
        return InfluxV2Deleter(target.url, target.org, target.bucket or target.database, token=token)
    return NoPointDelete(target.url, target.bucket or target.database)


def rfc3339_ns(time_ns: int) -> str:
    """UTC ns as RFC 3339 with nanoseconds, as the 2.x delete API parses it.

    Examples
    --------
    >>> rfc3339_ns(1_772_443_800_123_456_789)
    '2026-03-02T09:30:00.123456789Z'
    >>> rfc3339_ns(MIN_TIME_NS), rfc3339_ns(MAX_TIME_NS)
    ('1677-09-21T00:12:43.145224194Z', '2262-04-11T23:47:16.854775806Z')
    """
    seconds, nanos = divmod(time_ns, NS_PER_S)
    moment = _EPOCH + dt.timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def _api_message(error: ApiException) -> str:
    """The server's ``message`` from an error body (its JSON), else the body or the reason."""
    body = error.body.decode(errors="replace") if isinstance(error.body, bytes) else str(error.body or "")
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or body.strip() or error.reason)


__all__ = [
    "MAX_TIME_NS",
    "MIN_TIME_NS",
    "InfluxDeleter",
    "InfluxQLDeleter",
    "InfluxV2Deleter",
    "NoPointDelete",
    "PointSelection",
    "influx_deleter",
    "rfc3339_ns",
]
