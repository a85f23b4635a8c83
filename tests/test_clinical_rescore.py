"""A live run's clinical scores: each finished hour scores its local day again, replacing the last."""

from __future__ import annotations

import asyncio
from pathlib import Path

from monitor.clinical.rescore import HourlyRescorer
from monitor.clinical.scores import NS_PER_HOUR
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

DAY0_NS = 1_768_867_200 * NS_PER_S  # 2026-01-20T00:00:00Z


def _events(hour: int, n: int) -> list[Record]:
    """``n`` spasms in an hour the wearable streamed through (its observation interval)."""
    t0 = DAY0_NS + hour * NS_PER_HOUR
    tags = {"patient": "p01"}
    worn = Record("observation", t0, {"duration_s": 3600.0, "offset_ns": t0 + NS_PER_HOUR}, tags)
    return [worn] + [
        Record("spasm_event", t0 + (60 + i * 120) * NS_PER_S, {"duration_s": 3.0}, tags) for i in range(n)
    ]


def _scores(spool: Spool) -> dict[tuple[str, int], int]:
    return {
        (r.tags["period"], (r.time_ns - DAY0_NS) // NS_PER_HOUR): int(r.fields["spasms"])
        for r in spool.query(0, 2**62, measurement="clinical_score")
    }


def test_each_finished_hour_rescoring_replaces_the_day(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    rescorer = HourlyRescorer(path, "UTC", start_ns=DAY0_NS + 9 * NS_PER_HOUR + 5)
    with Spool(path) as spool:
        spool.append(_events(9, 4))
        assert rescorer.due(DAY0_NS + 9 * NS_PER_HOUR + 3000 * NS_PER_S) is None  # 09:50: hour not over
        span = rescorer.due(DAY0_NS + 10 * NS_PER_HOUR + 2 * NS_PER_S)
        assert span == (DAY0_NS + 9 * NS_PER_HOUR, DAY0_NS + 10 * NS_PER_HOUR)
        assert asyncio.run(rescorer.score(*span)) > 0
        assert _scores(spool) == {("day", 0): 4, ("hour", 9): 4}
        spool.append(_events(10, 2))
        span = rescorer.due(DAY0_NS + 11 * NS_PER_HOUR)
        assert span == (DAY0_NS + 10 * NS_PER_HOUR, DAY0_NS + 11 * NS_PER_HOUR)
        asyncio.run(rescorer.score(*span))
        # One day point, re-scored with both hours, not a second one beside the first.
        assert _scores(spool) == {("day", 0): 6, ("hour", 9): 4, ("hour", 10): 2}
        # No spasm_episode: the run writes its own as they close (monitor.clinical.closing).
        assert spool.count() == 6 + 2 + 3
        # A spasm from before the run (an earlier run, a replay) gets its episode here, once.
        spool.append(_events(8, 1))
        for _ in range(2):  # its day scored twice
            asyncio.run(rescorer.score(DAY0_NS + 11 * NS_PER_HOUR, DAY0_NS + 12 * NS_PER_HOUR))
        (episode,) = spool.query(0, 2**62, measurement="spasm_episode")
        assert episode.time_ns == DAY0_NS + 8 * NS_PER_HOUR + 60 * NS_PER_S


def test_a_scoring_failure_is_logged_and_the_run_goes_on(tmp_path: Path) -> None:
    unreadable = tmp_path / "missing-dir" / "spool.sqlite"
    rescorer = HourlyRescorer(unreadable, "UTC", start_ns=DAY0_NS)
    span = rescorer.due(DAY0_NS + NS_PER_HOUR + 1)
    assert span == (DAY0_NS, DAY0_NS + NS_PER_HOUR)
    assert asyncio.run(rescorer.score(*span)) == 0
    assert rescorer.written == 0
    # The failed hour is due again with the next one, not at every commit before it.
    assert rescorer.due(DAY0_NS + NS_PER_HOUR + 2 * NS_PER_S) is None
    assert rescorer.due(DAY0_NS + 2 * NS_PER_HOUR + 1) == (DAY0_NS, DAY0_NS + 2 * NS_PER_HOUR)
