"""``analyze`` and ``replay`` of one recording find the same spasms (issue 16.1).

Both run the recording through :class:`monitor.pipeline.Pipeline` with the same
configuration; only the output differs (a summary on stdout, records in a spool).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from monitor.cli import main
from monitor.recording import RecordingWriter
from monitor.store import Spool
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import NS_PER_S, Frame, SensorKind, StreamId

EMG_RATE_HZ, IMU_RATE_HZ = 1000.0, 100.0
PACKET_S = 0.1  # one notification per stream every 100 ms

# The calf wearable's electrodes are on the gastrocnemius; the shank wearable is worn for its
# IMU (its EMG front end picks up the same signal, but no muscle is named, so it is not
# analysed). A third wearable in the recording is not in the configuration.
CONFIG = """\
[patient]
id = "p01"

[[device]]
label = "calf"
address = "F3:00:00:00:00:01"
placement = "calf"
muscle = "gastrocnemius"

[[device]]
label = "shank"
address = "F3:00:00:00:00:02"
placement = "shank"
"""


def _write_recording(path: Path) -> None:
    motion = generate_motion("knee", duration_s=60, n_spasms=3, seed=4)
    scenario = EmgScenario(
        duration_s=60.0, channels=2, seed=5, spasms_per_min=4.0, sample_rate_hz=EMG_RATE_HZ
    )
    emg = generate_emg(scenario.clean(), t0_ns=motion.t0_ns).emg_mv.astype(np.float32)
    streams: list[tuple[StreamId, SensorKind, float, npt.NDArray[np.floating]]] = [
        (StreamId("calf", "emg"), SensorKind.EMG, EMG_RATE_HZ, emg),
        (StreamId("shank", "emg"), SensorKind.EMG, EMG_RATE_HZ, emg),
        (StreamId("shank", "acc"), SensorKind.ACC, IMU_RATE_HZ, motion.acc_dist_g),
        (StreamId("shank", "gyr"), SensorKind.GYR, IMU_RATE_HZ, motion.gyr_dist_dps),
        (StreamId("stranger", "gyr"), SensorKind.GYR, IMU_RATE_HZ, motion.gyr_dist_dps),
    ]
    n_packets = round(60 / PACKET_S)
    with RecordingWriter(path) as writer:
        for packet in range(n_packets):  # in arrival order, as the collector delivers them
            t0_ns = motion.t0_ns + round(packet * PACKET_S * NS_PER_S)
            for stream, kind, rate_hz, values in streams:
                n = round(rate_hz * PACKET_S)
                samples = values[packet * n : (packet + 1) * n]
                writer.append(Frame(stream, kind, rate_hz, t0_ns, packet, packet, samples))


def test_analyze_and_replay_of_a_recording_find_the_same_spasm_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # both commands read ./config.toml: the recording keeps none
    (tmp_path / "config.toml").write_text(CONFIG)
    path = tmp_path / "rec.sqlite"
    _write_recording(path)

    spool_path = tmp_path / "spool.sqlite"
    assert main(["replay", str(path), "--spool", str(spool_path)]) == 0
    capsys.readouterr()
    with Spool(spool_path) as spool:
        stored = [r for r in spool.query(0, 2**62) if r.measurement == "spasm_event"]
    replayed = sorted(
        (_iso_ms(r.time_ns), r.tags["kind"], r.tags["device"], int(r.tags["channel"])) for r in stored
    )

    assert main(["analyze", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    analysed = sorted((e["onset"], e["kind"], e["device"], e["channel"]) for e in document["events"])

    assert analysed == replayed
    devices = {device for _, _, device, _ in replayed}
    assert devices == {"calf", "shank"}  # the stranger's frames are skipped by both
    assert "skipped stranger" in captured.err
    # EMG of the calf only; the shank's only evidence is its gyroscope.
    assert all(kind == "movement" for _, kind, device, _ in replayed if device == "shank")
    movement = sum(kind == "movement" for _, kind, _, _ in replayed)
    assert movement == 3  # the generator's three jerks
    assert document["summary"]["by_source"] == {"emg": len(replayed) - movement, "imu": movement}


def _iso_ms(time_ns: int) -> str:
    ms = round(time_ns / 1_000_000)
    return np.datetime_as_string(np.datetime64(ms, "ms"), unit="ms") + "Z"
