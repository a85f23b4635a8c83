"""The report built from the InfluxDB the spool forwards to equals the report built from the spool.

A clinic's gateways forward to one InfluxDB; the report is then built there. The spool of
``tests/report_spool.py`` (30 days through the real detector) goes through the real
forwarder into the real InfluxDB 1.6.7, and is read back over InfluxQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap
from pathlib import Path

import pytest
from conftest import create_database
from report_spool import PATIENT, BuiltSpool, shared_spool

from monitor.cli import main
from monitor.errors import StoreError
from monitor.report import ReportData, build_report
from monitor.store import Forwarder, InfluxV1Writer
from monitor.store.influx_reader import InfluxQLReader
from monitor.types import Record

DATABASE = "report_from_influx"
TZ = "Europe/London"


@pytest.fixture(scope="module")
def forwarded(tmp_path_factory: pytest.TempPathFactory, influxdb_url: str) -> BuiltSpool:
    built = shared_spool(tmp_path_factory, tmp_path_factory.mktemp("report_influx") / "spool.sqlite")
    db = create_database(influxdb_url, DATABASE)
    db.query("DROP SERIES FROM /.*/")

    async def forward() -> None:
        forwarder = Forwarder(built.path, InfluxV1Writer(influxdb_url, DATABASE))
        await asyncio.wait_for(forwarder.drain(), timeout=60)
        await forwarder.close()
        assert forwarder.stats.set_aside_points == 0

    asyncio.run(forward())
    return built


def _same_moment(data: ReportData) -> ReportData:
    return dataclasses.replace(data, generated_ns=0)


def test_report_from_influxdb_equals_the_report_from_the_spool(
    forwarded: BuiltSpool, influxdb_url: str
) -> None:
    from_spool = build_report(forwarded.path, patient=PATIENT, timezone=TZ)
    from_influx = build_report(InfluxQLReader(influxdb_url, DATABASE), patient=PATIENT, timezone=TZ)
    assert from_influx.spasms == from_spool.spasms > 0
    assert _same_moment(from_influx) == _same_moment(from_spool)


def test_reader_gives_back_tags_fields_and_exact_times(forwarded: BuiltSpool, influxdb_url: str) -> None:
    reader = InfluxQLReader(influxdb_url, DATABASE)
    [written] = [r for r in forwarded.records if r.measurement == "treatment" and r.tags["kind"] == "botox"]
    treatments = reader.query(0, 2**62, measurement="treatment", patient=PATIENT)
    [read] = [r for r in treatments if r.tags["kind"] == "botox"]
    assert (read.time_ns, read.tags) == (written.time_ns, written.tags)
    assert read.fields == written.fields
    assert reader.query(0, 2**62, measurement="treatment", patient="nobody") == []
    spasms: list[Record] = reader.query(0, 2**62, measurement="spasm_event")
    written_onsets = sorted(r.time_ns for r in forwarded.records if r.measurement == "spasm_event")
    assert [r.time_ns for r in spasms] == written_onsets


def test_cli_report_from_influx_uses_the_configured_server(
    forwarded: BuiltSpool, influxdb_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(f"""
        [patient]
        id = "{PATIENT}"
        timezone = "Europe/London"
        [store]
        spool_path = "{tmp_path / "not-this-one.sqlite"}"
        [store.influx]
        version = "1"
        url = "{influxdb_url}"
        database = "{DATABASE}"
        """)
    )
    out = tmp_path / "report.html"
    assert main(["report", "--from-influx", "--config", str(config), "--out", str(out)]) == 0
    expected = build_report(forwarded.path, patient=PATIENT, timezone=TZ)
    assert f"{expected.spasms} spasms" in capsys.readouterr().out
    assert out.stat().st_size > 10_000
    assert main(["report", "--from-influx", "--spool", str(forwarded.path), "--config", str(config)]) == 2
    assert "two sources" in capsys.readouterr().err


def test_unreachable_or_missing_database_is_a_clear_error(influxdb_url: str) -> None:
    with pytest.raises(StoreError, match="unreachable"):
        InfluxQLReader("http://127.0.0.1:9", DATABASE, timeout_s=2).query(0, 1, measurement="spasm_event")
    with pytest.raises(StoreError, match="database not found"):
        InfluxQLReader(influxdb_url, "no_such_database").query(0, 1, measurement="spasm_event")
