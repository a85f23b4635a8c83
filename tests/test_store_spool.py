"""The spool: exact read-back, durability settings, restart, size-cap policy, clear errors."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from monitor.errors import StoreError
from monitor.store import PENDING, SENT, NumericSeries, Spool
from monitor.store.schema import spasm_event_record
from monitor.types import Record, SpasmEvent

T0_NS = 1_767_225_600_123_456_789  # 2026-01-01 UTC plus odd ns, to catch any rounding
HOUR_NS = 3600 * 10**9


def _envelope(n: int, patient: str = "p01", t0_ns: int = T0_NS) -> NumericSeries:
    rng = np.random.default_rng(1)
    return NumericSeries(
        "emg_envelope",
        t0_ns + np.arange(n, dtype=np.int64) * 100_000_000,
        {"rms_mv": rng.random(n), "baseline_mv": rng.random(n)},
        {"patient": patient, "channel": "0"},
    )


def test_records_read_back_exactly_by_time_measurement_and_patient(tmp_path: Path) -> None:
    event = SpasmEvent(
        T0_NS, T0_NS + 2_500_000_000, "clonus", 1, peak_mv=0.42, clonus_hz=6.5, location="calf"
    )
    records = [
        spasm_event_record(event, {"patient": "p01"}),
        Record("gap", T0_NS + 5, {"duration_s": 1.25}, {"patient": "p01", "device": "cf:12"}),
        Record("alert", T0_NS + HOUR_NS, {"rule": "rate above baseline", "k_sigma": 3}, {"patient": "p02"}),
        Record("device_status", T0_NS + 7, {"battery_pct": 81, "connected": True}, {"patient": "p01"}),
    ]
    with Spool(tmp_path / "s.sqlite") as spool:
        assert spool.append(records) == 4
        assert spool.query(0, 2**62) == sorted(records, key=lambda r: r.time_ns)
        assert spool.query(0, 2**62, measurement="spasm_event") == [records[0]]
        assert spool.query(0, 2**62, patient="p02") == [records[2]]
        assert spool.query(T0_NS + 1, T0_NS + HOUR_NS) == [records[1], records[3]]  # end is exclusive


def test_numeric_series_reads_back_exact_floats_and_times(tmp_path: Path) -> None:
    series = _envelope(1000)
    with Spool(tmp_path / "s.sqlite") as spool:
        assert spool.append_series(series) == 1000
        back = spool.query(0, 2**62, measurement="emg_envelope")
    assert [r.time_ns for r in back] == series.time_ns.tolist()
    assert [r.fields["rms_mv"] for r in back] == series.fields["rms_mv"].tolist()
    assert back[0].tags == {"patient": "p01", "channel": "0"}


def test_missing_values_drop_the_field_and_empty_points_are_not_written(tmp_path: Path) -> None:
    series = NumericSeries(
        "emg_envelope",
        np.array([1, 2, 3]),
        {"rms_mv": np.array([0.5, np.nan, np.nan]), "n": np.array([1, 2, 3])},
    )
    only_nan = Record("emg_envelope", 9, {"rms_mv": float("nan")})
    with Spool(tmp_path / "s.sqlite") as spool:
        assert spool.append_series(series) == 3
        assert spool.append([only_nan]) == 0
        assert [r.fields for r in spool.query(0, 10)] == [{"rms_mv": 0.5, "n": 1}, {"n": 2}, {"n": 3}]


def test_spool_is_wal_with_full_sync_and_pending_rows_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path) as spool:
        spool.append_series(_envelope(50))
        batch = spool.next_batch(20)
        assert batch is not None
        assert batch.n_points == 20
        spool.mark_sent(batch.first_id, batch.last_id)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    with Spool(path) as spool:
        assert spool._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert (spool.count(PENDING), spool.count(SENT)) == (30, 20)
        nxt = spool.next_batch(100)
        assert nxt is not None
        assert (nxt.first_id, nxt.n_points) == (batch.last_id + 1, 30)


def test_cap_drops_sent_rows_then_oldest_high_rate_rows_and_records_it(tmp_path: Path) -> None:
    cap_bytes = 400_000
    events = [
        spasm_event_record(SpasmEvent(T0_NS + i * 10**9, T0_NS + i * 10**9 + 10**8, "tonic", 0))
        for i in range(300)
    ]
    with Spool(tmp_path / "s.sqlite", cap_bytes=cap_bytes) as spool:
        spool.append(events)
        for k in range(20):  # 20 × 1000 envelope points: far more than the cap holds
            spool.append_series(_envelope(1000, t0_ns=T0_NS + k * 1000 * 100_000_000))
        assert spool.used_bytes() <= cap_bytes
        assert len(spool.query(0, 2**62, measurement="spasm_event")) == 300  # never dropped
        kept = spool.query(0, 2**62, measurement="emg_envelope")
        drops = spool.query(0, 2**62, measurement="spool_drop")
        dropped = sum(int(d.fields["dropped_points"]) for d in drops)
        assert 0 < len(kept) < 20_000
        assert len(kept) + dropped == 20_000
        assert all(d.tags == {"dropped_measurement": "emg_envelope", "patient": "p01"} for d in drops)
        # Oldest first: what is left is the newest stretch, in one piece.
        assert kept[-1].time_ns == T0_NS + (20_000 - 1) * 100_000_000
        assert kept[0].time_ns == kept[-1].time_ns - (len(kept) - 1) * 100_000_000
        assert min(int(d.fields["first_ns"]) for d in drops) == T0_NS


def test_cap_never_drops_events_even_when_they_alone_exceed_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = [spasm_event_record(SpasmEvent(T0_NS + i, T0_NS + i + 10**8, "tonic", 0)) for i in range(3000)]
    with caplog.at_level(logging.WARNING), Spool(tmp_path / "s.sqlite", cap_bytes=50_000) as spool:
        spool.append(events)
        assert spool.count() == 3000
    assert "never-drop" in caplog.text


def test_locked_spool_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Spool(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        # On open or on append, whichever first needs the lock.
        with pytest.raises(StoreError, match="locked by another"), Spool(path, busy_timeout_s=0.2) as spool:
            spool.append_series(_envelope(10))
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_full_disk_gives_a_clear_error_and_writes_nothing_of_the_batch(tmp_path: Path) -> None:
    # A full disk is simulated with SQLite's own hard limit (max_page_count): the same
    # SQLITE_FULL error a full file system gives, without a loop-mounted file system.
    # Only never-drop rows are in the file, so pruning cannot make room for the batch.
    events = [spasm_event_record(SpasmEvent(T0_NS + i, T0_NS + i + 10**8, "tonic", 0)) for i in range(100)]
    with Spool(tmp_path / "s.sqlite", max_file_bytes=200_000) as spool:
        spool.append(events)
        with pytest.raises(StoreError, match="disk is full") as error:
            spool.append_series(_envelope(20_000))
        assert "free disk space" in str(error.value)
        assert spool.count() == 100


def test_unwritable_spool_path_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="could not open spool"):
        Spool(tmp_path / "missing-dir" / "s.sqlite")


def test_cap_deletes_acknowledged_rows_before_any_unsent_one(tmp_path: Path) -> None:
    event = spasm_event_record(SpasmEvent(T0_NS, T0_NS + 10**8, "tonic", 0))
    # An envelope row takes ~176 bytes here, so 4000 rows (~670 kB) exceed the 500 kB cap
    # by less than the 2000 acknowledged rows free.
    with Spool(tmp_path / "s.sqlite", cap_bytes=500_000) as spool:
        spool.append_series(_envelope(2000))
        batch = spool.next_batch(2000)
        assert batch is not None
        spool.mark_sent(batch.first_id, batch.last_id)  # all 2000 safe on the server
        spool.append([event])
        refused = spool.next_batch(1)
        assert refused is not None
        spool.set_aside([refused.first_id], 400, "refused")  # ... and one event the server refused
        spool.mark_sent(refused.first_id, refused.last_id)
        spool.append_series(_envelope(2000, t0_ns=T0_NS + 10**12))
        assert spool.used_bytes() <= 500_000
        assert spool.count(PENDING) == 2000  # no unsent row dropped ...
        assert spool.count(SENT) < 2000  # ... acknowledged ones went instead
        assert spool.query(0, 2**62, measurement="spool_drop") == []
        assert [p.point_id for p in spool.set_aside_points()] == [refused.first_id]  # kept
        spool.append_series(_envelope(5000, t0_ns=T0_NS + 2 * 10**12))  # now unsent must go
        assert spool.query(0, 2**62, measurement="spool_drop")
        assert [p.point_id for p in spool.set_aside_points()] == [refused.first_id]  # still kept


def test_a_point_written_again_replaces_the_first_and_is_sent_again(tmp_path: Path) -> None:
    """Same series and time is the same point, as in InfluxDB: a replay never counts twice."""
    score = Record("clinical_score", T0_NS, {"spasms": 3}, {"patient": "p01", "period": "hour"})
    other_hour = Record("clinical_score", T0_NS + HOUR_NS, {"spasms": 1}, score.tags)
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append([score, other_hour])
        batch = spool.next_batch(10)
        assert batch is not None
        spool.mark_sent(batch.first_id, batch.last_id)
        assert spool.count(PENDING) == 0
        spool.append([Record(score.measurement, T0_NS, {"spasms": 5}, score.tags)])  # re-scored
        stored = spool.query(0, 2**62, measurement="clinical_score")
        assert [(r.time_ns, r.fields["spasms"]) for r in stored] == [(T0_NS, 5), (T0_NS + HOUR_NS, 1)]
        assert spool.count(PENDING) == 1  # the new value goes to the server
        resend = spool.next_batch(10)
        assert resend is not None
        assert resend.body.endswith(f"spasms=5i {T0_NS}".encode())


def test_a_spool_from_before_the_key_keeps_the_latest_of_each_point(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    event = Record("spasm_event", T0_NS, {"duration_s": 2.0}, {"patient": "p01"})
    with Spool(path) as spool:
        spool.append([event])
    db = sqlite3.connect(path)
    db.execute("DROP INDEX points_key")  # as a spool written by a version without the key
    db.execute(
        "INSERT INTO points (measurement, patient, time_ns, droppable, series, fields) "
        "SELECT measurement, patient, time_ns, droppable, series, 'duration_s=3' FROM points"
    )
    db.commit()
    db.close()
    with Spool(path) as spool:
        assert [r.fields for r in spool.query(0, 2**62)] == [{"duration_s": 3.0}]


def test_high_rate_series_are_not_keyed(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append_series(_envelope(10))
        spool.append_series(_envelope(10))
        assert spool.count() == 20  # droppable rows: the index would cost more than duplicates


def test_a_refused_point_written_again_is_queued_again_without_its_refusal(tmp_path: Path) -> None:
    bad = Record("alert", T0_NS, {"value": 9.0}, {"patient": "p01", "rule": "spike"})
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append([bad])
        batch = spool.next_batch(10)
        assert batch is not None
        spool.set_aside([batch.first_id], 400, "field type conflict")
        spool.mark_sent(batch.first_id, batch.last_id)
        assert [p.error for p in spool.set_aside_points()] == ["field type conflict"]
        spool.append([Record(bad.measurement, T0_NS, {"value": 10.0}, bad.tags)])  # corrected
        assert spool.set_aside_points() == []
        assert spool.count(PENDING) == 1
        assert [r.fields for r in spool.query(0, 2**62)] == [{"value": 10.0}]
