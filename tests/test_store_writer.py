"""Writers: how refusals are classified, Retry-After parsing, secrets, and a 413 split."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

from monitor.backoff import Backoff
from monitor.errors import ConfigError
from monitor.store import Forwarder, InfluxV1Writer, InfluxV2Writer, Spool
from monitor.store.writer import (
    AccessWriteError,
    RejectedWriteError,
    RetryableWriteError,
    TooLargeWriteError,
    classify,
    parse_retry_after,
    read_secret,
)
from monitor.types import Record


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, RejectedWriteError),
        (422, RejectedWriteError),
        (401, AccessWriteError),
        (404, AccessWriteError),
        (413, TooLargeWriteError),
        (429, RetryableWriteError),
        (503, RetryableWriteError),
    ],
)
def test_classify(status: int, kind: type) -> None:
    assert type(classify(status, "x", None)) is kind


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 18:00:30 GMT", now_s=1795629600.0) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_secrets_come_from_env_or_file_and_never_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPASM_TEST_TOKEN", "s3cret")
    assert read_secret(env_var="SPASM_TEST_TOKEN") == "s3cret"
    (tmp_path / "token").write_text("f1le-token\n")
    assert read_secret(file=tmp_path / "token") == "f1le-token"
    with pytest.raises(ConfigError, match="SPASM_TEST_EMPTY"):
        read_secret(env_var="SPASM_TEST_EMPTY")
    with pytest.raises(ConfigError, match="no secret source"):
        read_secret()
    assert "s3cret" not in repr(InfluxV2Writer("http://127.0.0.1:1", "o", "b", token="s3cret"))
    assert "s3cret" not in repr(InfluxV1Writer("http://127.0.0.1:1", "d", token="s3cret"))


async def test_a_body_too_large_is_split_not_dropped(tmp_path: Path) -> None:
    bodies: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if body.count(b"\n") >= 1:  # more than one line is "too large" for this server
            return web.Response(status=413, text="request entity too large")
        bodies.append(body)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/write", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        path = tmp_path / "spool.sqlite"
        with Spool(path) as spool:
            spool.append(Record("gap", 10 + i, {"duration_s": 1.0}) for i in range(3))
        forwarder = Forwarder(
            path, InfluxV1Writer(f"http://127.0.0.1:{port}", "d"), backoff=Backoff(0.01, 0.1)
        )
        await asyncio.wait_for(forwarder.drain(), 10)
        await forwarder.close()
    finally:
        await runner.cleanup()
    assert sorted(bodies) == [f"gap duration_s=1.0 {10 + i}".encode() for i in range(3)]
    assert forwarder.stats.set_aside_points == 0


def test_forwarder_waits_follow_the_backoff_unless_the_server_says_otherwise(tmp_path: Path) -> None:
    forwarder = Forwarder(tmp_path / "spool.sqlite", InfluxV1Writer("http://127.0.0.1:1", "d"), seed=0)
    plain = RetryableWriteError(0, "down")
    for attempt in range(10):
        cap_s = min(30.0, 0.5 * 2**attempt)
        waits = [forwarder.retry_delay_s(attempt, plain) for _ in range(200)]
        assert all(0.0 <= w <= cap_s for w in waits)
        assert max(waits) - min(waits) > 0.5 * cap_s  # jittered, not in lock-step
    assert forwarder.retry_delay_s(3, RetryableWriteError(503, "busy", retry_after_s=12.0)) == 12.0
    assert forwarder.retry_delay_s(0, RetryableWriteError(429, "slow", retry_after_s=9999.0)) == 300.0
