"""``[store] retention_days``: older rows go, newer ones and (with a server) unsent ones stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.store import Spool
from monitor.store.retention import NS_PER_DAY, RetentionPruner, prune_older_than
from monitor.types import Record

NOW_NS = 1_780_000_000 * 10**9


def day_rows(days_ago: list[float]) -> list[Record]:
    return [
        Record("spasm_event", NOW_NS - round(d * NS_PER_DAY), {"duration_s": 1.0}, {"patient": "p01"})
        for d in days_ago
    ] + [
        Record("emg_envelope", NOW_NS - round(d * NS_PER_DAY), {"rms_mv": 0.1}, {"patient": "p01"})
        for d in days_ago
    ]


def test_retention_prunes_only_rows_older_than_the_cutoff(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append(day_rows([40, 31, 29, 1, 0]))
        deleted = prune_older_than(spool, NOW_NS - 30 * NS_PER_DAY, keep_unsent=False)
        left = spool.query(0, 2**62)
    assert deleted == 4
    assert sorted({(NOW_NS - r.time_ns) // NS_PER_DAY for r in left}) == [0, 1, 29]
    assert len(left) == 6


def test_with_a_server_retention_keeps_what_it_has_not_acknowledged(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append(day_rows([40]))  # ids 1, 2: acknowledged below
        spool.mark_sent(1, 2)
        spool.append(day_rows([35]))  # ids 3, 4: still queued for InfluxDB
        deleted = prune_older_than(spool, NOW_NS - 30 * NS_PER_DAY, keep_unsent=True)
        left = spool.query(0, 2**62)
    assert deleted == 2
    assert {(NOW_NS - r.time_ns) // NS_PER_DAY for r in left} == {35}


def test_the_pruner_runs_at_the_start_then_once_a_day(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(day_rows([10]))
    pruner = RetentionPruner(str(path), retention_days=7, keep_unsent=False)
    assert pruner.prune_if_due(NOW_NS) == 2  # the run's start
    with Spool(path) as spool:
        spool.append(day_rows([8]))
    assert pruner.prune_if_due(NOW_NS + NS_PER_DAY // 2) == 0  # not due again within the day
    assert pruner.prune_if_due(NOW_NS + NS_PER_DAY) == 2
    assert RetentionPruner(str(path), None, False).prune_if_due(NOW_NS) == 0  # no retention: keep all


def test_retention_days_is_read_and_checked() -> None:
    base = {"patient": {"id": "p01"}}
    assert parse_config(base).store.retention_days is None
    assert parse_config(base | {"store": {"retention_days": 365}}).store.retention_days == 365.0
    with pytest.raises(ConfigError, match=r"store\.retention_days"):
        parse_config(base | {"store": {"retention_days": 0}})
