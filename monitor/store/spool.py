"""The durable local spool: every Record enters SQLite (WAL mode) before anything else.

Rows are points in line-protocol form (series key, field set, time), plus the columns
the embedded store queries by (measurement, patient, time). A row is *pending* until the
forwarder's server acknowledged it, then *sent*; a row the server refused as bad data is
*set aside* with the server's error, so it never blocks the rows behind it.

The forwarder sends rows in id order, so "sent" is one number, the highest acknowledged
id (the *watermark*), and marking a batch sent rewrites one row, not thousands.

Durability
----------
``synchronous=FULL`` (the default) in WAL mode fsyncs the WAL at every commit, and
:meth:`Spool.append` commits once per call. So when ``append`` returns, its records
survive a process crash (kill -9) *and* a power loss or kernel panic. The cost is one
fsync per append call, which is why callers append in batches (a DSP block, not a sample).
``synchronous="NORMAL"`` skips that fsync: a process crash still loses nothing committed
(the WAL is in the OS page cache), but a power loss may roll back the last commits since
the previous checkpoint. The database file is never corrupted in either mode.

Same series and time
--------------------
As in InfluxDB, a point is identified by its series (measurement and tags) and time: appending
a kept point again (a recording replayed twice, an hour scored again with more data) replaces
the earlier one, under a new id, so the forwarder sends the new value and the embedded store
never counts it twice. The high-rate droppable series are exempt (their duplicates cost less
than keying every row would).

Size cap
--------
When the rows in use exceed ``cap_bytes``, rows are deleted oldest-first in this order
until the spool is back under 90 % of the cap:

1. rows already acknowledged by InfluxDB (they are safe on the server);
2. rows of high-rate feature series (:func:`monitor.store.schema.is_droppable`), sent or not.

Every drop of unsent rows is recorded as a ``spool_drop`` point (per measurement and
patient: count, first and last time), which is itself never dropped and is forwarded
like any other point. Spasm events, gaps, alerts, treatment and every other measurement
are never dropped: if only they remain, the spool grows past its cap and logs a warning.
``max_file_bytes`` is a separate hard ceiling (SQLite ``max_page_count``). When it or the
disk is full (``SQLITE_FULL``), an append prunes in the same order (acknowledged rows, then
high-rate rows, recording the drops) and tries again; only when nothing is left to prune
does it fail with :class:`~monitor.store.sqlite.StoreFullError`, and nothing of the batch is half-written.

Set-aside rows stay part of the local data: :meth:`Spool.query` returns them, so a point the
server refused still counts in the report. :meth:`Spool.requeue_set_aside` sends them again.

Schema version and readers
--------------------------
``PRAGMA user_version`` holds :data:`SCHEMA_VERSION`; a spool written by a newer release is
refused with a one-line error rather than misread. ``Spool(path, read_only=True)`` opens
with a ``mode=ro`` URI (``immutable`` on read-only media), for readers such as the report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.store.line_parser import parse_fields, parse_series
from monitor.store.line_protocol import render_records
from monitor.store.schema import SPOOL_DROP, is_droppable
from monitor.store.series import NumericSeries
from monitor.store.sqlite import (
    DEFAULT_BUSY_TIMEOUT_S,
    SqliteFile,
    StoreFullError,
    Synchronous,
    open_read_only,
    open_read_write,
    user_version,
    where_clause,
)
from monitor.types import Record

log = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = 2 * 1024**3  # a week of a heavy 4-channel day is ~100 MB; 2 GiB is months
CAP_TARGET_FRACTION = 0.9  # enforce down to 90 % so a full spool does not prune on every append
MIN_DELETE_ROWS = 100  # rows per pruning step: a step is one transaction (one fsync)
PENDING, SENT, SET_ASIDE = 0, 1, 2
# 1: the forward_log table. 0 is a spool from before versioning (same tables otherwise).
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- append order; never reused, so batches stay exact
    measurement TEXT NOT NULL,
    patient TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    droppable INTEGER NOT NULL,
    series TEXT NOT NULL,                  -- escaped "measurement,tag=value,..."
    fields TEXT NOT NULL                   -- escaped "field=value,..."
);
CREATE TABLE IF NOT EXISTS progress (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO progress VALUES ('sent_upto_id', 0);  -- rows with id <= this are done
CREATE INDEX IF NOT EXISTS points_time ON points(measurement, time_ns);
CREATE TABLE IF NOT EXISTS set_aside (
    point_id INTEGER PRIMARY KEY,
    status INTEGER NOT NULL,               -- HTTP status of the refusal
    error TEXT NOT NULL,
    at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS forward_log (   -- the forwarder's health, for `store status`
    key TEXT PRIMARY KEY,                  -- 'last_sent', 'last_error'
    at_ns INTEGER NOT NULL,                -- wall clock, UTC ns
    message TEXT NOT NULL
);
"""
# A kept point is keyed by series and time, as InfluxDB keys it: writing it again (a replay, a
# re-scored hour) replaces it, under a new id, so the forwarder sends the new value. The
# high-rate droppable series are not keyed: the index would cost more than their duplicates.
_KEY_INDEX = "points_key"
_CREATE_KEY_INDEX = (
    f"CREATE UNIQUE INDEX IF NOT EXISTS {_KEY_INDEX} ON points(series, time_ns) WHERE droppable = 0"
)
_WATERMARK = "SELECT value FROM progress WHERE key = 'sent_upto_id'"
_FORGET_REPLACED_REFUSALS = (
    "DELETE FROM set_aside WHERE NOT EXISTS (SELECT 1 FROM points WHERE points.id = set_aside.point_id)"
)
_INSERT = (
    "INSERT OR REPLACE INTO points (measurement, patient, time_ns, droppable, series, fields) "
    "VALUES (?,?,?,?,?,?)"
)


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive pending rows joined into one line-protocol request body."""

    first_id: int
    last_id: int
    n_points: int
    body: bytes


@dataclass(frozen=True, slots=True)
class SetAside:
    """A point the server refused, with its reason."""

    point_id: int
    line: str
    status: int
    error: str


class Spool(SqliteFile):
    """A SQLite spool file; one instance per thread (sqlite3 connections are not shared).

    Parameters
    ----------
    path : str or Path
        The spool file; created with its tables when missing.
    cap_bytes : int
        Soft size cap, bytes of rows in use; see the module notes for what is dropped.
    max_file_bytes : int or None
        Hard ceiling on the file size, bytes; appends beyond it fail with StoreError.
    synchronous : {"FULL", "NORMAL"}
        SQLite durability level; see the module notes for what survives what.
    busy_timeout_s : float
        How long to wait for another process's lock before failing, s.
    read_only : bool
        Open for reading only (``mode=ro``; ``immutable`` when even that cannot open, as on
        read-only media); the file must exist and nothing is created or migrated.

    Examples
    --------
    >>> spool = Spool(":memory:")
    >>> spool.append([Record("gap", 1_700_000_000_000_000_000, {"duration_s": 2.5}, {"patient": "p1"})])
    1
    >>> spool.query(0, 2**62, measurement="gap")[0].fields
    {'duration_s': 2.5}
    """

    def __init__(
        self,
        path: str | Path,
        *,
        cap_bytes: int = DEFAULT_CAP_BYTES,
        max_file_bytes: int | None = None,
        synchronous: Synchronous = "FULL",
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        read_only: bool = False,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self.path = str(path)
        self._subject = f"spool {self.path}"
        self.cap_bytes = cap_bytes
        self.read_only = read_only
        if read_only:
            with self._errors("open (read-only)"):
                self._db = open_read_only(
                    self.path, self._subject, busy_timeout_s=busy_timeout_s, newest_version=SCHEMA_VERSION
                )
                self._page_size_bytes = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            return
        with self._errors("open"):
            # One transaction per batch (BEGIN IMMEDIATE ... COMMIT): SqliteFile._transaction.
            self._db = open_read_write(
                self.path,
                self._subject,
                synchronous=synchronous,
                busy_timeout_s=busy_timeout_s,
                newest_version=SCHEMA_VERSION,
            )
            self._page_size_bytes = int(self._db.execute("PRAGMA page_size").fetchone()[0])
            if max_file_bytes is not None:
                self._db.execute(f"PRAGMA max_page_count={max(1, max_file_bytes // self._page_size_bytes)}")
            # A current spool needs no write to open: another process's lock cannot stop it.
            if user_version(self._db) < SCHEMA_VERSION or not self.has_table("points"):
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._key_points()

    # -- appending -------------------------------------------------------------------------

    def append(self, records: Iterable[Record]) -> int:
        """Append records in one transaction; the number of points written.

        Records whose fields are all non-finite have no line-protocol form and are skipped.

        Raises
        ------
        ValueError
            A name line protocol cannot carry (see :mod:`monitor.store.line_protocol`);
            nothing of the batch is written.
        StoreError
            The spool is locked, full or unwritable; nothing of the batch is written.
        """
        rows, _ = render_records(records)
        params = [
            (r.measurement, r.tags.get("patient", ""), r.time_ns, is_droppable(r.measurement), series, fields)
            for r, series, fields in rows
        ]
        return self._insert(params)

    def append_series(self, series: NumericSeries) -> int:
        """Append a columnar numeric series in one transaction; the number of points written."""
        key, fields, times = series.render()
        patient = series.tags.get("patient", "")
        droppable = is_droppable(series.measurement)
        params = [
            (series.measurement, patient, t, droppable, key, f)
            for t, f in zip(times.tolist(), fields, strict=True)
        ]
        return self._insert(params)

    def _insert(self, params: list[tuple[str, str, int, bool, str, str]]) -> int:
        if not params:
            return 0
        while True:
            try:
                with self._errors("append to"), self._transaction():
                    self._db.executemany(_INSERT, params)
                    # A replaced point that the server had refused takes its refusal with it (a
                    # key lookup per refused row: the refusals are few, the points many).
                    self._db.execute(_FORGET_REPLACED_REFUSALS)
                break
            except StoreFullError:
                # Make room as the size cap would (sent rows, then high-rate rows), then retry;
                # only when nothing is left to prune does the full disk reach the caller.
                if not self._make_room(len(params)):
                    raise
        if self.used_bytes() > self.cap_bytes:
            self._enforce_cap()
        return len(params)

    # -- the embedded store's queries ------------------------------------------------------

    def query(
        self,
        start_ns: int,
        end_ns: int,
        *,
        measurement: str | None = None,
        patient: str | None = None,
        kept_only: bool = False,
    ) -> list[Record]:
        """Records with ``start_ns <= time_ns < end_ns``, optionally of one measurement and
        patient, in time order. Set-aside rows (refused by the server) are included: they are
        still the patient's data. ``kept_only`` leaves out the rows of the high-rate droppable
        series (a day of them is millions of rows)."""
        where, args = where_clause(
            [
                ("time_ns >= ?", start_ns),
                ("time_ns < ?", end_ns),
                ("measurement = ?", measurement),
                ("patient = ?", patient),
            ]
        )
        if kept_only:
            where += " AND droppable = 0"
        sql = f"SELECT series, fields, time_ns FROM points{where} ORDER BY time_ns, id"
        parsed: dict[str, tuple[str, dict[str, str]]] = {}
        records = []
        with self._errors("read"):
            for series, fields, time_ns in self._db.execute(sql, args):
                if series not in parsed:
                    parsed[series] = parse_series(series)
                name, tags = parsed[series]
                records.append(Record(name, time_ns, parse_fields(fields), dict(tags)))
        return records

    def count(self, state: int | None = None) -> int:
        """Number of rows, or of rows in one state (PENDING, SENT, SET_ASIDE)."""
        where = {
            None: "1",
            PENDING: f"id > ({_WATERMARK})",
            SENT: f"id <= ({_WATERMARK}) AND id NOT IN (SELECT point_id FROM set_aside)",
            SET_ASIDE: "id IN (SELECT point_id FROM set_aside)",
        }[state]
        with self._errors("read"):
            return int(self._db.execute(f"SELECT count(*) FROM points WHERE {where}").fetchone()[0])

    # -- what the forwarder uses -----------------------------------------------------------

    def next_batch(self, max_points: int, after_id: int = 0) -> Batch | None:
        """The oldest pending rows after ``after_id`` joined into one body, or None."""
        # The join happens inside SQLite (C), not in a Python loop over rows.
        sql = f"""SELECT min(id), max(id), count(*), group_concat(line, char(10)) FROM (
                     SELECT id, series || ' ' || fields || ' ' || time_ns AS line FROM points
                     WHERE id > max(?, ({_WATERMARK})) ORDER BY id LIMIT ?)"""
        with self._errors("read"):
            first_id, last_id, n_points, body = self._db.execute(sql, (after_id, max_points)).fetchone()
        if not n_points:
            return None
        return Batch(first_id, last_id, n_points, body.encode())

    def pending_lines(self, first_id: int, last_id: int) -> list[tuple[int, str]]:
        """``(id, line)`` of the pending rows in an id range: a refused batch, to split."""
        sql = f"""SELECT id, series || ' ' || fields || ' ' || time_ns FROM points
                 WHERE id BETWEEN max(?, ({_WATERMARK}) + 1) AND ?
                 AND id NOT IN (SELECT point_id FROM set_aside) ORDER BY id"""
        with self._errors("read"):
            return [(int(i), str(line)) for i, line in self._db.execute(sql, (first_id, last_id))]

    def mark_sent(self, first_id: int, last_id: int) -> None:
        """Mark an acknowledged batch sent: every row up to ``last_id`` is done.

        Batches must be marked in id order, as the forwarder sends them. The time of the mark
        is kept as the forwarder's last success (``store status``, the stalled alert).
        """
        with self._errors("update"), self._transaction():
            self._db.execute(
                "UPDATE progress SET value = max(value, ?) WHERE key = 'sent_upto_id'", (last_id,)
            )
            self._db.execute(
                "INSERT OR REPLACE INTO forward_log VALUES ('last_sent', ?, ?)",
                (time.time_ns(), f"ids {first_id}..{last_id}"),
            )

    def note_forward_error(self, message: str) -> None:
        """Keep the forwarder's latest error, for ``store status`` in another process."""
        with self._errors("update"), self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO forward_log VALUES ('last_error', ?, ?)", (time.time_ns(), message)
            )

    def requeue_set_aside(self) -> int:
        """Queue every set-aside row again (the server was fixed); the number of rows.

        Each row is copied to a new id above the watermark, so the forwarder sends it in turn,
        and its refusal is forgotten; a new refusal sets it aside again.
        """
        with self._errors("update"), self._transaction():
            ids = [int(i) for (i,) in self._db.execute("SELECT point_id FROM set_aside ORDER BY point_id")]
            if not ids:
                return 0
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS requeue (id INTEGER PRIMARY KEY)")
            self._db.execute("DELETE FROM temp.requeue")
            self._db.executemany("INSERT INTO temp.requeue VALUES (?)", [(i,) for i in ids])
            # OR REPLACE removes a kept row's old copy (same series and time) by itself ...
            self._db.execute(
                """INSERT OR REPLACE INTO points (measurement, patient, time_ns, droppable, series, fields)
                   SELECT measurement, patient, time_ns, droppable, series, fields FROM points
                   WHERE id IN (SELECT id FROM temp.requeue) ORDER BY id"""
            )
            # ... a high-rate row's old copy is removed here.
            self._db.execute("DELETE FROM points WHERE id IN (SELECT id FROM temp.requeue)")
            self._db.execute("DELETE FROM set_aside")
            self._db.execute("DELETE FROM temp.requeue")
        return len(ids)

    def resend_all(self) -> None:
        """Queue every row again, except set-aside ones: to fill a new, empty database."""
        with self._errors("update"), self._transaction():
            self._db.execute("UPDATE progress SET value = 0 WHERE key = 'sent_upto_id'")

    def set_aside(self, point_ids: list[int], status: int, error: str) -> None:
        """Move refused rows out of the queue, keeping the server's error with each."""
        now_ns = time.time_ns()
        with self._errors("update"), self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO set_aside VALUES (?,?,?,?)",
                [(i, status, error, now_ns) for i in point_ids],
            )

    def set_aside_points(self) -> list[SetAside]:
        """Every refused point, oldest first, with the server's status and error."""
        sql = """SELECT p.id, p.series || ' ' || p.fields || ' ' || p.time_ns, s.status, s.error
                 FROM set_aside s JOIN points p ON p.id = s.point_id ORDER BY p.id"""
        with self._errors("read"):
            return [SetAside(int(i), str(line), int(st), str(e)) for i, line, st, e in self._db.execute(sql)]

    def delete_points(self, where: str, args: tuple[object, ...] = (), batch_rows: int = 10_000) -> int:
        """Delete the rows matching ``where`` (SQL over ``points``); the number deleted.

        For retention and a patient's erasure (:mod:`monitor.store.retention`). Deletes in
        transactions of ``batch_rows``, so a writer in another process waits at most one batch;
        the refusals of deleted rows go with them.
        """
        chosen = f"SELECT id FROM points WHERE {where} ORDER BY id LIMIT {int(batch_rows)}"
        total = 0
        while True:
            with self._errors("delete from"), self._transaction():
                deleted = int(self._db.execute(f"DELETE FROM points WHERE id IN ({chosen})", args).rowcount)
                self._db.execute("DELETE FROM set_aside WHERE point_id NOT IN (SELECT id FROM points)")
            total += deleted
            if deleted < batch_rows:
                return total

    # -- size ------------------------------------------------------------------------------

    def used_bytes(self) -> int:
        """Bytes of pages in use (the file minus its free pages)."""
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return (pages - free) * self._page_size_bytes

    def _make_room(self, n_rows: int) -> int:
        """Prune for a batch of ``n_rows`` the full disk refused; the rows deleted (0: none left)."""
        sent = f"id <= ({_WATERMARK}) AND id NOT IN (SELECT point_id FROM set_aside)"
        for condition in (sent, "droppable = 1"):
            try:
                deleted = self._delete_oldest(condition, max(MIN_DELETE_ROWS, n_rows))
            except StoreFullError:  # not even the deletion fits (a truly full disk's WAL)
                return 0
            if deleted:
                log.warning("spool %s is full: pruned %d rows to make room", self.path, deleted)
                return deleted
        return 0

    def _enforce_cap(self) -> None:
        target_bytes = int(self.cap_bytes * CAP_TARGET_FRACTION)
        sent = f"id <= ({_WATERMARK}) AND id NOT IN (SELECT point_id FROM set_aside)"
        for condition in (sent, "droppable = 1"):
            while self.used_bytes() > target_bytes:
                n_rows = self.count()
                if n_rows == 0:
                    break
                bytes_per_row = max(1.0, self.used_bytes() / n_rows)
                # Freed space counts only in whole pages: delete at least a few pages' worth.
                n_delete = max(MIN_DELETE_ROWS, int((self.used_bytes() - target_bytes) / bytes_per_row) + 1)
                if not self._delete_oldest(condition, n_delete):
                    break
        if self.used_bytes() > self.cap_bytes:
            log.warning(
                "spool %s holds %d bytes, over its cap of %d, and all of it is never-drop data",
                self.path,
                self.used_bytes(),
                self.cap_bytes,
            )

    def _delete_oldest(self, condition: str, n_rows: int) -> int:
        chosen = f"SELECT id FROM points WHERE {condition} ORDER BY id LIMIT {int(n_rows)}"
        summary = f"""SELECT measurement, patient, count(*), min(time_ns), max(time_ns) FROM points
                      WHERE id IN ({chosen})
                      AND (id > ({_WATERMARK}) OR id IN (SELECT point_id FROM set_aside))
                      GROUP BY measurement, patient"""
        with self._errors("prune"), self._transaction():
            drops = self._db.execute(summary).fetchall()
            deleted = self._db.execute(f"DELETE FROM points WHERE id IN ({chosen})").rowcount
            self._db.execute("DELETE FROM set_aside WHERE point_id NOT IN (SELECT id FROM points)")
            now_ns = time.time_ns()
            drop_records = [
                Record(
                    SPOOL_DROP,
                    now_ns,
                    {"dropped_points": int(n), "first_ns": int(first), "last_ns": int(last)},
                    {"dropped_measurement": m, "patient": p},
                )
                for m, p, n, first, last in drops
            ]
            rows, _ = render_records(drop_records)
            self._db.executemany(
                _INSERT, [(SPOOL_DROP, r.tags["patient"], r.time_ns, False, s, f) for r, s, f in rows]
            )
        for m, p, n, _, _ in drops:
            log.warning(
                "spool %s over its cap: dropped %d unsent %s points of patient %r", self.path, n, m, p
            )
        return int(deleted)

    # -- plumbing --------------------------------------------------------------------------

    def rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """The rows of one read-only SQL statement (status reports in :mod:`monitor.store`)."""
        with self._errors("read"):
            return [tuple(row) for row in self._db.execute(sql, args)]

    def has_table(self, name: str) -> bool:
        """Whether the spool has a table (an old spool opened read-only may lack newer ones)."""
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self._db.execute(sql, (name,)).fetchone() is not None

    def _key_points(self) -> None:
        """Key kept points by series and time; a spool written before the key keeps its latest."""
        index = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
        if self._db.execute(index, (_KEY_INDEX,)).fetchone() is not None:
            return
        with self._transaction():
            self._db.execute(
                """DELETE FROM points WHERE droppable = 0 AND id NOT IN (
                       SELECT max(id) FROM points WHERE droppable = 0 GROUP BY series, time_ns)"""
            )
            self._db.execute("DELETE FROM set_aside WHERE point_id NOT IN (SELECT id FROM points)")
            self._db.execute(_CREATE_KEY_INDEX)
