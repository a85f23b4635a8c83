"""A spool for the report tests, produced through the real pipeline with known truth.

Synthetic EMG (:mod:`monitor.synth.emg`) streams in 30-s frames through the streaming
:class:`~monitor.dsp.SpasmDetector`; a synthetic knee-exercise angle goes through
:func:`~monitor.dsp.imu.rom.range_of_motion`; treatment records come from the treatment
log's own entry types. Everything is appended to a real :class:`~monitor.store.Spool`.

The period is 30 local days in Europe/London across the start of summer time (29 March
2026), so the period is 719 hours long. One 240-s EMG window a day, at 02:10, 11:10 or
23:10 local (two of three at night), each with an ``observation`` record as the live
pipeline writes. A Botox injection on day 14 (spasms halve from day 21), PT sessions with
exercise on days 2, 9, 16 and 23, a connectivity gap, a device status and two alerts.

:func:`shared_spool` builds each variant once per test session and gives every test module
a copy of its own: the variants take seconds to minutes of detection on a loaded machine.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from monitor.clinical.events import to_ns
from monitor.dsp import SpasmDetector
from monitor.dsp.emg_detector import MAX_PROCESS_BLOCK_S
from monitor.dsp.imu.rom import range_of_motion
from monitor.store import Spool
from monitor.synth import EmgScenario, generate_emg
from monitor.treatment import BotoxInjection, PtSession
from monitor.types import NS_PER_S, Frame, Record, SensorKind, StreamId

TZ = ZoneInfo("Europe/London")
START = dt.date(2026, 3, 10)
N_DAYS = 30
INJECTION_DAY = 14
PT_DAYS = (2, 9, 16, 23)
# 8 min a day: each day under an hour (no daily rate: monitor.clinical.enough), while the
# 14 days before the injection (112 min) and days 7-15 after it (72 min) are rates.
WINDOW_S = 480.0
EMG_RATE_HZ = 200.0
WINDOW_CLOCKS = (dt.time(2, 10), dt.time(11, 10), dt.time(23, 10))
EXERCISE_CLOCK = dt.time(17, 0)
EXERCISE_REPS = 10  # one set of 10 knee flexions of 2 × AMPLITUDE_DEG
AMPLITUDE_DEG = 30.0
PATIENT = "p01"
TAGS = {"patient": PATIENT, "device": "cf12", "location": "calf"}
# Frames as analyze feeds a recording (the detector's largest block): 8x faster than 0.5-s
# frames and the same records, as the detector's chunk invariance guarantees
# (tests/test_emg_detector.py::test_chunked_stream_equals_batch).
FRAME_S = MAX_PROCESS_BLOCK_S


@dataclass
class BuiltSpool:
    """The spool file and every record written to it (the tests' independent truth)."""

    path: Path
    records: list[Record] = field(default_factory=list)
    window_starts_ns: list[int] = field(default_factory=list)
    true_spasms: int = 0


def local_ns(date: dt.date, clock: dt.time) -> int:
    return to_ns(dt.datetime.combine(date, clock, tzinfo=TZ))


def build_spool(
    path: Path, *, simulated_tag: bool = False, days: int = N_DAYS, window_s: float = WINDOW_S
) -> BuiltSpool:
    """Write the scenario above to a fresh spool at ``path``; ``simulated_tag`` tags every record
    ``source=simulated`` as the demo history does; ``window_s`` is each day's worn time (an hour
    or more gives every day a rate and a bar: monitor.clinical.enough)."""
    extra = {"source": "simulated"} if simulated_tag else {}
    tags = {**TAGS, **extra}
    built = BuiltSpool(path)
    for day in range(days):
        date = START + dt.timedelta(days=day)
        t0_ns = local_ns(date, WINDOW_CLOCKS[day % 3])
        rate_per_min = 0.5 if day >= INJECTION_DAY + 7 else 1.0
        rec = generate_emg(
            EmgScenario(
                sample_rate_hz=EMG_RATE_HZ, duration_s=window_s, seed=100 + day, spasms_per_min=rate_per_min,
                electrode_off_per_hour=4.0,
            ),
            t0_ns=t0_ns,
        )  # fmt: skip
        built.true_spasms += len(rec.spasms)
        built.records += _detect(rec.emg_mv, t0_ns, tags)
        built.window_starts_ns.append(t0_ns)
        offset_ns = t0_ns + round(window_s * NS_PER_S)
        built.records.append(
            Record("observation", t0_ns, {"duration_s": window_s, "offset_ns": offset_ns}, tags)
        )
        if day in PT_DAYS:
            built.records += _exercise(local_ns(date, EXERCISE_CLOCK), tags)
    first_window = built.window_starts_ns[0]
    built.records += [
        Record("gap", first_window + 60 * NS_PER_S, {"duration_s": 12.5, "missing_samples": 2500},
               {**tags, "sensor": "emg"}),
        Record("device_status", first_window, {"battery_pct": 81, "connected": True}, tags),
        Record("alert", built.window_starts_ns[min(3, days - 1)] + NS_PER_S, {"value": 9.0, "threshold": 6.0,
               "message": "9 spasms in the last hour", "delivered": True},
               {"patient": PATIENT, "rule": "spasm_spike", **extra}),
        Record("alert", built.window_starts_ns[min(5, days - 1)] + NS_PER_S,
               {"value": 75.0, "threshold": 60.0, "message": "tonic spasm of 75 s", "delivered": False},
               {"patient": PATIENT, "device": "cf12", "rule": "tonic_spasm", **extra}),
    ]  # fmt: skip
    entries: list[BotoxInjection | PtSession] = [
        BotoxInjection(START + dt.timedelta(days=INJECTION_DAY), ("gastrocnemius", "soleus"), "left", 200.0)
    ]
    entries += [PtSession(START + dt.timedelta(days=d), "stretching", ("calf stretch",)) for d in PT_DAYS]
    built.records += [
        Record(r.measurement, r.time_ns, r.fields, {**r.tags, **extra})
        for e in entries
        for r in [e.to_record(TZ, PATIENT)]
    ]
    built.records.sort(key=lambda r: r.time_ns)
    with Spool(path) as spool:
        spool.append(built.records)
    return built


_shared: dict[tuple[bool, int, float], BuiltSpool] = {}


def shared_spool(
    tmp_path_factory: pytest.TempPathFactory,
    path: Path,
    *,
    simulated_tag: bool = False,
    days: int = N_DAYS,
    window_s: float = WINDOW_S,
) -> BuiltSpool:
    """:func:`build_spool`'s spool copied to ``path``, built once per test session per variant.

    Each caller gets its own file (forwarding marks its rows sent) and its own lists; the
    arguments are those of :func:`build_spool`.
    """
    key = (simulated_tag, days, window_s)
    if key not in _shared:
        folder = tmp_path_factory.mktemp("shared_spool")
        _shared[key] = build_spool(
            folder / "spool.sqlite", simulated_tag=simulated_tag, days=days, window_s=window_s
        )
    built = _shared[key]
    # SQLite's online backup: a consistent copy whatever the source's journal mode.
    with closing(sqlite3.connect(built.path)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return BuiltSpool(path, list(built.records), list(built.window_starts_ns), built.true_spasms)


def _detect(emg_mv: np.ndarray, t0_ns: int, tags: dict[str, str]) -> list[Record]:
    """The streaming path: frames through the detector's ``process`` and ``flush``."""
    detector = SpasmDetector(EMG_RATE_HZ, emg_mv.shape[1], tags=tags)
    stream = StreamId("cf12", "emg")
    step = round(FRAME_S * EMG_RATE_HZ)
    out: list[Record] = []
    for start in range(0, emg_mv.shape[0], step):
        t_ns = t0_ns + round(start * NS_PER_S / EMG_RATE_HZ)
        chunk = emg_mv[start : start + step]
        frame = Frame(stream, SensorKind.EMG, EMG_RATE_HZ, t_ns, start, start + chunk.shape[0] - 1, chunk)
        out += detector.process(frame)
    out += detector.flush()
    return [r for r in out if r.measurement != "emg_envelope"]  # 1 Hz series: not needed here


def _exercise(t0_ns: int, tags: dict[str, str]) -> list[Record]:
    """One set of knee flexions (4 s each) at 10 Hz, then rest, through the ROM processor."""
    t_s = np.arange(0.0, 90.0, 0.1)
    period_s = 4.0
    active = t_s < EXERCISE_REPS * period_s
    angle_deg = 5.0 + AMPLITUDE_DEG * (1 - np.cos(2 * np.pi * t_s / period_s)) * active
    return range_of_motion(angle_deg, 10.0, t0_ns, joint="knee", tags=tags)
