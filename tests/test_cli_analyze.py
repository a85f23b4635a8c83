"""``spasm-monitor analyze`` on CSV files and recordings, as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monitor.analysis import analyze_recording
from monitor.cli import main
from monitor.config import load_config
from monitor.dsp import detect_movement_spasms, detect_spasms
from monitor.emg_csv import read_emg_csv
from monitor.recording import RecordingReader, RecordingWriter
from monitor.synth import EmgScenario, SyntheticEmg, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S, Frame, SensorKind, StreamId

T0_NS = 1_764_000_000 * NS_PER_S


@pytest.fixture(scope="module")
def synthetic() -> SyntheticEmg:
    scenario = EmgScenario(duration_s=90.0, channels=2, seed=5, spasms_per_min=4.0, sample_rate_hz=1000.0)
    return generate_emg(scenario.clean(), t0_ns=T0_NS)


def _write_csv(path: Path, rec: SyntheticEmg, time: str = "relative", header: bool = True) -> None:
    n, channels = rec.emg_mv.shape
    seconds = np.arange(n) / rec.sample_rate_hz
    columns = [np.char.mod("%.6g", rec.emg_mv[:, c]) for c in range(channels)]
    if time == "iso":
        ns = T0_NS + np.round(seconds * NS_PER_S).astype(np.int64)
        columns.insert(0, np.char.add(np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ms"), "Z"))
    elif time == "relative":
        columns.insert(0, np.char.mod("%.3f", seconds))
    lines = [",".join(row) for row in zip(*columns, strict=True)]
    if header:
        lines.insert(0, ",".join(["time"] + [f"ch{c}" for c in range(channels)]))
    path.write_text("\n".join(lines) + "\n")


def write_config(folder: Path, device: str, muscle: str | None = None) -> Path:
    """A ``config.toml`` in ``folder`` naming the wearable ``device`` (its ``label``).

    EMG is analysed only where a muscle is named, as in a live run.
    """
    path = folder / "config.toml"
    lines = ['[patient]', 'id = "p01"', '[[device]]', f'label = "{device}"',
             'address = "F3:00:00:00:00:01"', 'placement = "calf"']  # fmt: skip
    if muscle is not None:
        lines.append(f'muscle = "{muscle}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["analyze", *argv])
    return code, capsys.readouterr().out


def test_csv_events_match_the_detector_in_every_format(
    synthetic: SyntheticEmg,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml here: the detector's defaults
    path = tmp_path / "emg.csv"
    _write_csv(path, synthetic)
    read = read_emg_csv(path)
    expected = detect_spasms(read.emg_mv, read.sample_rate_hz, read.t0_ns)
    assert len(expected) >= 4
    assert read.sample_rate_hz == pytest.approx(1000.0)

    code, out = _run(capsys, str(path), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["schema"] == "spasm-monitor/analyze/1"
    assert document["summary"]["events"] == len(expected)
    assert [e["onset_s"] for e in document["events"]] == [round(e.onset_ns / NS_PER_S, 3) for e in expected]
    # The kinds break down the spasms (episodes), as the total counts them, not the events.
    assert sum(document["summary"]["by_kind"].values()) == document["summary"]["spasms"]
    assert document["summary"]["observed_h"] == pytest.approx(90 / 3600, abs=1e-3)
    assert document["summary"]["penn_frequency"] is None  # 1.5 min: no per-hour score (clinical.enough)

    code, out = _run(capsys, str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(expected)
    assert [r["kind"] for r in rows] == [e.kind for e in expected]
    assert float(rows[0]["duration_s"]) == pytest.approx(expected[0].duration_s, abs=1e-3)

    code, out = _run(capsys, str(path))
    assert code == 0
    assert f"({len(expected)} detector events" in out
    assert "Penn frequency: n/a" in out  # 1.5 min observed: no per-hour score
    assert len([line for line in out.splitlines() if line.startswith("1970-")]) == len(expected)


def test_iso_times_and_rate_without_time_column_give_the_same_events(
    synthetic: SyntheticEmg, tmp_path: Path
) -> None:
    short = SyntheticEmg(synthetic.emg_mv[:20_000], synthetic.sample_rate_hz, T0_NS, [])
    _write_csv(tmp_path / "iso.csv", short, time="iso")
    _write_csv(tmp_path / "bare.csv", short, time="none", header=False)
    iso = read_emg_csv(tmp_path / "iso.csv")
    bare = read_emg_csv(tmp_path / "bare.csv", rate_hz=1000.0)
    assert iso.t0_ns == T0_NS
    assert iso.absolute_time
    assert iso.sample_rate_hz == pytest.approx(1000.0)
    assert np.array_equal(iso.emg_mv, bare.emg_mv)
    events_iso = detect_spasms(iso.emg_mv, iso.sample_rate_hz, 0)
    events_bare = detect_spasms(bare.emg_mv, bare.sample_rate_hz, 0)
    assert [(e.onset_ns, e.kind) for e in events_iso] == [(e.onset_ns, e.kind) for e in events_bare]


BAD_CSVS = {
    "not a number": ("time,ch0\n0.000,0.1\n0.001,abc\n", [], "row 3, column 'ch0': 'abc' is not a number"),
    "ragged": ("time,a,b\n0.000,0.1,0.2\n0.001,0.1\n", [], "row 3 has 2 columns, expected 3"),
    "backwards": ("time,ch0\n0.000,0\n0.001,0\n0.000,0\n0.003,0\n", [], "row 4: time does not increase"),
    "gap": ("0.000,0\n0.001,0\n0.002,0\n0.010,0\n0.011,0\n", [], "row 4: time jumps by 0.008 s"),
    "naive iso": (
        "time,ch0\n2026-11-25T10:00:00.000,0\n2026-11-25T10:00:00.001,0\n",
        [],
        "has no UTC offset",
    ),
    "bad time": ("time,ch0\n0.000,0\nsoon,0\n", [], "row 3, column 'time': 'soon' is not a time"),
    "no rate": ("x,y\n0.1,0.2\n0.3,0.4\n", [], "no time column (give the sample rate with --rate-hz)"),
    "empty": ("", [], "empty file"),
    "header only": ("time,ch0\n", [], "no data rows"),
    "only time": ("time\n0.0\n0.001\n", [], "no EMG column"),
    "rate disagrees": ("time,ch0\n0.000,0\n0.001,0\n0.002,0\n", ["--rate-hz", "500"], "disagrees"),
    "rate too low": ("0.0,0\n0.1,0\n0.2,0\n", [], "sample_rate_hz must be"),
}


@pytest.mark.parametrize("name", sorted(BAD_CSVS))
def test_malformed_csv_is_a_one_line_error_naming_the_problem(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text, options, message = BAD_CSVS[name]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code = main(["analyze", str(path), *options])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0


def test_a_missing_file_exits_2_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "analyze", str(tmp_path / "none.csv")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no such file" in result.stderr


def test_a_recording_is_analysed_like_its_samples(
    synthetic: SyntheticEmg,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, "dev", muscle="soleus")  # found as ./config.toml
    path = tmp_path / "r.sqlite"
    emg = synthetic.emg_mv.astype(np.float32)
    step = 37  # frames of an odd length: the detector's chunking must not matter
    with RecordingWriter(path) as writer:
        for start in range(0, emg.shape[0], step):
            t0 = T0_NS + round(start * NS_PER_S / 1000.0)
            chunk = emg[start : start + step]
            writer.append(Frame(StreamId("dev", "emg"), SensorKind.EMG, 1000.0, t0, start,
                                start + chunk.shape[0] - 1, chunk))  # fmt: skip
    expected = detect_spasms(emg, 1000.0, T0_NS)
    code, out = _run(capsys, str(path), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["start"].startswith("2025-11-24T")
    assert [e["channel"] for e in document["events"]] == [e.channel for e in expected]
    onsets = [round((e.onset_ns - T0_NS) / NS_PER_S, 3) for e in expected]
    assert [e["onset_s"] for e in document["events"]] == onsets
    assert all(e["device"] == "dev" and e["source"] == "emg" for e in document["events"])


def test_gyroscope_frames_of_a_recording_give_the_movement_spasms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, "shank")  # an IMU wearable: no muscle
    motion = generate_motion("knee", duration_s=120, n_spasms=3, seed=4)
    expected = detect_movement_spasms(motion.acc_dist_g, motion.gyr_dist_dps, 100.0, motion.t0_ns)
    assert len(expected) == len(motion.spasms) == 3
    path = tmp_path / "imu.sqlite"
    step = 10  # 100 ms of a 100 Hz IMU per notification
    with RecordingWriter(path) as writer:
        for packet, start in enumerate(range(0, motion.n_samples, step)):
            t0 = motion.t0_ns + round(start * NS_PER_S / 100.0)
            for sensor, kind, values in (("acc", SensorKind.ACC, motion.acc_dist_g),
                                         ("gyr", SensorKind.GYR, motion.gyr_dist_dps)):  # fmt: skip
                # One sequence number per notification, as the collector numbers them.
                writer.append(Frame(StreamId("shank", sensor), kind, 100.0, t0, packet, packet,
                                    values[start : start + step]))  # fmt: skip
    assert main(["analyze", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["by_source"] == {"emg": 0, "imu": 3}
    assert [e["onset"] for e in document["events"]] == [_iso_ms(e.onset_ns) for e in expected]
    assert all(e["kind"] == "movement" and e["imu_peak_dps"] > 100 for e in document["events"])
    # Each event is one of the generator's true jerks, found within 50 ms of its onset.
    onsets_ns = [np.datetime64(e["onset"].rstrip("Z"), "ns").astype(np.int64) for e in document["events"]]
    for found_ns, true in zip(onsets_ns, motion.spasms, strict=True):
        assert abs(int(found_ns) - true.onset_ns) <= 50_000_000


def _iso_ms(time_ns: int) -> str:
    ms = round(time_ns / 1_000_000)
    return np.datetime_as_string(np.datetime64(ms, "ms"), unit="ms") + "Z"


def test_a_gap_in_a_gyroscope_stream_restarts_its_detector(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "shank"))
    motion = generate_motion("knee", duration_s=120, n_spasms=3, seed=4)
    split, gap_ns = 6000, 30 * NS_PER_S  # 60 s in, the wearable was away for 30 s
    halves = [(0, motion.t0_ns), (split, motion.t0_ns + round(split * NS_PER_S / 100.0) + gap_ns)]
    path = tmp_path / "gap.sqlite"
    expected = []
    with RecordingWriter(path) as writer:
        for (start, t0), stop in zip(halves, [split, motion.n_samples], strict=True):
            gyr = motion.gyr_dist_dps[start:stop]
            expected += detect_movement_spasms(motion.acc_dist_g[start:stop], gyr, 100.0, t0)
            for i in range(0, gyr.shape[0], 10):
                seq = (start + i) // 10 + (1 if start else 0)  # a notification lost in the gap
                writer.append(Frame(StreamId("shank", "gyr"), SensorKind.GYR, 100.0,
                                    t0 + round(i * NS_PER_S / 100.0), seq, seq, gyr[i : i + 10]))  # fmt: skip
    assert any(e.onset_ns > halves[1][1] for e in expected)  # a spasm after the gap, timed by it
    with RecordingReader(path) as reader:
        analysis = analyze_recording(reader, config)
    assert [(e.onset_ns, e.offset_ns) for e in analysis.events] == [
        (e.onset_ns, e.offset_ns) for e in expected
    ]
    assert analysis.observed_s == pytest.approx(120.0)
