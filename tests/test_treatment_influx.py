"""``treatment remove`` and ``edit`` reach the InfluxDB the entries were forwarded to (issue 15.3).

InfluxDB 1.x is the real 1.6.7 server the suite starts, fed by the project's forwarder. No
InfluxDB 2.x or 3.x can run here (VictoriaMetrics, the suite's v2 write target, has no delete
API), so for 2.x the request influxdb-client's DeleteApi sends is checked on a real HTTP server
on 127.0.0.1 that records it (tests/recording_http.py).
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Forwarder, InfluxV1Writer, Spool
from monitor.store.influx_delete import rfc3339_ns
from monitor.types import NS_PER_S
from tests.conftest import InfluxDatabase
from tests.recording_http import recording_server

PATIENT = '[patient]\nid = "p07"\ntimezone = "Europe/Berlin"\n\n[store]\nspool_path = "spool.sqlite"\n'
BOTOX = ["--date", "2026-03-02", "--time", "10:30", "--muscles", "gastrocnemius", "--dose-u", "200"]
INJECTED_NS = 1_772_443_800 * NS_PER_S  # 2026-03-02 10:30 in Berlin (09:30 UTC)


def write_config(home: Path, influx: str) -> None:
    (home / "config.toml").write_text(PATIENT + influx)


def v1(db: InfluxDatabase) -> str:
    return f'[store.influx]\nversion = "1"\nurl = "{db.url}"\ndatabase = "{db.name}"\n'


def forward(home: Path, db: InfluxDatabase) -> None:
    """What `run`'s forwarder does: everything in the spool to the server, marked sent."""

    async def drain() -> None:
        forwarder = Forwarder(home / "spool.sqlite", InfluxV1Writer(db.url, db.name))
        await asyncio.wait_for(forwarder.drain(), timeout=60)
        await forwarder.close()

    asyncio.run(drain())


def on_server(db: InfluxDatabase) -> list[tuple[int, str, str]]:
    """(time, kind, side) of every treatment point on the server ("": no side, a PT session)."""
    return [
        (row[0], s["tags"]["kind"], s["tags"]["side"])
        for s in db.query('SELECT "note", "dose_u", "pt_kind" FROM "treatment" GROUP BY "kind", "side"')
        for row in s["values"]
    ]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def add_three(capsys: pytest.CaptureFixture[str]) -> None:
    """Both legs injected and a PT session, all at 10:30: three points at one time."""
    assert main(["treatment", "add", "botox", *BOTOX, "--side", "left"]) == 0
    assert main(["treatment", "add", "botox", *BOTOX, "--side", "right"]) == 0
    assert (
        main(["treatment", "add", "pt", "--date", "2026-03-02", "--time", "10:30", "--pt-kind", "gait"]) == 0
    )
    capsys.readouterr()


def test_remove_and_edit_delete_the_forwarded_point_on_influxdb_1_6(
    home: Path, influx_db: InfluxDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(home, v1(influx_db))
    add_three(capsys)
    forward(home, influx_db)
    assert sorted(on_server(influx_db)) == [(INJECTED_NS, "botox", "left"), (INJECTED_NS, "botox", "right"),
                                            (INJECTED_NS, "pt", "")]  # fmt: skip

    assert main(["treatment", "remove", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"deleted #1 from InfluxDB database {influx_db.name!r} at {influx_db.url} too"
    # Only that entry's point: the other leg and the PT session at the same time stay.
    assert sorted(on_server(influx_db)) == [(INJECTED_NS, "botox", "right"), (INJECTED_NS, "pt", "")]

    # The PT session moved to the next day: its old point goes, the new one is forwarded.
    assert main(["treatment", "edit", "3", "--date", "2026-03-03"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == (
        f"deleted #3 from InfluxDB database {influx_db.name!r} at {influx_db.url} too"
    )
    forward(home, influx_db)
    day_ns = 86_400 * NS_PER_S
    assert sorted(on_server(influx_db)) == [(INJECTED_NS, "botox", "right"), (INJECTED_NS + day_ns, "pt", "")]


def test_remove_with_the_server_down_says_in_one_line_what_stays_there(
    home: Path, influx_db: InfluxDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(home, v1(influx_db))
    add_three(capsys)
    forward(home, influx_db)
    # The server moved (or is down): nothing listens on the discard port.
    down = InfluxDatabase("http://127.0.0.1:9", influx_db.name)
    write_config(home, v1(down))
    assert main(["treatment", "remove", "1"]) == 1
    removed, told = capsys.readouterr().out.splitlines()
    assert removed.startswith("removed #1: 2026-03-02 10:30")
    assert told.startswith("InfluxDB NOT updated: InfluxDB at http://127.0.0.1:9 unreachable")
    assert (
        f"still holds #1 (it): treatment with kind=botox patient=p07 side=left at"
        f" 2026-03-02T09:30:00.000000000Z ({INJECTED_NS} ns)"
    ) in told
    with Spool(home / "spool.sqlite", read_only=True) as spool:
        assert len(spool.query(0, 2**62, measurement="treatment")) == 2  # the spool's part is done
    # The statement the line gives deletes exactly that point on the real server.
    [statement] = re.findall(r"run `([^`]+)`", told)
    db = influx_db.name
    request = urllib.parse.urlencode({"db": db, "q": statement}).encode()
    urllib.request.urlopen(f"{influx_db.url}/query", data=request, timeout=30).close()
    assert sorted(on_server(influx_db)) == [(INJECTED_NS, "botox", "right"), (INJECTED_NS, "pt", "")]

    # An entry never forwarded has nothing on the server: removing it is done, server or not.
    assert main(["treatment", "add", "pt", "--date", "2026-03-09", "--pt-kind", "gait"]) == 0
    capsys.readouterr()
    assert main(["treatment", "remove", "4"]) == 0
    assert capsys.readouterr().out.startswith("removed #4: 2026-03-09")


def v2(url: str) -> str:
    return (
        f'[store.influx]\nversion = "2"\nurl = "{url}"\norg = "clinic"\nbucket = "spasm"\n'
        'token_env = "SPASM_TEST_V2_TOKEN"\n'
    )


def mark_sent(home: Path) -> None:
    """As if the forwarder had the rows acknowledged by the 2.x server."""
    with Spool(home / "spool.sqlite") as spool:
        batch = spool.next_batch(100)
        assert batch is not None
        spool.mark_sent(batch.first_id, batch.last_id)


def test_remove_on_influxdb_2_sends_the_delete_api_request(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPASM_TEST_V2_TOKEN", "s3cret-token")
    with recording_server(204) as server:
        write_config(home, v2(server.url))
        add_three(capsys)
        mark_sent(home)
        assert main(["treatment", "remove", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        f"deleted #2 from InfluxDB bucket 'spasm' (org 'clinic') at {server.url} too"
    )
    [request] = server.requests
    assert (request.path, request.query) == ("/api/v2/delete", {"org": ["clinic"], "bucket": ["spasm"]})
    assert request.headers["authorization"] == "Token s3cret-token"
    assert request.json() == {
        "start": "2026-03-02T09:30:00.000000000Z",
        "stop": "2026-03-02T09:30:00.000000000Z",  # inclusive: that one instant
        "predicate": (
            '"_measurement" = "treatment" AND "kind" = "botox" AND "patient" = "p07" AND "side" = "right"'
        ),
    }
    assert rfc3339_ns(INJECTED_NS) == request.json()["start"]


def test_a_refused_delete_on_influxdb_2_is_one_line_with_what_stays(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPASM_TEST_V2_TOKEN", "read-only-token")
    answer = {"code": "forbidden", "message": "insufficient permissions to delete"}
    with recording_server(403, answer) as server:
        write_config(home, v2(server.url))
        add_three(capsys)
        mark_sent(home)
        assert main(["treatment", "remove", "1"]) == 1
    removed, told = capsys.readouterr().out.splitlines()
    assert removed.startswith("removed #1: 2026-03-02 10:30")
    assert told.startswith(
        f"InfluxDB NOT updated: InfluxDB at {server.url} refused the delete (403): insufficient permissions"
        " to delete (check the token: it needs write access to the bucket);"
        f" InfluxDB bucket 'spasm' (org 'clinic') at {server.url} still holds #1 (it): treatment with"
        " kind=botox patient=p07 side=left at 2026-03-02T09:30:00.000000000Z"
    )
    assert "run `influx delete --host" in told
    assert "read-only-token" not in told


def test_remove_on_influxdb_3_says_what_stays(home: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("SPASM_TEST_V3_TOKEN", "t")
    write_config(home, '[store.influx]\nversion = "3"\nurl = "http://127.0.0.1:9"\ndatabase = "spasm"\n'
                       'token_env = "SPASM_TEST_V3_TOKEN"\n')  # fmt: skip
    add_three(capsys)
    mark_sent(home)
    assert main(["treatment", "remove", "1"]) == 1
    told = capsys.readouterr().out.splitlines()[1]
    assert told == (
        "InfluxDB NOT updated: InfluxDB 3 at http://127.0.0.1:9 has no API that deletes points (only a whole"
        " table or database can be deleted there); InfluxDB 3 database 'spasm' at http://127.0.0.1:9 still"
        " holds #1 (it): treatment with kind=botox patient=p07 side=left at 2026-03-02T09:30:00.000000000Z"
        f" ({INJECTED_NS} ns)"
    )
