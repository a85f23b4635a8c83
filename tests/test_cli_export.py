"""``spasm-monitor export``: tables that parse back to what the spool holds, and EDF+ that reads back."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from monitor.cli import main
from monitor.recording import RecordingWriter
from monitor.store import Spool
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

DAY1_NS = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()) * NS_PER_S
DAY_NS = 86_400 * NS_PER_S


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[patient]\nid = "p01"\ntimezone = "Europe/Berlin"\n'
        '[[device]]\naddress = "C4:7C:8D:6A:12:34"\nplacement = "calf"\nside = "left"\nmuscle = "soleus"\n'
        f'[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    )
    return config


def spool_records() -> list[Record]:
    """Two days of p01 (events, a score, ROM, a Botox entry) and one event of p02."""
    records = []
    for day in range(2):
        t = DAY1_NS + day * DAY_NS
        tags = {"patient": "p01", "side": "left", "device": "C4:7C:8D:6A:12:34", "kind": "tonic"}
        records += [
            Record("spasm_event", t, {"duration_s": 2.5, "peak_x_baseline": 7.25}, tags | {"channel": "0"}),
            Record(
                "spasm_event",
                t + NS_PER_S,
                {"duration_s": 1.0, "peak_x_baseline": 4.0},
                tags | {"channel": "1"},
            ),
            Record(
                "clinical_score",
                t,
                {"spasms": 1, "observed_s": 3600.0, "spasms_per_h": 1.0},
                {"patient": "p01", "period": "hour"},
            ),
            Record(
                "rom",
                t,
                {"min_deg": -2.5, "max_deg": 61.0, "range_deg": 63.5, "reps": 12},
                {"patient": "p01", "joint": "knee", "period": "window", "side": "left"},
            ),
        ]
    records.append(
        Record(
            "treatment",
            DAY1_NS - 30 * DAY_NS,
            {"dose_u": 100.0, "muscles": "soleus, gastrocnemius", "note": 'said "better", then left'},
            {"patient": "p01", "kind": "botox", "side": "left"},
        )
    )
    records.append(Record("spasm_event", DAY1_NS, {"duration_s": 9.0}, {"patient": "p02", "kind": "tonic"}))
    return records


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append(spool_records())
    return config


def test_csv_parses_back_to_the_spool_rows(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert main(["export", "--config", str(exported), "--out", str(out)]) == 0
    with (out / "events.csv").open(newline="") as handle:
        events = list(csv.DictReader(handle))
    assert [(int(r["time_ns"]), float(r["peak_x_baseline"]), r["channel"]) for r in events] == [
        (DAY1_NS, 7.25, "0"),
        (DAY1_NS + NS_PER_S, 4.0, "1"),
        (DAY1_NS + DAY_NS, 7.25, "0"),
        (DAY1_NS + DAY_NS + NS_PER_S, 4.0, "1"),
    ]
    assert {r["patient"] for r in events} == {"p01"}  # the configured patient only
    assert events[0]["time_utc"] == "2026-03-02T09:00:00.000000Z"
    with (out / "episodes.csv").open(newline="") as handle:
        episodes = list(csv.DictReader(handle))
    # Two channels of one leg, one second apart, are one spasm.
    assert [(int(r["time_ns"]), r["events"], float(r["duration_s"])) for r in episodes] == [
        (DAY1_NS, "2", 2.5),
        (DAY1_NS + DAY_NS, "2", 2.5),
    ]
    with (out / "treatment.csv").open(newline="") as handle:
        (botox,) = list(csv.DictReader(handle))
    assert botox["note"] == 'said "better", then left'  # a quote and a comma survive
    with (out / "rom.csv").open(newline="") as handle:
        rom = list(csv.DictReader(handle))
    assert [(float(r["range_deg"]), int(r["reps"])) for r in rom] == [(63.5, 12), (63.5, 12)]


def test_json_parses_back_and_the_period_is_local_days(exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    args = ["export", "--config", str(exported), "--format", "json", "--out", str(out)]
    assert main([*args, "--from", "2026-03-03", "--to", "2026-03-03"]) == 0
    document = json.loads(out.read_text())
    assert document["patient"] == "p01"
    tables = document["tables"]
    assert [r["time_ns"] for r in tables["events"]] == [DAY1_NS + DAY_NS, DAY1_NS + DAY_NS + NS_PER_S]
    assert tables["scores"] == [
        {
            "time_utc": "2026-03-03T09:00:00.000000Z",
            "time_ns": DAY1_NS + DAY_NS,
            "patient": "p01",
            "period": "hour",
            "spasms": 1,
            "observed_s": 3600.0,
            "spasms_per_h": 1.0,
        }
    ]
    assert len(tables["treatment"]) == 1  # the injection before the period explains it
    assert main([*args, "--patient", "all", "--tables", "events"]) == 0
    patients = {r["patient"] for r in json.loads(out.read_text())["tables"]["events"]}
    assert patients == {"p01", "p02"}


def test_a_bad_period_is_one_line(exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--config", str(exported), "--out", str(tmp_path / "x"), "--from", "2026-3-1"])
    assert code == 2
    assert (
        capsys.readouterr().err.strip()
        == "spasm-monitor: --from must be a date like 2026-03-01, got '2026-3-1'"
    )


def test_edf_reads_back_with_its_channels_rates_and_samples(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    t0_ns = DAY1_NS + 250_000_000  # not on a whole second: EDF starts at the second before
    emg = rng.normal(0.0, 0.4, (3000, 2))
    acc = rng.normal(0.0, 1.0, (156, 3))
    recording = tmp_path / "rec.sqlite"
    device = "C4:7C:8D:6A:12:34"
    with RecordingWriter(recording, {"patient": {"id": "p01"}}) as writer:
        # EMG at 1 kHz with a 0.5 s hole (a BLE gap) between 1.0 s and 1.5 s.
        for first in range(0, 3000, 500):
            if first == 1000:
                continue
            writer.append(
                Frame(
                    StreamId(device, "emg"),
                    SensorKind.EMG,
                    1000.0,
                    t0_ns + first * 1_000_000,
                    first,
                    first + 499,
                    emg[first : first + 500],
                )
            )
        writer.append(Frame(StreamId(device, "acc"), SensorKind.ACC, 52.0, t0_ns, 0, 155, acc))
    out = tmp_path / "rec.edf"
    assert main(["export", "--edf", str(recording), str(out)]) == 0

    with pyedflib.EdfReader(str(out)) as edf:
        assert edf.signals_in_file == 5
        labels = edf.getSignalLabels()
        assert labels == ["12:34 acc0", "12:34 acc1", "12:34 acc2", "12:34 emg0", "12:34 emg1"]
        assert [edf.getSampleFrequency(i) for i in range(5)] == [52.0] * 3 + [1000.0] * 2
        assert edf.getPhysicalDimension(3) == "mV"
        assert edf.getStartdatetime() == dt.datetime(2026, 3, 2, 9, 0, 0)
        assert edf.getPatientCode() == "p01"
        offset = 250  # samples of the quarter second before the first one
        for ch in range(2):
            signal = edf.readSignal(3 + ch)
            step = (edf.getPhysicalMaximum(3 + ch) - edf.getPhysicalMinimum(3 + ch)) / 65535
            kept = np.r_[0:1000, 1500:3000]
            assert np.max(np.abs(signal[offset + kept] - emg[kept, ch])) <= step
            assert np.all(np.abs(signal[offset + 1000 : offset + 1500]) <= step)  # the gap: zero
        acc_step = (edf.getPhysicalMaximum(0) - edf.getPhysicalMinimum(0)) / 65535
        assert np.max(np.abs(edf.readSignal(0)[13 : 13 + 156] - acc[:, 0])) <= acc_step
        onsets, durations, texts = edf.readAnnotations()
    gaps = [
        (round(o, 3), round(d, 3))
        for o, d, t in zip(onsets, durations, texts, strict=True)
        if t == "no data: 12:34 emg"
    ]
    assert (1.25, 0.5) in gaps  # the BLE gap, in the file's seconds


def test_edf_of_a_file_that_is_not_a_recording_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not sqlite")
    assert main(["export", "--edf", str(bogus), str(tmp_path / "x.edf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not a spasm-monitor recording" in err
