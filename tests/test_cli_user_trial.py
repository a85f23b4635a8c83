"""What a new user met in a trial (issue 15): each command's one line, exit code and number."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from monitor.analysis import Analysis
from monitor.cli import main
from monitor.store import Spool
from monitor.store.schema import spasm_event_record
from monitor.synth import EmgScenario, generate_emg
from monitor.types import NS_PER_S, Record, SpasmEvent

DAY_NS = 86_400 * NS_PER_S
RATE_HZ = 1000.0


def _csv(path: Path, emg_mv: np.ndarray, empty_for_nan: bool = False) -> Path:
    """Two columns, time in s then one EMG channel; NaN written as an empty cell if asked."""
    cells = ["" if empty_for_nan and np.isnan(v) else repr(float(v)) for v in emg_mv]
    rows = [f"{i / RATE_HZ:.3f},{cell}" for i, cell in enumerate(cells)]
    path.write_text("time,emg\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def emg_mv() -> np.ndarray:
    """Two minutes of one synthetic EMG channel with spasms, mV."""
    rec = generate_emg(EmgScenario(duration_s=120, seed=2))
    assert rec.sample_rate_hz == RATE_HZ
    return np.asarray(rec.emg_mv[:, 0], dtype=np.float64)


@pytest.mark.parametrize("empty_for_nan", [False, True])
def test_nan_or_empty_minute_is_not_observed_time(
    emg_mv: np.ndarray,
    empty_for_nan: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml: the CSV alone
    gapped = emg_mv.copy()
    gapped[int(30 * RATE_HZ) : int(90 * RATE_HZ)] = np.nan
    path = _csv(tmp_path / "gap.csv", gapped, empty_for_nan)
    assert main(["analyze", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "60000 non-finite samples (empty cells, NaN or infinite), read as gaps" in err
    summary = json.loads(out)["summary"]
    assert summary["observed_h"] * 60 == pytest.approx(1.0, abs=0.01)  # not the 2 min span
    assert summary["per_hour"] == pytest.approx(summary["spasms"] / summary["observed_h"], rel=1e-2)


def test_every_other_sample_nan_is_no_data_not_zero_spasms(
    emg_mv: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sparse = emg_mv.copy()
    sparse[::2] = np.nan
    assert main(["analyze", str(_csv(tmp_path / "sparse.csv", sparse))]) == 0
    out = capsys.readouterr().out
    assert "0.0 min observed" in out
    assert "spasms: no data" in out
    assert "0 spasms" not in out
    assert "Penn frequency: 0" not in out


def test_an_inf_sample_is_reported_as_non_finite(
    emg_mv: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    one_inf = emg_mv.copy()
    one_inf[1000] = np.inf
    assert main(["analyze", str(_csv(tmp_path / "inf.csv", one_inf))]) == 0
    err = capsys.readouterr().err
    assert "1 non-finite samples (empty cells, NaN or infinite)" in err
    assert "NaN samples" not in err


def test_spasm_total_and_kinds_count_the_same_episodes() -> None:
    # One clonus seen on two channels of one leg, then a myoclonic jerk: 2 spasms, 3 events.
    s = NS_PER_S
    tags = {"patient": "p01", "side": "left", "sensor": "emg"}
    events = [
        SpasmEvent(10 * s, 14 * s, "clonus", 0, side="left", patient="p01"),
        SpasmEvent(10 * s, 13 * s, "clonus", 1, side="left", patient="p01"),
        SpasmEvent(40 * s, 40 * s + s // 10, "myoclonic", 0, side="left", patient="p01"),
    ]
    records = [spasm_event_record(e, {**tags, "channel": str(e.channel)}) for e in events]
    summary = Analysis(events, 0, 60 * s, 60.0, records).summary()
    assert (summary["events"], summary["spasms"]) == (3, 2)
    assert sum(summary["by_kind"].values()) == summary["spasms"]
    assert (summary["by_kind"]["clonus"], summary["by_kind"]["myoclonic"]) == (1, 1)


def test_store_status_gives_the_age_of_the_oldest_point_not_the_first_appended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now_ns = time.time_ns()
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:  # a backlog appended after newer points, as a replay does
        spool.append([Record("gap", now_ns - 28 * DAY_NS, {"duration_s": 1.0}, {"patient": "p01"})])
        spool.append([Record("gap", now_ns - 42 * DAY_NS, {"duration_s": 1.0}, {"patient": "p01"})])
    assert main(["store", "status", "--spool", str(path)]) == 0
    assert "oldest unsent point: 42.0 days old" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [["report", "--out", "r.html"], ["store", "status"], ["status"], ["export", "--out", "-"]],
)
@pytest.mark.parametrize("content", [b"not a database at all, a text file\n" * 200, b"SQLite format 3\x00"])
def test_a_damaged_spool_is_named_as_such_in_one_line(
    command: list[str],
    content: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.toml").write_text('[patient]\nid = "p01"\ntimezone = "UTC"\n', encoding="utf-8")
    Path("spool.sqlite").write_bytes(content + bytes(5000))
    assert main([*command, "--spool", "spool.sqlite"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "is not a spasm-monitor spool or it is damaged" in err
    assert "spool.sqlite-wal" in err
    assert "database URL and token" not in err


def test_treatment_list_before_any_spool_exists_says_no_entries_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.toml").write_text('[patient]\nid = "p01"\ntimezone = "Europe/Berlin"\n', encoding="utf-8")
    assert main(["treatment", "list"]) == 0
    assert capsys.readouterr().out.startswith("no treatment entries yet")
    assert not list(tmp_path.glob("*.sqlite"))  # listing creates nothing


def test_argument_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["treatment", "add", "pt", "--date", "2026-03-02"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    required = "the following arguments are required: --pt-kind"
    assert err == f"spasm-monitor treatment add pt: error: {required} (see --help)\n"


def test_help_describes_the_program_for_its_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "Watch for muscle spasms" in out
    assert "wires the parts" not in out


@pytest.mark.parametrize(
    ("content", "words", "advice"),
    [
        (b"a = \n", "not valid TOML", "fix the syntax at that line"),
        (b"\xd4\xff\x00binary", "config.toml: not a text file", "UTF-8 text"),
        (
            b'[patient]\nid = "p01"\nbogus = 3\n',
            "unknown key patient.bogus",
            "run `spasm-monitor config check` again",
        ),
    ],
)
def test_config_check_errors_name_the_file_and_fitting_advice(
    content: bytes,
    words: str,
    advice: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.toml").write_bytes(content)
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert words in err
    assert advice in err
    assert "validates it" not in err  # that advice is for the other commands, not config check itself


def test_export_of_a_patient_the_spool_does_not_hold_names_those_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("config.toml").write_text('[patient]\nid = "p01"\ntimezone = "UTC"\n', encoding="utf-8")
    with Spool(tmp_path / "other.sqlite") as spool:
        spool.append([Record("gap", NS_PER_S, {"duration_s": 1.0}, {"patient": "p02"})])
    assert main(["export", "--spool", "other.sqlite", "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "holds no data of patient 'p01'; it holds 'p02'" in err
    assert main(["export", "--spool", "other.sqlite", "--out", "-", "--patient", "p02"]) == 0
