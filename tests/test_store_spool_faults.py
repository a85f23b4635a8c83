"""The spool under faults: a write lock held by another process, a full disk, read-only media,
and a spool from a newer release."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.errors import StoreError
from monitor.store import (
    PENDING,
    SCHEMA_VERSION,
    Forwarder,
    InfluxV1Writer,
    NumericSeries,
    Spool,
    SpoolWriter,
    StoreFullError,
    store_status,
)
from monitor.store.schema import spasm_event_record
from monitor.treatment import BotoxInjection, add_entries, parse_zone
from monitor.types import Record, SpasmEvent

T0_NS = 1_767_225_600_123_456_789
LOCK_HELD_S = 5.5  # longer than the spool's 5 s busy timeout, which used to end `run`
REPO = Path(__file__).resolve().parents[1]


def _events(n: int, t0_ns: int = T0_NS, step_ns: int = 10**9) -> list[Record]:
    events = [SpasmEvent(t0_ns + i * step_ns, t0_ns + i * step_ns + 10**8, "tonic", 0) for i in range(n)]
    return [
        Record(r.measurement, r.time_ns, r.fields, {**r.tags, "patient": "p01"})
        for r in (spasm_event_record(e) for e in events)
    ]


def _envelope(n: int, t0_ns: int = T0_NS) -> NumericSeries:
    rng = np.random.default_rng(1)
    return NumericSeries(
        "emg_envelope",
        t0_ns + np.arange(n, dtype=np.int64) * 100_000_000,
        {"rms_mv": rng.random(n), "baseline_mv": rng.random(n)},
        {"patient": "p01", "channel": "0"},
    )


def _fill_with_events(spool: Spool) -> None:
    """Append never-drop rows until not even one more fits."""
    n = 0
    for size in (100, 10, 1):
        while True:
            try:
                spool.append(_events(size, T0_NS + n * 10**9))
            except StoreFullError:
                break
            n += size


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait for a condition the code under test makes true (the timeout is only a ceiling)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


class _LockHolder:
    """Another connection holding the spool's write lock until released (a threading.Event)."""

    def __init__(self, path: Path) -> None:
        self.locked = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(path,))

    def _hold(self, path: Path) -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the write lock, as another process's transaction
        self.locked.set()
        self.release.wait(60)
        other.execute("COMMIT")
        other.close()

    def __enter__(self) -> _LockHolder:
        self._thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join()


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    path = tmp_path / "spool.sqlite"
    Spool(path).close()
    return path


# -- the write lock ------------------------------------------------------------------------


async def test_appends_wait_out_a_lock_held_over_5_s_without_blocking_the_loop(spool_path: Path) -> None:
    writer = SpoolWriter(spool_path)
    with _LockHolder(spool_path) as holder:
        started = time.monotonic()
        assert writer.append(_events(50)) == 50  # returns at once, lock or not
        # Measure the event loop while the lock is held: each tick must come promptly.
        max_gap_s, last = 0.0, time.monotonic()
        while time.monotonic() - started < LOCK_HELD_S or writer.stats.busy_retries < 2:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            max_gap_s, last = max(max_gap_s, now - last), now
        assert writer.stats.held_points == 50
        assert "LOCKED" in writer.stats.health()
        writer.append(_events(10, T0_NS + 10**12))  # more arrive meanwhile: kept in order
        holder.release.set()
        assert await writer.flush(timeout_s=20)
    await writer.close()
    assert max_gap_s < 0.5  # the loop never waited on SQLite
    assert writer.stats.dropped_points == 0
    with Spool(spool_path) as spool:
        assert len(spool.query(0, 2**62, measurement="spasm_event")) == 60  # the batch was kept


async def test_forwarder_outlasts_a_lock_on_the_spool(spool_path: Path, influx_db: Any) -> None:
    db = influx_db
    with Spool(spool_path) as spool:
        spool.append(_events(200))
    stop = asyncio.Event()
    forwarder = Forwarder(
        spool_path,
        InfluxV1Writer(db.url, db.name),
        batch_points=50,
        spool_options={"busy_timeout_s": 0.3},
    )
    with _LockHolder(spool_path) as holder:
        task = asyncio.create_task(forwarder.run(stop))
        while forwarder.stats.sent_points == 0:  # it sends (reads need no lock) ...
            await asyncio.wait([task], timeout=0.05)
            assert not task.done(), task.exception()
        await asyncio.wait([task], timeout=1.0)  # ... and cannot mark: it must not die of it
        assert not task.done(), task.exception()
        holder.release.set()
    with Spool(spool_path, read_only=True) as spool:
        while spool.count(PENDING):
            await asyncio.wait([task], timeout=0.05)
            assert not task.done(), task.exception()
    stop.set()
    await task
    await forwarder.close()
    assert db.count("spasm_event", "duration_s") == 200


# -- a full disk ----------------------------------------------------------------------------


def test_full_disk_prunes_sent_rows_then_high_rate_rows_and_records_the_drops(tmp_path: Path) -> None:
    # SQLite's max_page_count gives the same SQLITE_FULL a full file system gives.
    with Spool(tmp_path / "s.sqlite", max_file_bytes=400_000) as spool:
        spool.append_series(_envelope(1000))
        batch = spool.next_batch(400)
        assert batch is not None
        spool.mark_sent(batch.first_id, batch.last_id)  # 400 acknowledged, 600 not
        n_events = 0
        while not store_status(spool).dropped_points:  # events until unsent rows must go too
            n_events += spool.append(_events(100, T0_NS + n_events * 10**9))
            assert n_events < 10_000
        kept = spool.query(0, 2**62, measurement="emg_envelope")
        status = store_status(spool)
        assert len(spool.query(0, 2**62, measurement="spasm_event")) == n_events  # every one
    assert status.sent_points == 0  # sent rows went first ...
    lost_unsent = 600 - len(kept)
    assert lost_unsent > 0  # ... then high-rate rows, oldest first
    assert status.dropped_points == {"emg_envelope": lost_unsent}  # each unsent drop recorded
    first_kept_ns = min(r.time_ns for r in kept)
    assert first_kept_ns == T0_NS + (400 + lost_unsent) * 100_000_000


def test_a_batch_too_big_for_what_can_be_pruned_fails_whole_and_clearly(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite", max_file_bytes=200_000) as spool:
        spool.append(_events(100))  # never-drop rows: nothing can be pruned
        with pytest.raises(StoreError, match="disk is full") as error:
            spool.append_series(_envelope(20_000))
        assert "free disk space" in str(error.value)
        assert spool.count() == 100


async def test_writer_holds_records_through_a_full_spool_and_drops_only_high_rate_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, max_file_bytes=200_000) as spool:
        _fill_with_events(spool)
        n_events = spool.count()
    writer = SpoolWriter(path, spool_options={"max_file_bytes": 200_000}, max_held_points=60)
    writer.append(_events(10, T0_NS - 10**12))
    series = _envelope(100)
    writer.append(Record("emg_envelope", int(t), {"rms_mv": 1.0}, dict(series.tags)) for t in series.time_ns)
    await _until(lambda: writer.stats.full_retries >= 2)
    assert "FULL" in writer.stats.health()
    assert writer.stats.dropped_points == 50  # the oldest high-rate ones, never the events
    other = sqlite3.connect(path, isolation_level=None)  # space comes back (a file deleted)
    other.execute("DELETE FROM points WHERE id IN (SELECT id FROM points ORDER BY id LIMIT 300)")
    other.close()
    assert await writer.flush(timeout_s=20)
    await writer.close()
    with Spool(path) as spool:
        assert len(spool.query(0, 2**62, measurement="spasm_event")) == n_events - 300 + 10
        assert len(spool.query(0, 2**62, measurement="emg_envelope")) == 50
        assert store_status(spool).dropped_points == {"emg_envelope": 50}


# -- readers on read-only media, and the schema version ----------------------------------------


# The child process: each command through the CLI's main, outputs as JSON. One start-up for
# all of them (seconds each on a loaded machine), on the same read-only media.
_CHILD = """
import contextlib, io, json, sys
from monitor.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
json.dump(results, sys.stdout)
"""


def _cli_on_read_only_media(source: Path, *commands: list[str], cwd: Path) -> list[tuple[int, str, str]]:
    """The CLI's commands in a subprocess, reading a copy of ``source`` on a read-only file system.

    Returns each command's (exit code, stdout, stderr). ``{spool}`` in a command becomes the
    copy's path. Root ignores file modes, so as root the copy's folder is bind-mounted
    read-only in a mount namespace of the subprocess's own.
    """
    folder = Path(tempfile.mkdtemp(prefix="spool-copy-"))
    shutil.copy(source, folder / "spool.sqlite")
    media = folder
    if os.geteuid() == 0:
        media = Path(tempfile.mkdtemp(prefix="ro-media-"))
    spool = media / "spool.sqlite"
    argvs = [[a.replace("{spool}", str(spool)) for a in command] for command in commands]
    argv = [sys.executable, "-c", _CHILD, json.dumps(argvs)]
    if os.geteuid() == 0:
        mount = f'mount --bind {folder} {media} && mount -o remount,bind,ro {media} && exec "$@"'
        argv = ["unshare", "-m", "sh", "-c", mount, "sh", *argv]
    else:
        (folder / "spool.sqlite").chmod(0o444)
        folder.chmod(0o555)
    try:
        child = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
            check=False,
        )
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
        if media != folder:
            media.rmdir()
    assert child.returncode == 0, child.stderr
    return [(int(code), out, err) for code, out, err in json.loads(child.stdout)]


def test_report_and_treatment_list_read_a_spool_on_read_only_media(tmp_path: Path) -> None:
    source = tmp_path / "spool.sqlite"
    with Spool(source) as spool:
        spool.append(_events(3, step_ns=600 * 10**9))  # ten minutes apart: three spasms
        spool.append([Record("observation", T0_NS, {"duration_s": 3600.0}, {"patient": "p01"})])
        add_entries(
            spool,
            [BotoxInjection(dt.date(2026, 1, 1), ("soleus",), "left", 100.0)],
            parse_zone("UTC"),
            "p01",
        )
    listing, report, status = _cli_on_read_only_media(
        source,
        ["treatment", "list", "--spool", "{spool}"],
        ["report", "--spool", "{spool}", "--out", str(tmp_path / "r.html"), "--patient", "p01"],
        ["store", "status", "--spool", "{spool}"],
        cwd=tmp_path,
    )
    assert listing[0] == 0, listing[2]
    assert "soleus" in listing[1]
    assert report[0] == 0, report[2]
    assert "3 spasms" in report[1]
    assert status[0] == 0, status[2]
    assert "queued 5" in status[1]


def test_a_spool_from_a_newer_release_is_refused_in_one_line(spool_path: Path) -> None:
    with Spool(spool_path) as spool:
        spool.append(_events(1))
    db = sqlite3.connect(spool_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="newer than this spasm-monitor") as error:
            Spool(spool_path, read_only=read_only)
        assert "\n" not in str(error.value)
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "store", "status", "--spool", str(spool_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "upgrade spasm-monitor" in result.stderr


def test_a_spool_from_before_versioning_is_upgraded_in_place(spool_path: Path) -> None:
    db = sqlite3.connect(spool_path)
    db.execute("DROP TABLE forward_log")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    with Spool(spool_path, read_only=True) as spool:  # a reader leaves it as it is
        assert store_status(spool).last_sent_at_ns is None
    with Spool(spool_path) as spool:
        spool.append(_events(2))
        batch = spool.next_batch(10)
        assert batch is not None
        spool.mark_sent(batch.first_id, batch.last_id)
        assert store_status(spool).last_sent_at_ns is not None
    db = sqlite3.connect(spool_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
