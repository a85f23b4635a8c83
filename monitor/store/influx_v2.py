"""Writer for the InfluxDB v2 API through influxdb-client (InfluxDB 2.x, 3.x and Cloud)."""

from __future__ import annotations

import aiohttp
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from monitor.store.writer import RetryableWriteError, classify

REQUEST_TIMEOUT_MS = 60_000  # as the v1 writer


class InfluxV2Writer:
    """Writes line protocol with ``InfluxDBClientAsync`` (gzip on) to one bucket.

    The client has no batching or retries of its own in async mode: batching is the
    spool's and retries are the forwarder's, which is what keeps a failed write queued
    instead of dropped.

    Parameters
    ----------
    url, org, bucket : str
        Server base URL, organisation and bucket.
    token : str
        API token from :func:`monitor.store.writer.read_secret`; never logged or shown.

    Examples
    --------
    >>> InfluxV2Writer("http://127.0.0.1:8086", "home", "spasm", token="t")
    InfluxV2Writer(url='http://127.0.0.1:8086', org='home', bucket='spasm')
    """

    def __init__(self, url: str, org: str, bucket: str, *, token: str) -> None:
        self.url = url.rstrip("/")
        self.org = org
        self.bucket = bucket
        self._token = token
        self._client: InfluxDBClientAsync | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"InfluxV2Writer(url={self.url!r}, org={self.org!r}, bucket={self.bucket!r})"

    async def write(self, body: bytes) -> None:
        if self._client is None:  # influxdb-client wants its async client made inside a coroutine
            self._client = InfluxDBClientAsync(
                self.url, token=self._token, org=self.org, enable_gzip=True, timeout=REQUEST_TIMEOUT_MS
            )
        try:
            await self._client.write_api().write(
                bucket=self.bucket,
                org=self.org,
                record=body,
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]  # a str constant in 1.50
            )
        except ApiException as error:
            retry_after = error.headers.get("Retry-After") if error.headers else None
            message = (
                error.body.decode() if isinstance(error.body, bytes) else str(error.body or error.reason)
            )
            raise classify(int(error.status or 0), message.strip(), retry_after) from error
        except InfluxDBError as error:
            status = int(getattr(error.response, "status", 0) or 0)
            if status:
                raise classify(status, error.message, error.retry_after) from error
            raise RetryableWriteError(0, f"{self.url}: {error.message}") from error
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise RetryableWriteError(0, f"{self.url} unreachable: {error!r}") from error

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
