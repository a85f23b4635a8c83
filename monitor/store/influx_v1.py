"""Writer for the InfluxDB v1 ``/write`` API (InfluxDB 1.x; 2.x and 3.x serve it too)."""

from __future__ import annotations

import base64
import gzip

import aiohttp

from monitor.store.writer import RetryableWriteError, classify

REQUEST_TIMEOUT_S = 60.0  # a 10k-point body takes ~0.05 s on a local 1.6.7; a slow link far longer


def v1_authorization(
    username: str | None, password: str | None, token: str | None
) -> tuple[dict[str, str], str | None]:
    """The ``Authorization`` header of the v1 API (``/write``, ``/query``) and its kind.

    A token (2.x/3.x compatibility API, Cloud) or HTTP basic auth (1.x with a user); neither
    gives no header. The kind (``"token"``, ``"basic"`` or None) is for ``repr``, never the secret.
    """
    if token and username:
        raise ValueError("give a token or a username and password, not both")
    if token:
        return {"Authorization": f"Token {token}"}, "token"
    if username:
        basic = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}, "basic"
    return {}, None


class InfluxV1Writer:
    """POSTs line protocol to ``{url}/write?db=&rp=&precision=ns``.

    Parameters
    ----------
    url : str
        Server base URL, e.g. ``http://127.0.0.1:8086``.
    database : str
        Database (``db``); on 2.x/3.x the bucket mapped by DBRP.
    retention_policy : str or None
        ``rp``; None for the database's default.
    username, password : str or None
        HTTP basic auth for 1.x; pass the password from :func:`read_secret`.
    token : str or None
        ``Authorization: Token`` for the 2.x/3.x v1-compatibility API, from :func:`read_secret`.
    gzip_body : bool
        Compress bodies (``Content-Encoding: gzip``): worth it over a slow link, a cost on localhost.

    Examples
    --------
    >>> writer = InfluxV1Writer("http://127.0.0.1:8086", "spasm")
    >>> writer
    InfluxV1Writer(url='http://127.0.0.1:8086', database='spasm', auth=None)
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        retention_policy: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        gzip_body: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self._params = {"db": database, "precision": "ns"}
        if retention_policy:
            self._params["rp"] = retention_policy
        auth, self._auth_kind = v1_authorization(username, password, token)
        self._headers = {"Content-Type": "text/plain; charset=utf-8", **auth}
        if gzip_body:
            self._headers["Content-Encoding"] = "gzip"
        self._gzip = gzip_body
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never shows the secret
        return f"InfluxV1Writer(url={self.url!r}, database={self.database!r}, auth={self._auth_kind!r})"

    async def write(self, body: bytes) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))
        data = gzip.compress(body, compresslevel=1) if self._gzip else body
        try:
            async with self._session.post(
                self.url + "/write", params=self._params, data=data, headers=self._headers
            ) as response:
                if 200 <= response.status < 300:
                    return
                text = (await response.text()).strip()
                raise classify(response.status, text, response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as error:
            raise RetryableWriteError(0, f"{self.url} unreachable: {error!r}") from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
