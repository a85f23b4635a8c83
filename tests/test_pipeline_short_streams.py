"""Streams shorter than one DSP block keep what there is, through ``replay`` (issue 13, point 6).

A recording is written with :class:`~monitor.recording.RecordingWriter` as ``record`` writes
it, then replayed by the CLI into a real spool file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from monitor.cli import main
from monitor.recording import RecordingWriter
from monitor.store import Spool
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

T0_NS = 1_764_000_000 * NS_PER_S
CALF, FOREARM = "F1:00:00:00:00:01", "D0:5E:00:00:00:01"
CONFIG = {
    "patient": {"id": "p13"},
    "device": [
        {"address": CALF, "placement": "calf", "muscle": "soleus"},
        {"profile": "myo", "address": FOREARM, "placement": "forearm", "muscle": "forearm_flexors"},
    ],
}


def _emg_frames(device: str, rate_hz: float, samples: npt.NDArray[np.float64], n: int) -> list[Frame]:
    return [
        Frame(
            StreamId(device, "emg"),
            SensorKind.EMG,
            rate_hz,
            T0_NS + round(start * NS_PER_S / rate_hz),
            seq,
            seq,
            samples[start : start + n],
        )
        for seq, start in enumerate(range(0, samples.shape[0], n))
    ]


def _replay(tmp_path: Path, items: list[Frame | Record]) -> list[Record]:
    recording, spool = tmp_path / "home.sqlite", tmp_path / "spool.sqlite"
    with RecordingWriter(recording, CONFIG) as writer:
        for item in items:
            writer.append(item)
    assert main(["replay", str(recording), "--spool", str(spool)]) == 0
    return Spool(spool).query(0, 2**62)


@pytest.mark.parametrize(
    ("device", "rate_hz", "n_samples", "channels"),
    [(CALF, 1000.0, 7, 2), (FOREARM, 200.0, 1, 8)],  # under one envelope block (10 ms, 5 ms)
)
def test_replay_of_a_recording_shorter_than_one_block_stores_what_there_is(
    tmp_path: Path, device: str, rate_hz: float, n_samples: int, channels: int
) -> None:
    samples = np.full((n_samples, channels), 0.01)
    stored = _replay(tmp_path, [*_emg_frames(device, rate_hz, samples, 25)])
    covered = [r for r in stored if r.measurement == "coverage"]
    assert [(r.tags["device"], r.tags["sensor"]) for r in covered] == [(device, "emg")]
    assert any(r.measurement == "observation" for r in stored)


def test_a_stream_ending_mid_spasm_with_a_short_last_frame_keeps_its_spasm(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    emg = rng.normal(0.0, 0.01, (30_003, 1))  # 30 s and 3 samples: the last frame is under one block
    emg[27_000:] *= 40.0  # a spasm from 27 s that lasts to the end of the recording
    # The forearm's stream stops after 4 samples, while the calf's goes on.
    short = _emg_frames(FOREARM, 200.0, np.full((4, 8), 0.01), 25)
    frames = sorted([*_emg_frames(CALF, 1000.0, emg, 25), *short], key=lambda f: f.t0_ns)
    stored = _replay(tmp_path, list(frames))
    spasms = [r for r in stored if r.measurement == "spasm_event"]
    assert len(spasms) == 1
    assert 26.5 < (spasms[0].time_ns - T0_NS) / NS_PER_S < 27.5
    kinds = Counter((r.measurement, r.tags["device"]) for r in stored if r.measurement != "observation")
    assert kinds[("emg_envelope", CALF)] == 30
    assert kinds[("coverage", FOREARM)] == 1
