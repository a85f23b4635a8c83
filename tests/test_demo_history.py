"""The demo's simulated history runs through the Pipeline with the live part's wearables (issue 16.1).

Before, the history drove the detectors directly, with devices of its own (``sim-emg``...) and
rules of its own; now a window is frames of the demo's wearables through
:class:`~monitor.pipeline.Pipeline`, as a live run, a replay and ``analyze`` feed it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from emulators.process import wearable_address
from monitor.commands.demo import embedded_config
from monitor.demo import simulate_history
from monitor.demo.wearables import DEMO_WEARABLES, demo_config
from monitor.store import Spool
from monitor.types import Record

START = dt.date(2026, 3, 2)
PT_DAY = 1


@pytest.fixture(scope="module")
def records() -> list[Record]:
    spool = Spool(":memory:")
    simulate_history(
        spool,
        start_date=START,
        weeks=1,
        injection_week=0,
        windows_per_day=1,
        window_s=300.0,
        wear_days=(),
        pt_days=(PT_DAY,),
        home_exercise_every_days=0,
        seed=5,
        timezone="Europe/London",
    )
    return spool.query(0, 2**62)


def test_the_history_and_the_live_part_are_one_home(tmp_path: Path) -> None:
    # The emulators the live part starts are the demo's wearables, in their order ...
    numbered = [wearable_address(i + 1) for i in range(len(DEMO_WEARABLES))]
    assert [w.address for w in DEMO_WEARABLES] == numbered
    # ... and the live part's configuration has the history's wearables, key for key.
    live = embedded_config("tcp-client:127.0.0.1:9", tmp_path / "spool.sqlite", "Europe/London")
    assert live.devices == demo_config("demo", "Europe/London").devices


def test_history_records_carry_the_configured_wearables_tags(records: list[Record]) -> None:
    calf, thigh, shank = (w.address for w in DEMO_WEARABLES)
    spasms = [r for r in records if r.measurement == "spasm_event"]
    assert spasms  # 7 windows of 5 min at 15-24 spasms an hour
    # EMG analysed on the calf, whose muscle is configured, tagged as the live part tags it.
    assert {(r.tags["device"], r.tags["location"], r.tags["muscle"], r.tags["side"]) for r in spasms} == {
        (calf, "calf", "gastrocnemius", "left")
    }
    # Every stream's coverage, by the pipeline: the calf's EMG each day, the knee IMUs on the PT day.
    covered: defaultdict[str, set[str]] = defaultdict(set)
    for r in records:
        if r.measurement == "coverage":
            covered[r.tags["device"]].add(r.tags["sensor"])
    assert covered == {calf: {"emg"}, thigh: {"acc", "gyr"}, shank: {"acc", "gyr"}}
    # The gyroscopes feed the movement processors (activity per minute, as live) ...
    assert {r.tags["device"] for r in records if r.measurement == "movement"} == {thigh, shank}
    # ... and the knee pair the joint-angle processor: the PT session's sets.
    sets = [r for r in records if r.measurement == "rom" and r.tags.get("period") == "set"]
    assert sets
    assert all(r.tags["side"] == "left" and r.tags["joint"] == "knee" for r in sets)


def test_observed_time_is_the_pipelines_while_any_wearable_streams(records: list[Record]) -> None:
    observations = sorted((r for r in records if r.measurement == "observation"), key=lambda r: r.time_ns)
    # One per EMG window (7) and one for the PT session's IMUs, the pipeline's own.
    assert len(observations) == 8
    assert sorted(float(r.fields["duration_s"]) for r in observations) == [160.0] + [300.0] * 7
    assert all(r.tags == {"patient": "demo", "source": "simulated"} for r in observations)
