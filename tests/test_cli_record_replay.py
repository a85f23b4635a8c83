"""Recording files, ``spasm-monitor record`` and ``spasm-monitor replay``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from emulators.process import start_emulated, wearable_address
from monitor.cli import main
from monitor.errors import StoreError
from monitor.recording import RecordingReader, RecordingWriter
from monitor.store import Spool
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

T0_NS = 1_764_000_000 * NS_PER_S
ROOT = Path(__file__).resolve().parents[1]


def _items(n_frames: int = 40, seed: int = 0) -> list[Frame | Record]:
    rng = np.random.default_rng(seed)
    items: list[Frame | Record] = []
    for i in range(n_frames):
        emg = rng.normal(0, 0.05, (20, 2))  # float64: stored as float32
        items.append(Frame(StreamId("F1:00:00:00:00:01", "emg"), SensorKind.EMG, 1000.0,
                           T0_NS + i * 20_000_000, i, i, emg))  # fmt: skip
        if i % 10 == 0:
            acc = rng.normal(0, 1, (2, 3)).astype(np.float32)
            items.append(Frame(StreamId("F1:00:00:00:00:01", "acc"), SensorKind.ACC, 100.0,
                               T0_NS + i * 20_000_000 - 5_000_000, i, i + 1, acc))  # fmt: skip
        if i % 15 == 0:
            items.append(Record("ble_gap", T0_NS + i * 20_000_000,
                                {"samples": 12, "duration_s": 0.012, "ok": True, "note": "x"},
                                {"device": "F1:00:00:00:00:01", "stream": "emg"}))  # fmt: skip
    return items


def _assert_same(got: list[Frame | Record], expected: list[Frame | Record]) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert type(a) is type(b)
        if isinstance(a, Frame) and isinstance(b, Frame):
            assert (a.stream, a.kind, a.sample_rate_hz, a.t0_ns, a.seq_first, a.seq_last) == (
                b.stream, b.kind, b.sample_rate_hz, b.t0_ns, b.seq_first, b.seq_last,
            )  # fmt: skip
            assert a.samples.dtype == np.float32
            assert a.samples.tobytes() == b.samples.astype(np.float32).tobytes()
        else:
            assert a == b


def test_recording_round_trip_is_exact_in_arrival_order(tmp_path: Path) -> None:
    items = _items()
    path = tmp_path / "r.sqlite"
    with RecordingWriter(path, {"patient": {"id": "p01"}}, "9.9", batch_items=7) as writer:
        for item in items:
            writer.append(item)
    with RecordingReader(path) as reader:
        _assert_same(list(reader), items)
        assert reader.meta["app_version"] == "9.9"
        assert reader.config == {"patient": {"id": "p01"}}
        summary = reader.summary()
    assert summary.n_frames == sum(isinstance(i, Frame) for i in items)
    assert summary.n_records == 3
    assert summary.first_ns == min(i.t0_ns if isinstance(i, Frame) else i.time_ns for i in items)


def test_recording_reads_by_time_and_by_range(tmp_path: Path) -> None:
    items = _items()
    path = tmp_path / "r.sqlite"
    with RecordingWriter(path) as writer:
        for item in items:
            writer.append(item)

    def t(i: Frame | Record) -> int:
        return i.t0_ns if isinstance(i, Frame) else i.time_ns

    with RecordingReader(path) as reader:
        by_time = list(reader.items(by_time=True))
        assert [t(i) for i in by_time] == sorted(t(i) for i in items)
        start, stop = T0_NS + 100_000_000, T0_NS + 300_000_000
        in_range = list(reader.items(start, stop))
        _assert_same(in_range, [i for i in items if start <= t(i) < stop])


def test_an_existing_file_is_never_overwritten_and_other_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    path.write_text("time,emg\n")
    with pytest.raises(StoreError, match="already exists"):
        RecordingWriter(path)
    with pytest.raises(StoreError, match="not a spasm-monitor recording"):
        RecordingReader(path)
    with pytest.raises(StoreError, match="no such recording"):
        RecordingReader(tmp_path / "missing.sqlite")


def test_committed_rows_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    script = textwrap.dedent(f"""
        import numpy as np, sys, time
        from monitor.recording import RecordingWriter
        from monitor.types import Frame, SensorKind, StreamId
        writer = RecordingWriter({str(path)!r}, batch_items=10, batch_s=3600)
        for i in range(25):
            writer.append(Frame(StreamId("d", "emg"), SensorKind.EMG, 1000.0, i, i, i, np.full((5, 1), i)))
        print("written", flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                               cwd=ROOT)  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "written"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    with RecordingReader(path) as reader:
        frames = [f for f in reader if isinstance(f, Frame)]
    assert [int(f.samples[0, 0]) for f in frames] == list(range(20))  # two committed batches


# -- record from an emulated wearable, then replay ------------------------------------------


def _wait_for_frames(path: Path, process: subprocess.Popen[str], n_frames: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"record exited early: {process.communicate()[1]}")
        if path.exists():
            with contextlib.suppress(StoreError, sqlite3.Error), RecordingReader(path) as reader:
                if reader.summary().n_frames >= n_frames:
                    return
        time.sleep(0.2)
    raise TimeoutError(f"fewer than {n_frames} frames recorded within {timeout_s} s")


def test_record_an_emulated_wearable_until_sigterm_then_replay_into_a_spool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulated = start_emulated(1, tmp_path)
    try:
        config = tmp_path / "config.toml"
        config.write_text(
            textwrap.dedent(f"""
            [patient]
            id = "p07"
            [ble]
            backend = "bumble"
            transport = "{emulated.collector_transport}"
            scan_timeout_s = 5.0
            [[device]]
            profile = "reference"
            address = "{wearable_address(1)}"
            placement = "calf"
            side = "left"
            muscle = "gastrocnemius"
            [store.influx]
            url = "http://127.0.0.1:9"
            org = "home"
            bucket = "spasms"
            token_env = "NOT_KEPT_IN_RECORDINGS"
        """)
        )
        path = tmp_path / "home.sqlite"
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "record", str(path), "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        try:
            _wait_for_frames(path, process, 100, timeout_s=40)  # ~1 s of 1 kHz EMG
            # An EMG gap the collector records (without "stream" the skip may land on the IMU's packets)
            emulated.wearables[0].send({"fault": "seq_jump", "packets": 5, "stream": "emg"})
            _wait_for_frames(path, process, 300, timeout_s=20)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, err
        assert "recorded" in out
        assert "Traceback" not in err
    finally:
        emulated.stop()

    with RecordingReader(path) as reader:
        assert reader.config["device"][0]["muscle"] == "gastrocnemius"
        assert "store" not in reader.config  # secrets' names never travel with the data
        summary = reader.summary()
        sensors = {(device, sensor) for device, sensor, *_ in summary.streams}
        records = [i for i in reader if isinstance(i, Record)]
    assert (wearable_address(1), "emg") in sensors
    assert (wearable_address(1), "gyr") in sensors
    assert any(r.measurement == "ble_gap" for r in records)
    assert records[-1].measurement == "collector_stopped"

    spool_path = tmp_path / "spool.sqlite"
    assert main(["replay", str(path), "--spool", str(spool_path)]) == 0
    out = capsys.readouterr().out
    assert f"into {spool_path}" in out
    stored = Spool(spool_path).query(0, 2**62)
    by_measurement = Counter(r.measurement for r in stored)
    assert by_measurement["gap"] >= 1  # the collector's ble_gap, in the schema's vocabulary
    gap = next(r for r in stored if r.measurement == "gap")
    assert gap.tags["sensor"] == "emg"
    assert int(gap.fields["missing_samples"]) > 0
    assert by_measurement["emg_envelope"] >= 1
    assert by_measurement["observation"] >= 1
    assert all(r.tags["patient"] == "p07" for r in stored)
    # The pipeline's EMG spasms are the offline analysis' (same detector, same frames).
    assert main(["analyze", str(path), "--format", "json"]) == 0
    analysed = json.loads(capsys.readouterr().out)
    emg_events = [e for e in analysed["events"] if e["source"] == "emg"]
    assert by_measurement["spasm_event"] >= len(emg_events)
    spool_emg = [r for r in stored if r.measurement == "spasm_event" and "peak_mv" in r.fields]
    assert len(spool_emg) == len(emg_events)
    # Replayed again into the same spool (a carer re-running it): nothing is counted twice.
    assert main(["replay", str(path), "--spool", str(spool_path)]) == 0
    again = Counter(r.measurement for r in Spool(spool_path).query(0, 2**62))
    for kept in ("gap", "observation", "coverage", "device_status"):
        assert again[kept] == by_measurement[kept] > 0, kept
    assert again["spasm_event"] == by_measurement["spasm_event"]


def test_record_refuses_a_config_without_wearables_and_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[patient]\nid = "p01"\n')
    path = tmp_path / "r.sqlite"
    assert main(["record", str(path), "--config", str(config), "--duration-s", "1"]) == 2
    assert "no [[device]] configured" in capsys.readouterr().err
    assert not path.exists()  # nothing is created before the configuration is known good
    path.write_bytes(b"")
    config.write_text(
        '[patient]\nid = "p01"\n[[device]]\naddress = "F1:00:00:00:00:01"\nplacement = "calf"\n'
    )
    assert main(["record", "--out", str(path), "--config", str(config)]) == 2
    assert "already exists" in capsys.readouterr().err
