"""``treatment`` as a carer uses it (issue 15.3): patient, timezone and spool from config.toml,
pseudonyms only, local times the clocks skip or repeat, re-imports, edit and remove by ID."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Spool
from monitor.types import NS_PER_S

CONFIG = (
    '[patient]\nid = "p07"\ntimezone = "Europe/Berlin"\n\n'
    '[store]\nspool_path = "data/spool.sqlite"\n'  # relative: beside config.toml
)
BOTOX = ["--muscles", "gastrocnemius,soleus", "--side", "left", "--dose-u", "200"]


def utc_ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * NS_PER_S


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with config.toml, the current directory (as `run` and `report` find it)."""
    (tmp_path / "config.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _treatments(home: Path) -> list[tuple[str, int, str]]:
    with Spool(home / "data" / "spool.sqlite", read_only=True) as spool:
        records = spool.query(0, 2**62, measurement="treatment")
    return [(r.tags["kind"], r.time_ns, r.tags.get("patient", "")) for r in records]


def test_patient_timezone_and_spool_come_from_config(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["treatment", "add", "botox", "--date", "2026-03-02", *BOTOX]) == 0
    assert "added #1: 2026-03-02  p07" in capsys.readouterr().out
    # Berlin's midnight on 2 March, in the spool the report reads, under the patient's pseudonym.
    assert _treatments(home) == [("botox", utc_ns("2026-03-01T23:00"), "p07")]
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    assert main(["treatment", "list", "--config", str(home / "config.toml")]) == 0
    assert capsys.readouterr().out.startswith("#1    2026-03-02  p07      botox  200 U")


def test_no_config_and_no_options_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["treatment", "add", "botox", "--date", "2026-03-02", *BOTOX]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spasm-monitor: no config.toml here to take patient, timezone and spool from")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("patient", "why"),
    [
        ("John Smith", "it has a space, like a real name"),
        ("john@example.org", "it has an @"),
        ("", "it is empty"),
    ],
)
def test_a_real_name_is_refused_as_patient(
    home: Path, capsys: pytest.CaptureFixture[str], patient: str, why: str
) -> None:
    assert main(["treatment", "add", "botox", "--date", "2026-03-02", *BOTOX, "--patient", patient]) == 2
    err = capsys.readouterr().err
    assert err == f"spasm-monitor: patient {patient!r} is not a pseudonym ({why}" + err.partition(why)[2]
    assert err.count("\n") == 1
    assert not (home / "data" / "spool.sqlite").exists()


def test_a_local_time_the_clocks_skip_is_refused_with_the_nearest(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 29 March 2026, Berlin: 02:00 CET becomes 03:00 CEST; 02:30 never happens.
    assert main(["treatment", "add", "botox", "--date", "2026-03-29", "--time", "02:30", *BOTOX]) == 2
    assert capsys.readouterr().err == (
        "spasm-monitor: time: 2026-03-29 02:30 does not exist in Europe/Berlin (the clocks went forward"
        " from 02:00 to 03:00): the nearest valid time is 03:00\n"
    )
    assert main(["treatment", "add", "botox", "--date", "2026-03-29", "--time", "02:10", *BOTOX]) == 2
    assert "the nearest valid time is 01:59" in capsys.readouterr().err
    # The same in a file: its row is named.
    log = home / "log.csv"
    log.write_text("kind,date,time,pt_kind\npt,2026-03-28,10:00,gait\npt,2026-03-29,02:30,gait\n")
    assert main(["treatment", "import", str(log)]) == 2
    assert f"{log} row 3, column time: 2026-03-29 02:30 does not exist" in capsys.readouterr().err
    assert not (home / "data" / "spool.sqlite").exists()


def test_a_local_time_the_clocks_repeat_needs_its_offset(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 25 October 2026, Berlin: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    assert (
        main(["treatment", "add", "pt", "--date", "2026-10-25", "--time", "02:30", "--pt-kind", "gait"]) == 2
    )
    assert capsys.readouterr().err == (
        "spasm-monitor: time: 2026-10-25 02:30 happens twice in Europe/Berlin (the clocks went back):"
        " give 02:30+02:00 for the first (CEST) or 02:30+01:00 for the second (CET)\n"
    )
    for time in ("02:30+02:00", "02:30+01:00"):
        assert (
            main(["treatment", "add", "pt", "--date", "2026-10-25", "--time", time, "--pt-kind", "gait"]) == 0
        )
    assert [t for _, t, _ in _treatments(home)] == [utc_ns("2026-10-25T00:30"), utc_ns("2026-10-25T01:30")]
    capsys.readouterr()
    assert main(["treatment", "list"]) == 0
    listed = capsys.readouterr().out
    assert "2026-10-25 02:30+02:00" in listed
    assert "2026-10-25 02:30+01:00" in listed


def test_a_reimport_names_which_row_is_which_entry(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = home / "log.csv"
    log.write_text(
        "kind,date,time,muscles,side,dose_u,pt_kind\n"
        "botox,2026-03-02,10:30,soleus,left,200,\n"
        "pt,2026-03-05,,,,,stretching\n"
    )
    assert main(["treatment", "import", str(log)]) == 0
    assert "imported 2 treatment entries" in capsys.readouterr().out
    # The same file again: nothing new, and it says which rows are which stored entries.
    assert main(["treatment", "import", str(log)]) == 0
    out = capsys.readouterr().out
    assert "imported 0 treatment entries" in out
    assert "2 row(s) already stored, left as they are (row 2 = #1, 3 = #2)" in out
    # A row at the same time with other values: refused, naming the row and the entry.
    changed = home / "changed.csv"
    changed.write_text("kind,date,time,muscles,side,dose_u\nbotox,2026-03-02,10:30,soleus,left,250\n")
    assert main(["treatment", "import", str(changed)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spasm-monitor: {changed} row 2 collides with stored entry #1 (2026-03-02 10:30")
    assert "`treatment edit 1`" in err
    # Two rows of one file that are one point.
    twice = home / "twice.csv"
    twice.write_text("kind,date,pt_kind\npt,2026-04-01,gait\npt,2026-04-02,gait\npt,2026-04-01,gait\n")
    assert main(["treatment", "import", str(twice)]) == 2
    assert (
        f"{twice} row 4 duplicates {twice} row 2: the same pt entry at 2026-04-01" in capsys.readouterr().err
    )
    assert len(_treatments(home)) == 2  # all or nothing


def test_edit_and_remove_by_the_listed_id(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["treatment", "add", "botox", "--date", "2026-03-02", *BOTOX]) == 0
    assert main(["treatment", "add", "pt", "--date", "2026-03-05", "--pt-kind", "stretching"]) == 0
    capsys.readouterr()
    assert main(["treatment", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("#1    2026-03-02")
    # A dose typed wrong, and the time added: the entry is rewritten, the other untouched.
    assert (
        main(["treatment", "edit", "#1", "--dose-u", "150", "--time", "10:30", "--note", "right dose"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "was #1: 2026-03-02  p07      botox  200 U onabotulinumtoxinA left: gastrocnemius,soleus"
    assert out[1].startswith("now #3: 2026-03-02 10:30  p07      botox  150 U")
    assert out[1].endswith("(right dose)")
    with Spool(home / "data" / "spool.sqlite", read_only=True) as spool:
        (botox,) = [r for r in spool.query(0, 2**62, measurement="treatment") if r.tags["kind"] == "botox"]
    assert botox.time_ns == utc_ns("2026-03-02T09:30")
    assert botox.fields["dose_u"] == 150.0
    assert botox.fields["muscles"] == "gastrocnemius,soleus"
    # A field the kind does not have, an ID that is not there: one line each.
    assert main(["treatment", "edit", "2", "--dose-u", "100"]) == 2
    assert "a pt entry has no dose_u" in capsys.readouterr().err
    assert main(["treatment", "remove", "1"]) == 2
    assert "no treatment entry #1 in" in capsys.readouterr().err
    assert main(["treatment", "remove", "3"]) == 0
    assert capsys.readouterr().out.startswith("removed #3: 2026-03-02 10:30")
    assert [kind for kind, _, _ in _treatments(home)] == ["pt"]
    assert main(["treatment", "edit", "2", "--date", "2026-03-06"]) == 0
    assert [t for _, t, _ in _treatments(home)] == [utc_ns("2026-03-05T23:00")]
