"""``spasm-monitor forget --patient ID``: every row of one patient leaves the spool and InfluxDB 1.6.7."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Spool
from monitor.types import NS_PER_S, Record
from tests.conftest import InfluxDatabase
from tests.recording_http import recording_server

T0_NS = 1_780_000_000 * NS_PER_S


def records(patient: str) -> list[Record]:
    tags = {"patient": patient, "device": "C4:7C:8D:6A:12:34", "side": "left"}
    return (
        [
            Record("spasm_event", T0_NS + i * NS_PER_S, {"duration_s": 2.0}, tags | {"kind": "tonic"})
            for i in range(3)
        ]
        + [
            Record("emg_envelope", T0_NS + i * NS_PER_S, {"rms_mv": 0.05}, tags | {"channel": "0"})
            for i in range(5)
        ]
        + [Record("treatment", T0_NS, {"dose_u": 100.0}, {"patient": patient, "kind": "botox"})]
    )


def fill(tmp_path: Path, influx: InfluxDatabase | None) -> Path:
    """A spool with p01 and p02 rows: some sent (and on the server), some queued, one set aside."""
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(records("p01") + records("p02"))
        batch = spool.next_batch(100)
        assert batch is not None
        if influx is not None:
            request = urllib.request.Request(
                f"{influx.url}/write?db={influx.name}&precision=ns", data=batch.body
            )
            urllib.request.urlopen(request, timeout=30).close()
        spool.mark_sent(batch.first_id, batch.last_id)
        spool.append(
            [
                Record("gap", T0_NS + 60 * NS_PER_S, {"duration_s": 1.5}, {"patient": p})
                for p in ("p01", "p02")
            ]
        )
        spool.set_aside([1], 400, "field type conflict")
    return path


def write_config(tmp_path: Path, influx: InfluxDatabase | None) -> Path:
    config = tmp_path / "config.toml"
    text = f'[patient]\nid = "p01"\n[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    if influx is not None:
        text += f'[store.influx]\nversion = "1"\nurl = "{influx.url}"\ndatabase = "{influx.name}"\n'
    config.write_text(text)
    return config


def patients_on_server(influx: InfluxDatabase) -> dict[str, int]:
    counts = {}
    for patient in ("p01", "p02"):
        series = influx.query(f"SELECT count(*) FROM /.*/ WHERE \"patient\" = '{patient}'")
        counts[patient] = sum(int(v) for s in series for v in s["values"][0][1:] if v is not None)
    return counts


def test_forget_removes_every_row_of_the_patient_from_the_spool_and_influxdb(
    tmp_path: Path, influx_db: InfluxDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_path = fill(tmp_path, influx_db)
    config = write_config(tmp_path, influx_db)
    assert patients_on_server(influx_db)["p01"] > 0

    assert main(["forget", "--patient", "p01", "--yes", "--config", str(config)]) == 0

    with Spool(spool_path, read_only=True) as spool:
        left = spool.query(0, 2**62)
        assert spool.rows("SELECT count(*) FROM set_aside") == [(0,)]  # its refusal went with it
    assert {r.tags["patient"] for r in left} == {"p02"}
    assert len(left) == len(records("p02")) + 1
    on_server = patients_on_server(influx_db)
    assert on_server["p01"] == 0
    assert on_server["p02"] > 0
    out = capsys.readouterr().out
    assert "erased 10 rows of patient p01" in out
    assert "from InfluxDB database" in out


def test_forget_asks_first_and_a_wrong_answer_erases_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_path = fill(tmp_path, None)
    config = write_config(tmp_path, None)
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["forget", "--patient", "p01", "--config", str(config)]) == 1
    with Spool(spool_path, read_only=True) as spool:
        assert spool.count() == 2 * len(records("p01")) + 2
    assert "nothing erased" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("p01\n"))
    assert main(["forget", "--patient", "p01", "--config", str(config)]) == 0
    with Spool(spool_path, read_only=True) as spool:
        assert spool.query(0, 2**62, patient="p01") == []


def test_forget_with_the_server_down_says_so_after_erasing_the_spool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path, None)
    closed = InfluxDatabase("http://127.0.0.1:9", "spasm")  # discard port: nothing listens
    config = write_config(tmp_path, closed)
    assert main(["forget", "--patient", "p01", "--yes", "--config", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("erased 10 rows of patient p01")
    assert out[1].startswith("InfluxDB NOT erased: InfluxDB at http://127.0.0.1:9 unreachable")


def write_v2_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p01"\n[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
        f'[store.influx]\nversion = "2"\nurl = "{url}"\norg = "clinic"\nbucket = "spasm"\n'
        'token_env = "SPASM_TEST_V2_TOKEN"\n'
    )
    return config


def test_forget_on_influxdb_2_deletes_through_the_delete_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No InfluxDB 2.x can run here and VictoriaMetrics has no delete API: the request
    # influxdb-client's DeleteApi sends is checked on a real HTTP server that records it.
    spool_path = fill(tmp_path, None)
    with recording_server(204) as server:
        config = write_v2_config(tmp_path, server.url)
        # Without its token nothing is erased, not even the spool's part.
        monkeypatch.delenv("SPASM_TEST_V2_TOKEN", raising=False)
        assert main(["forget", "--patient", "p01", "--yes", "--config", str(config)]) == 2
        assert "SPASM_TEST_V2_TOKEN" in capsys.readouterr().err
        with Spool(spool_path, read_only=True) as spool:
            assert len(spool.query(0, 2**62, patient="p01")) == len(records("p01")) + 1
        assert server.requests == []

        monkeypatch.setenv("SPASM_TEST_V2_TOKEN", "s3cret-token")
        assert main(["forget", "--patient", "p01", "--yes", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"erased 10 rows of patient p01 from {spool_path}",
        f"erased patient p01's data from InfluxDB bucket 'spasm' (org 'clinic') at {server.url}",
    ]
    [request] = server.requests
    assert (request.path, request.query) == ("/api/v2/delete", {"org": ["clinic"], "bucket": ["spasm"]})
    assert request.headers["authorization"] == "Token s3cret-token"
    assert request.json() == {
        # Every time InfluxDB can store (its delete API refuses a range beyond it).
        "start": "1677-09-21T00:12:43.145224194Z",
        "stop": "2262-04-11T23:47:16.854775806Z",
        "predicate": '"patient" = "p01"',
    }


def test_forget_on_influxdb_3_says_what_stays_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_path = fill(tmp_path, None)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p01"\n[store]\nspool_path = "{spool_path}"\n'
        '[store.influx]\nversion = "3"\nurl = "http://127.0.0.1:9"\ndatabase = "spasm"\n'
        'token_env = "SPASM_TEST_V3_TOKEN"\n'
    )
    monkeypatch.setenv("SPASM_TEST_V3_TOKEN", "t")
    assert main(["forget", "--patient", "p01", "--yes", "--config", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "InfluxDB NOT erased: InfluxDB 3 at http://127.0.0.1:9 has no API that deletes points (only a whole"
        " table or database can be deleted there); InfluxDB 3 database 'spasm' at http://127.0.0.1:9 still"
        " holds every measurement with patient=p01, all times"
    )
    with Spool(spool_path, read_only=True) as spool:
        assert spool.query(0, 2**62, patient="p01") == []  # the spool's part is done
