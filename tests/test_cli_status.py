"""``spasm-monitor status``: the carer's screen, read from a real spool another connection writes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

LEFT = "C4:7C:8D:6A:12:34"
RIGHT = "C4:7C:8D:6A:56:78"
MIN_NS = 60 * NS_PER_S


def noon_zone() -> str:
    """An Etc/GMT zone where it is now about noon, so "today" holds the last few hours."""
    utc_hour = time.gmtime().tm_hour
    offset_h = 12 - utc_hour  # local = UTC + offset; Etc/GMT-N is UTC+N
    return f"Etc/GMT{-offset_h:+d}" if offset_h else "UTC"


def write_config(tmp_path: Path, zone: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[patient]\nid = "p01"\ntimezone = "{zone}"\n'
        f'[[device]]\naddress = "{LEFT}"\nplacement = "calf"\nside = "left"\nmuscle = "gastrocnemius"\n'
        f'[[device]]\naddress = "{RIGHT}"\nplacement = "shank"\nside = "right"\n'
        f'[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    )
    return config


def fill(spool: Spool, now_ns: int) -> None:
    """Two hours of a left calf EMG that streams, and a right shank IMU that never connected."""
    t0 = now_ns - 2 * 3600 * NS_PER_S
    tags = {"patient": "p01", "device": LEFT, "location": "calf", "side": "left"}
    records = [
        Record("device_status", t0, {"connected": True, "state": "connected"}, tags),
        Record("device_status", t0 + 5 * MIN_NS, {"connected": True, "state": "connected"}, tags),
        Record("device_status", t0 + MIN_NS, {"battery_pct": 85}, tags),
        Record(
            "device_status",
            t0,
            {"connected": False, "state": "retrying", "cause": "no Bluetooth adapter"},
            {"patient": "p01", "device": RIGHT},
        ),
        Record("observation", t0, {"duration_s": 5400.0}, {"patient": "p01"}),
        Record("signal_quality", t0 + 30 * MIN_NS, {"duration_s": 120.0}, tags | {"issue": "electrode_off"}),
        Record(
            "alert",
            t0 + 40 * MIN_NS,
            {"message": "7 spasms in the last hour", "delivered": True},
            {"patient": "p01", "rule": "spasm_spike"},
        ),
        Record(
            "alert",
            t0 + 50 * MIN_NS,
            {"message": "right shank offline", "delivered": False},
            {"patient": "p01", "rule": "device_offline", "device": RIGHT},
        ),
    ]
    # Two muscles of one leg at once are one spasm; a later one is another: two episodes.
    for start_ns, channel in (
        (t0 + 10 * MIN_NS, "0"),
        (t0 + 10 * MIN_NS + NS_PER_S, "1"),
        (t0 + 20 * MIN_NS, "0"),
    ):
        records.append(
            Record(
                "spasm_event",
                start_ns,
                {"duration_s": 3.0, "peak_x_baseline": 6.0},
                tags | {"kind": "tonic", "channel": channel},
            )
        )
    records += [
        Record("coverage", t0 + i * MIN_NS, {"covered_s": 60.0}, tags | {"sensor": "emg"}) for i in range(118)
    ]
    spool.append(records)


def test_status_names_each_wearable_and_today_in_words_and_json_while_another_connection_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone = noon_zone()
    config = write_config(tmp_path, zone)
    spool_path = tmp_path / "spool.sqlite"
    with Spool(spool_path) as spool:
        fill(spool, time.time_ns())
    # `run` holds the write lock mid-transaction (WAL): the reader must neither wait nor fail.
    writer = sqlite3.connect(spool_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO points (measurement, patient, time_ns, droppable, series, fields) VALUES (?,?,?,?,?,?)",
        ("gap", "p01", time.time_ns(), 0, "gap,patient=p01", "duration_s=1"),
    )
    try:
        assert main(["status", "--config", str(config)]) == 0
        words = capsys.readouterr().out
        assert main(["status", "--config", str(config), "--json"]) == 0
        facts = json.loads(capsys.readouterr().out)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert f"left calf EMG ({LEFT}): connected since" in words
    assert "(for 2.0 h)" in words  # since the first "connected", not the latest repeat
    assert "battery 85%" in words
    assert "signal problems today: electrode off 2 min" in words
    assert f"right shank motion ({RIGHT}): not connected, retrying since" in words
    assert "no Bluetooth adapter" in words
    assert "worn 1.5 h" in words
    assert "spasms: 2" in words
    assert "the data stays on this gateway" in words
    assert "7 spasms in the last hour (delivered)" in words
    assert "right shank offline (NOT delivered)" in words

    left, right = facts["wearables"]
    assert (left["name"], left["state"], left["battery_pct"]) == ("left calf EMG", "connected", 85)
    assert left["signal_issues_s"] == {"electrode_off": 120.0}
    assert (right["name"], right["state"], right["last_data_ns"]) == ("right shank motion", "retrying", None)
    assert facts["worn_today_h"] == 1.5
    assert facts["spasms_today"] == 2
    assert facts["spasms_today_by_side"] == {"left": 2}
    assert facts["forwarding"]["configured"] is False
    assert [a["delivered"] for a in facts["alerts"]] == [True, False]


def test_status_says_when_a_connected_wearable_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, noon_zone())
    now_ns = time.time_ns()
    with Spool(tmp_path / "spool.sqlite") as spool:
        tags = {"patient": "p01", "device": LEFT}
        spool.append(
            [
                Record(
                    "device_status", now_ns - 3600 * NS_PER_S, {"connected": True, "state": "connected"}, tags
                ),
                Record("coverage", now_ns - 3000 * NS_PER_S, {"covered_s": 60.0}, tags | {"sensor": "emg"}),
            ]
        )
    assert main(["status", "--config", str(config)]) == 0
    assert "NOTHING ARRIVING" in capsys.readouterr().out


def test_status_of_a_missing_spool_is_one_line_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "UTC")
    assert main(["status", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not found" in err
    assert not (tmp_path / "spool.sqlite").exists()


def test_status_tells_when_sending_to_the_server_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, noon_zone())
    with config.open("a") as handle:  # a server the screen names but never contacts
        handle.write('[store.influx]\nversion = "1"\nurl = "http://127.0.0.1:9"\n')
    with Spool(tmp_path / "spool.sqlite") as spool:
        fill(spool, time.time_ns())
        spool.mark_sent(1, 10)
        spool.note_forward_error("InfluxDB at http://127.0.0.1:9 unreachable")
    assert main(["status", "--config", str(config), "--json"]) == 0
    forwarding = json.loads(capsys.readouterr().out)["forwarding"]
    assert forwarding["configured"] is True
    assert forwarding["queued_points"] == 129 - 10
    assert (
        "; 119 points waiting; FAILING since then: InfluxDB at http://127.0.0.1:9 unreachable"
        in forwarding["words"]
    )
