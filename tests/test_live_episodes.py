"""A live run writes each spasm episode as it closes, not when it scores the hour (issue 14).

The Grafana spike rule counts ``spasm_episode`` records; written at the hour's scoring, they
reached InfluxDB up to an hour after the spasm. The run here is the product's
(:func:`monitor.live.run_live`: an emulated wearable over bleak's API on bumble virtual
controllers, the pipeline, the spool), with ``[dsp] max_event_s`` short so that an episode
settles within seconds (:func:`monitor.live.episode_settle_s`). The test stops the run as a
user does, with Ctrl-C (SIGINT), once an episode and enough events are in the spool.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from emulators.process import start_emulated, wearable_address
from monitor.clinical.events import episode_records
from monitor.config import parse_config
from monitor.live import LiveStatus, episode_settle_s, run_live
from monitor.store import Spool
from monitor.types import Record

MAX_EVENT_S = 2.0  # the detector holds a spasm at most ~19 s (data time) instead of ~4 min
RUN_S = 40.0  # a ceiling: the first episode settles ~27 s into the data; connecting takes a few s
MIN_EVENTS = 4
SEED = 17  # EMG spasms from 7 s into the emulated signal: the first episodes settle within the run


def _points(records: list[Record]) -> list[tuple[object, ...]]:
    return sorted((r.time_ns, sorted(r.tags.items()), sorted(r.fields.items())) for r in records)


def test_live_run_writes_episodes_as_they_close_and_scoring_does_not_repeat_them(tmp_path: Path) -> None:
    spool_path = tmp_path / "spool.sqlite"
    emulated = start_emulated(1, tmp_path, options=[["--emg-channels", "2", "--seed", str(SEED)]])
    seen: list[tuple[float, int]] = []  # (elapsed s, episodes in the spool) at each status line
    stopped_at_s: list[float] = []  # when the test pressed Ctrl-C

    def watch(status: LiveStatus) -> None:
        with Spool(spool_path) as reader:
            episodes = len(reader.query(0, 2**62, measurement="spasm_episode"))
            events = len(reader.query(0, 2**62, measurement="spasm_event"))
        seen.append((status.elapsed_s, episodes))
        if episodes and events >= MIN_EVENTS and not stopped_at_s:
            stopped_at_s.append(status.elapsed_s)
            signal.raise_signal(signal.SIGINT)  # the run's own handler stops it cleanly

    try:
        config = parse_config(
            {
                "patient": {"id": "p05", "timezone": "Europe/London"},
                "device": [{"profile": "reference", "address": wearable_address(1), "placement": "calf",
                            "side": "left", "muscle": "gastrocnemius", "affected": True}],
                "ble": {"backend": "bumble", "transport": emulated.collector_transport,
                        "scan_timeout_s": 5.0},
                "store": {"spool_path": str(spool_path)},
                "dsp": {"max_event_s": MAX_EVENT_S},
            }
        )  # fmt: skip
        assert episode_settle_s(config.emg_params) < RUN_S / 1.5
        with Spool(spool_path) as spool:
            result = asyncio.run(
                run_live(config, spool, duration_s=RUN_S, on_status=watch, status_every_s=1.0)
            )
    finally:
        emulated.stop()
    with Spool(spool_path) as spool:
        events = spool.query(0, 2**62, measurement="spasm_event")
        stored = spool.query(0, 2**62, measurement="spasm_episode")
    assert len(events) >= MIN_EVENTS, "the emulated calf had spasms"
    # Episodes reached the spool while the run went on, not at its stop or the hour's scoring.
    during = [n for elapsed_s, n in seen if n and elapsed_s < RUN_S]
    assert during, seen
    # Each episode once (the scoring at the stop wrote none again), as a batch over the events has them.
    assert _points(stored) == _points(episode_records(events))
    assert result.episodes == len(stored)
    assert all(r.fields["affected"] is True for r in stored)
