"""Text that must survive import and InfluxDB untouched (issue 13.11 b-d).

A treatment note keeps its line breaks through the CSV import; a NEL (U+0085) or U+2028 in
a note reads back from InfluxDB instead of breaking every report of that patient; and a
database whose name needs quoting is created and filled by the demo's forwarding.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import InfluxDatabase

from monitor.cli import main
from monitor.commands.demo import _forward
from monitor.store import InfluxV1Writer, Spool
from monitor.store.forwarder import Forwarder
from monitor.store.influx_reader import InfluxQLReader
from monitor.treatment import list_entries
from monitor.types import Record

NOTE = "Injected under ultrasound.\nFollow-up in 6 weeks;\r\ncall if weak"
ODD_NOTE = "before NEL\x85after NEL\u2028after LS\u2029after PS\nend"


def test_a_multi_line_note_keeps_its_line_breaks_through_the_csv_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "log.csv"
    quoted = NOTE.replace('"', '""')
    csv_path.write_bytes(
        (
            "kind,date,muscles,side,dose_u,note\r\n"
            f'botox,2026-03-02,soleus,left,100,"{quoted}"\r\n'
            f'botox,2026-03-09,soleus,left,100,"{ODD_NOTE}"\r\n'
            "botox,2026-03-16,soleus,left,100,plain\r\n"
        ).encode()
    )
    spool_path = tmp_path / "s.sqlite"
    assert main(["treatment", "import", str(csv_path), "--spool", str(spool_path), "--patient", "p01"]) == 0
    assert "imported 3 treatment entries" in capsys.readouterr().out
    notes = [r.fields.get("note") for r in list_entries(Spool(spool_path), "p01")]
    assert notes == [NOTE, ODD_NOTE, "plain"]


def test_a_note_with_nel_reads_back_from_influxdb(tmp_path: Path, influx_db: InfluxDatabase) -> None:
    url, name = influx_db.url, influx_db.name
    spool = Spool(tmp_path / "s.sqlite")
    notes = [ODD_NOTE, "x\x85", "\u2028"]
    spool.append(
        [
            Record(
                "treatment", 1_700_000_000_000_000_000 + i, {"note": note, "dose_u": 1.0}, {"patient": "p01"}
            )
            for i, note in enumerate(notes)
        ]
    )

    async def forward() -> None:
        forwarder = Forwarder(spool.path, InfluxV1Writer(url, name))
        try:
            await forwarder.drain()
        finally:
            await forwarder.close()

    asyncio.run(forward())
    records = InfluxQLReader(url, name).query(0, 2**62, measurement="treatment", patient="p01")
    assert [r.fields["note"] for r in records] == notes


def test_the_demo_creates_and_fills_a_database_whose_name_needs_quoting(
    tmp_path: Path, influxdb_url: str
) -> None:
    database = f'home "7"; it\'s {tmp_path.name}'
    spool = Spool(tmp_path / "s.sqlite")
    spool.append([Record("spasm_event", 1_700_000_000_000_000_000, {"duration_s": 2.5}, {"patient": "p01"})])
    said = _forward(Path(spool.path), influxdb_url, database)
    assert "1 points forwarded" in said
    records = InfluxQLReader(influxdb_url, database).query(0, 2**62, measurement="spasm_event", patient="p01")
    assert [r.fields["duration_s"] for r in records] == [2.5]
