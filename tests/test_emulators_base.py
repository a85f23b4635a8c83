"""The emulated-wearable base: one control channel, one set of packet faults, one stats file.

Every profile's emulator runs as its own process on the hub, as the collector tests run them;
each is sent the orders every emulator shares over its stdin and must acknowledge them, refuse
what it does not know with a one-line error, and keep serving. Its stats file then carries
the truth every emulator reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from emulators.base import NotifiedCounts, PacketFaults
from emulators.myo import MyoStreamStats
from emulators.process import read_line, spawn, start_emulated, start_extra_wearable

# module -> (address, extra options, the order that skips packets, its count key, has a battery)
EMULATORS = {
    "emulators.reference": ("F4:00:00:00:00:01", ["--name", "SMREF-44"], "seq_jump", "packets", True),
    "emulators.polar": ("F4:00:00:00:00:02", ["--model", "sense"], "seq_jump", "packets", True),
    "emulators.myo": ("F4:00:00:00:00:03", [], "skip", "notifications", True),
    "emulators.ganglion": ("F4:00:00:00:00:04", [], "seq_jump", "packets", False),
}
DRIFT_PPM = 25.0


def test_every_emulator_obeys_the_common_orders_and_refuses_unknown_ones(tmp_path: Path) -> None:
    emulated = start_emulated(0, tmp_path, extra_hosts=len(EMULATORS))
    try:
        for port, (module, (address, options, skip, count_key, battery)) in enumerate(
            EMULATORS.items(), start=1
        ):
            stats_path = tmp_path / f"{port}.json"
            argv = ["--address", address, "--drift-ppm", str(DRIFT_PPM), "--stats", str(stats_path)]
            wearable = start_extra_wearable(emulated, port, [*argv, *options], module)
            for order in (
                {"fault": "short", "count": 2},
                {"fault": "corrupt"},
                {"fault": skip, count_key: 3},
                {"cmd": "calm"},
                {"cmd": "stats"},  # written before the acknowledgement
            ):
                wearable.send(order)
            truth = json.loads(stats_path.read_text())["truth"]
            assert truth["address"].startswith(address), module
            assert truth["drift_ppm"] == DRIFT_PPM, module
            for refused in ({"fault": "overheat"}, {"fault": "short", "stream": "nowhere"}):
                with pytest.raises(ValueError, match="refused"):
                    wearable.send(refused)
            if battery:
                wearable.send({"fault": "battery", "percent": 8})
            else:
                with pytest.raises(ValueError, match="refused"):
                    wearable.send({"fault": "battery", "percent": 8})
            wearable.send({"cmd": "stats"})  # still serving after the refusals
            assert wearable.process.poll() is None, module
    finally:
        emulated.stop()


def test_a_packet_fault_takes_its_own_stream_first_then_any_stream() -> None:
    faults = PacketFaults(("emg", "imu"))
    faults.add("skip", "imu", 1)
    faults.add("skip", "any", 1)
    assert faults.take("skip", "emg")  # the "any" one
    assert not faults.take("skip", "emg")
    assert faults.take("skip", "imu")
    assert not faults.take("skip", "imu")
    assert not faults.take("short", "emg")


def test_a_packet_fault_for_a_stream_the_wearable_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="'ecg'"):
        PacketFaults(("emg", "imu")).add("skip", "ecg", 1)


def test_notified_counts_span_the_counters_of_the_valid_packets() -> None:
    counts = NotifiedCounts()
    counts.count(100, 25)
    counts.count(150, 25)  # 25 samples lost between them: spanned, not notified
    assert (counts.first_counter, counts.end_counter) == (100, 175)
    assert (counts.notified_packets, counts.notified_samples) == (2, 50)


def test_the_myo_stats_count_notifications_as_the_armband_sends_them() -> None:
    assert set(MyoStreamStats(rate_hz=200.0).as_json()) == {
        "produced_notifications",
        "notified_notifications",
        "notified_samples",
        "first_counter",
        "end_counter",
        "malformed_sent",
        "skipped_notifications",
        "rate_hz",
        "segments",
    }


def test_read_line_gives_every_line_a_child_prints_at_once() -> None:
    """Two lines in one write land in the reader's buffer together; the second must not wait."""
    child = spawn(
        "printer", [sys.executable, "-c", "print('ready\\nok', flush=True); import time; time.sleep(30)"]
    )
    try:
        assert read_line(child, 10.0) == "ready"
        assert read_line(child, 1.0, expect="ok") == "ok"
    finally:
        child.stop()
    with pytest.raises(RuntimeError, match="exited"):
        read_line(child, 5.0)
