"""Alerts delivered for real: apprise's JSON webhook to a local HTTP receiver (127.0.0.1).

The receiver is a real aiohttp server on a random port; apprise posts to it over TCP,
exactly as it would to a carer's webhook relay.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.alerts import AlertEngine, AlertService, AlertThresholds, Notifier
from monitor.errors import ConfigError
from monitor.store import Spool
from monitor.types import Record
from tests.alert_scenarios import H_NS, T0_NS, spike_day


def first_spike() -> list[Record]:
    """The baseline and the first burst only: one spike alert."""
    return [r for r in spike_day() if r.time_ns < T0_NS + 49 * H_NS]


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    received = Receiver("")

    async def hook(request: web.Request) -> web.Response:
        received.posts.append(await request.json())
        received.queries.append(dict(request.query))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    received.url = f"json://127.0.0.1:{port}/hook"
    yield received
    await runner.cleanup()


async def test_seeded_spike_sends_exactly_one_notification_then_another_after_the_cooldown(
    receiver: Receiver, tmp_path: Path
) -> None:
    records = spike_day()
    before_second = [r for r in records if r.time_ns < T0_NS + 52 * H_NS]
    spool = Spool(tmp_path / "spool.sqlite")
    service = AlertService(AlertEngine(AlertThresholds(cooldown_min=60)), spool, Notifier([receiver.url]))

    await service.consume(before_second)  # the spike at 48:03, a second burst in the cooldown
    assert len(receiver.posts) == 1
    (post,) = receiver.posts
    assert "spasm spike" in post["title"]
    assert "p01" in post["title"]
    assert "7 spasms in the last hour" in post["message"]
    assert post["type"] == "warning"

    await service.consume([r for r in records if r.time_ns >= T0_NS + 52 * H_NS])
    assert len(receiver.posts) == 2

    stored = spool.query(0, 2**62, measurement="alert")
    assert [(r.tags["rule"], r.tags["patient"], r.fields["delivered"]) for r in stored] == [
        ("spasm_spike", "p01", True),
        ("spasm_spike", "p01", True),
    ]
    assert stored[0].fields["value"] == 7.0
    assert stored[0].fields["message"] == post["message"]


async def test_alert_is_stored_even_when_the_notification_fails(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite")
    # Port 9 on 127.0.0.1 (discard) is closed here: the POST is refused.
    service = AlertService(AlertEngine(), spool, Notifier(["json://127.0.0.1:9/hook"], timeout_s=2))
    await service.consume(first_spike())
    (stored,) = spool.query(0, 2**62, measurement="alert")
    assert stored.fields["delivered"] is False


async def test_notification_url_with_a_token_is_never_logged(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_url = receiver.url + "?-token=s3cr3t-token"
    service = AlertService(AlertEngine(), Spool(":memory:"), Notifier([secret_url]))
    await service.consume(first_spike())
    assert receiver.queries == [{"token": "s3cr3t-token"}]  # it reached the receiver ...
    # ... and no log line of ours or the libraries we call names it (aiohttp.access is the
    # receiver's log: it stands for the remote service).
    leaks = [
        r.getMessage() for r in caplog.records if r.name != "aiohttp.access" and "s3cr3t" in r.getMessage()
    ]
    assert leaks == []


def test_a_bad_url_is_named_by_position_not_by_content() -> None:
    with pytest.raises(ConfigError) as error:
        Notifier(["json://127.0.0.1:1/ok", "nosuchscheme://user:hunter2@example"])
    assert "#2" in str(error.value)
    assert "hunter2" not in str(error.value)
