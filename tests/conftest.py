"""Fixtures that attach to the real database servers started by scripts/test.sh.

scripts/services.sh starts InfluxDB 1.6.7 and VictoriaMetrics and exports their URLs.
A test that needs them fails (never skips) when they are missing, because the suite
always runs through scripts/test.sh.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.local_influxd import LocalInfluxd

_database_numbers = itertools.count()


def _require_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(
            f"{name} is not set: run the suite through scripts/test.sh, which starts the real servers "
            "(or: source scripts/services.sh && services_start)",
            pytrace=False,
        )
    return value


@dataclass
class InfluxDatabase:
    """A fresh database on a real InfluxDB 1.x, with an InfluxQL helper."""

    url: str
    name: str

    def query(self, influxql: str) -> list[dict[str, Any]]:
        """The ``series`` of the first result of a ``/query`` (empty list when none)."""
        params = urllib.parse.urlencode({"q": influxql, "db": self.name, "epoch": "ns"}).encode()
        with urllib.request.urlopen(self.url + "/query", data=params, timeout=30) as response:
            result = json.loads(response.read())["results"][0]
        if "error" in result:
            raise AssertionError(f"InfluxQL error for {influxql!r}: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def count(self, measurement: str, field: str) -> int:
        series = self.query(f'SELECT count("{field}") FROM "{measurement}"')
        return int(series[0]["values"][0][1]) if series else 0


def create_database(url: str, name: str) -> InfluxDatabase:
    data = urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'}).encode()
    urllib.request.urlopen(url + "/query", data=data, timeout=30).close()
    return InfluxDatabase(url, name)


@pytest.fixture(scope="session")
def influxdb_url() -> str:
    return _require_env("SPASM_TEST_INFLUXDB_URL")


@pytest.fixture(scope="session")
def victoria_url() -> str:
    return _require_env("SPASM_TEST_VM_URL")


@pytest.fixture
def influx_db(influxdb_url: str) -> InfluxDatabase:
    """A new, empty database on the shared InfluxDB 1.6.7."""
    return create_database(influxdb_url, f"t{os.getpid()}_{next(_database_numbers)}")


@pytest.fixture
def private_influxd() -> Iterator[LocalInfluxd]:
    """An influxd of this test's own (own port and data), which the test may stop and restart."""
    server = LocalInfluxd(_require_env("SPASM_TEST_INFLUXD_BIN"))
    server.start()
    yield server
    server.close()


@pytest.fixture
def private_influx_db(private_influxd: LocalInfluxd) -> InfluxDatabase:
    """A database on the test's own influxd (which the test may stop and restart)."""
    return create_database(private_influxd.url, "private")
