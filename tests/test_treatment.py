"""The treatment log: validated entries, local dates to UTC, CLI add/list/import, CSV errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.cli import main
from monitor.store import Spool
from monitor.treatment import BotoxInjection, PtSession, add_entries, entry_time_ns, list_entries
from monitor.types import NS_PER_S

BERLIN = ZoneInfo("Europe/Berlin")


def utc_ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * NS_PER_S


def test_a_date_is_local_midnight_in_the_patients_timezone() -> None:
    assert entry_time_ns(dt.date(2026, 3, 2), None, BERLIN) == utc_ns("2026-03-01T23:00")  # CET, UTC+1
    assert entry_time_ns(dt.date(2026, 7, 2), None, BERLIN) == utc_ns("2026-07-01T22:00")  # CEST, UTC+2
    assert entry_time_ns(dt.date(2026, 7, 2), dt.time(10, 30), ZoneInfo("UTC")) == utc_ns("2026-07-02T10:30")


def test_botox_entry_becomes_a_treatment_record() -> None:
    entry = BotoxInjection(dt.date(2026, 3, 2), ("gastrocnemius", "soleus"), "left", 200, "Botox")
    record = entry.to_record(BERLIN, "p01")
    assert record.measurement == "treatment"
    assert record.tags == {"kind": "botox", "patient": "p01", "side": "left"}
    assert record.fields == {
        "dose_u": 200.0,
        "product": "onabotulinumtoxinA",
        "muscles": "gastrocnemius,soleus",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dose_u": 4000}, "dose_u: 4000 U is outside 0 < dose <= 400 U"),  # an extra zero
        ({"dose_u": 0}, "dose_u: 0 U"),
        ({"side": "up"}, "side: 'up' is not one of left, right, both"),
        ({"muscles": ()}, "muscles: give at least one muscle"),
        ({"muscles": ("soleus; DROP",)}, "muscles: 'soleus; DROP'"),
        ({"product": "snake oil"}, "product: 'snake oil' is not a known botulinum toxin"),
    ],
)
def test_botox_entry_validation_names_the_field(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "date": dt.date(2026, 3, 2), "muscles": ("soleus",), "side": "left", "dose_u": 100,
    }  # fmt: skip
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("<", "<")):
        BotoxInjection(**{**base, **kwargs})  # type: ignore[arg-type]


def test_dysport_units_are_checked_against_their_own_label() -> None:
    assert (
        BotoxInjection(dt.date(2026, 3, 2), ("soleus",), "left", 1000, "Dysport").product
        == "abobotulinumtoxinA"
    )


def test_same_kind_at_the_same_time_is_refused_instead_of_overwritten(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite")
    session = PtSession(dt.date(2026, 3, 5), "stretching", ("calf stretch",))
    add_entries(spool, [session], BERLIN, "p01")
    with pytest.raises(ValueError, match=r"^entry 1 collides with stored entry #1 \(2026-03-05 .*stretching"):
        add_entries(spool, [PtSession(dt.date(2026, 3, 5), "gait")], BERLIN, "p01")
    add_entries(spool, [PtSession(dt.date(2026, 3, 5), "gait", time=dt.time(15))], BERLIN, "p01")
    add_entries(spool, [session], BERLIN, "p02")  # another patient
    assert len(list_entries(spool, "p01")) == 2


def test_cli_add_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spool = str(tmp_path / "s.sqlite")
    common = ["--spool", spool, "--patient", "p01", "--tz", "Europe/Berlin"]
    botox = ["--date", "2026-03-02", "--muscles", "gastrocnemius,soleus", "--side", "left", "--dose-u", "200"]
    assert main(["treatment", "add", "botox", *common, *botox, "--product", "Botox"]) == 0
    pt = ["--date", "2026-03-05", "--time", "10:30", "--pt-kind", "stretching"]
    assert (
        main(["treatment", "add", "pt", *common, *pt, "--exercises", "calf stretch;hamstring stretch"]) == 0
    )
    capsys.readouterr()
    assert main(["treatment", "list", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "#1    2026-03-02  p01      botox  200 U onabotulinumtoxinA left: gastrocnemius,soleus",
        "#2    2026-03-05 10:30  p01      pt     stretching: calf stretch; hamstring stretch",
    ]
    (injection,) = [
        r for r in Spool(spool).query(0, 2**62, measurement="treatment") if r.tags["kind"] == "botox"
    ]
    assert injection.time_ns == utc_ns("2026-03-01T23:00")


def test_cli_rejects_a_bad_timezone_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["treatment", "list", "--spool", str(tmp_path / "s.sqlite"), "--tz", "Berlin"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "spasm-monitor: timezone 'Berlin' is not an IANA name such as Europe/Berlin or UTC"


def test_cli_import_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = tmp_path / "log.csv"
    csv_path.write_text(
        "kind,date,time,muscles,side,dose_u,product,pt_kind,exercises,note\n"
        'botox,2026-03-02,,"gastrocnemius, soleus",right,300,xeomin,,,\n'
        "pt,2026-03-05,,,,,,stretching,calf stretch;hamstring stretch,home programme\n"
        "\n"
        "pt,2026-03-12,09:00,,,,,gait,,\n"
    )
    spool = str(tmp_path / "s.sqlite")
    common = ["--spool", spool, "--patient", "p01", "--timezone", "UTC"]
    assert main(["treatment", "import", str(csv_path), *common]) == 0
    assert "imported 3 treatment entries" in capsys.readouterr().out
    records = Spool(spool).query(0, 2**62, measurement="treatment", patient="p01")
    assert [(r.tags["kind"], r.time_ns) for r in records] == [
        ("botox", utc_ns("2026-03-02T00:00")),
        ("pt", utc_ns("2026-03-05T00:00")),
        ("pt", utc_ns("2026-03-12T09:00")),
    ]
    assert records[0].fields["muscles"] == "gastrocnemius,soleus"
    assert records[0].fields["product"] == "incobotulinumtoxinA"
    assert records[1].fields["note"] == "home programme"


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ("kind,date,dose\n", "row 1, column dose: unknown column"),
        ("kind,muscles\n", "row 1, column date: missing from the header"),
        ("kind,date,muscles,side,dose_u\nbotox,2026-03-02,soleus,left,200\nbotox,2026-13-01,soleus,left,1\n",
         "row 3, column date: '2026-13-01' is not a date (YYYY-MM-DD)"),
        ("kind,date,muscles,side,dose_u\nbotox,2026-03-02,soleus,left,lots\n",
         "row 2, column dose_u: 'lots' is not a number of units"),
        ("kind,date,muscles,side,dose_u\nbotox,2026-03-02,soleus,,100\n",
         "row 2, column side: required for a botox entry"),
        ("kind,date,muscles,side,dose_u\nbotox,2026-03-02,soleus,left,4000\n",
         "row 2, column dose_u: 4000 U is outside"),
        ("kind,date,pt_kind\nmassage,2026-03-02,x\n", "row 2, column kind: 'massage' is not botox or pt"),
        ("kind,date,time,pt_kind\npt,2026-03-02,25:00,gait\n", "row 2, column time: '25:00' is not a time"),
    ],
)  # fmt: skip
def test_cli_import_errors_name_row_and_column_and_store_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: str, error: str
) -> None:
    csv_path = tmp_path / "log.csv"
    csv_path.write_text(rows)
    spool = tmp_path / "s.sqlite"
    common = ["--spool", str(spool), "--patient", "p01", "--timezone", "UTC"]
    assert main(["treatment", "import", str(csv_path), *common]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{csv_path} {error}" in err
    assert Spool(spool).query(0, 2**62, measurement="treatment") == []
