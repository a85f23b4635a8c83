"""Records read back from InfluxDB over InfluxQL (the v1 ``/query`` API), as the spool gives them.

The report is built where the data is: from the gateway's spool, or from the InfluxDB a clinic's
gateways forward to. :class:`InfluxQLReader` answers the same :meth:`query` as
:meth:`monitor.store.Spool.query`, so the report code does not know which it reads.

InfluxDB 1.x serves ``/query`` natively. InfluxDB 3.x and Cloud Serverless answer InfluxQL too,
and InfluxDB 2.x does through its v1 compatibility API once the bucket has a DBRP mapping
(``influx v1 dbrp create``); both take the token as ``Authorization: Token``. Only 1.x can run
here, so only 1.x is tested.

Field types: InfluxDB's JSON writes a float field with an integral value as an integer
(``4.0`` comes back as ``4``). Python compares them equal; code that needs a float converts.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from monitor.errors import StoreError
from monitor.store.influx_v1 import v1_authorization
from monitor.store.influxql import quote_ident, quote_string
from monitor.types import FieldValue, Record

CHUNK_ROWS = 10_000  # rows per chunk of a chunked response: a year of events is many chunks


class InfluxQLReader:
    """Read records from one database of an InfluxDB over InfluxQL.

    Parameters
    ----------
    url : str
        Server root, ``http://127.0.0.1:8086``.
    database : str
        The database (1.x), or the bucket's DBRP database (2.x, 3.x).
    username, password : str, optional
        Basic authentication (1.x with auth enabled).
    token : str, optional
        ``Authorization: Token`` (2.x, 3.x, Cloud); not with a username.
    timeout_s : float
        Per request, s.

    Examples
    --------
    >>> InfluxQLReader("http://127.0.0.1:8086/", "spasm")
    InfluxQLReader(url='http://127.0.0.1:8086', database='spasm', auth=None)
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.timeout_s = timeout_s
        self._headers, self._auth_kind = v1_authorization(username, password, token)

    def __repr__(self) -> str:  # never shows the secret
        return f"InfluxQLReader(url={self.url!r}, database={self.database!r}, auth={self._auth_kind!r})"

    def query(
        self,
        start_ns: int,
        end_ns: int,
        *,
        measurement: str,
        patient: str | None = None,
    ) -> list[Record]:
        """Records of ``measurement`` with ``start_ns <= time < end_ns`` (optionally of one
        patient), in time order, with their tags and fields as written.

        Raises
        ------
        StoreError
            The server is unreachable, refuses the credentials, or answers with an error.
        """
        where = [f"time >= {int(start_ns)}", f"time < {int(end_ns)}"]
        if patient is not None:
            where.append(f"{quote_ident('patient')} = {quote_string(patient)}")
        influxql = f"SELECT * FROM {quote_ident(measurement)} WHERE {' AND '.join(where)} GROUP BY *"
        records = [
            Record(measurement, int(row[0]), fields, tags)
            for tags, columns, rows in self._series(influxql)
            for row in rows
            if (fields := _fields(columns, row))
        ]
        records.sort(key=lambda r: r.time_ns)
        return records

    def execute(self, influxql: str) -> None:
        """Run a statement that returns no rows (``DROP SERIES``); StoreError when refused."""
        self._series(influxql)

    def _series(self, influxql: str) -> list[tuple[dict[str, str], list[str], list[list[Any]]]]:
        params = {
            "db": self.database,
            "q": influxql,
            "epoch": "ns",
            "chunked": "true",
            "chunk_size": str(CHUNK_ROWS),
        }
        request = urllib.request.Request(
            f"{self.url}/query", data=urllib.parse.urlencode(params).encode(), headers=self._headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                # One JSON document per line, split on "\n" only: str.splitlines() also splits
                # at NEL (U+0085) and U+2028/9, which JSON carries unescaped inside a note.
                lines = [raw.decode() for raw in response]
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace").strip()
            hint = "check the token or user" if error.code in (401, 403) else "check url and database"
            message = f"InfluxDB at {self.url} refused the query ({error.code}): {detail}"
            raise StoreError(message, hint) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise StoreError(
                f"InfluxDB at {self.url} unreachable: {error}", "is the server running, and the URL right?"
            ) from None
        out = []
        for line in lines:  # a chunked answer is one JSON document per line
            if not line.strip():
                continue
            for result in json.loads(line).get("results", []):
                if "error" in result:
                    raise StoreError(f"InfluxDB query failed: {result['error']}", "check the database name")
                for series in result.get("series", []):
                    out.append((dict(series.get("tags") or {}), series["columns"], series["values"]))
        return out


def _fields(columns: list[str], row: list[Any]) -> dict[str, FieldValue]:
    # GROUP BY * puts every tag in the series' tags: the columns are time and the fields,
    # null where this point has no such field.
    return {name: value for name, value in zip(columns[1:], row[1:], strict=True) if value is not None}


__all__ = ["InfluxQLReader"]
