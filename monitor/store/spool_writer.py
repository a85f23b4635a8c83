"""Appends to the spool from asyncio: off the event loop, and through a locked or full spool.

A live run must neither stall nor stop because another process holds SQLite's write lock
(a backup, ``sqlite3`` in a shell) or because the disk is full. :class:`SpoolWriter` takes
records without blocking (:meth:`SpoolWriter.append` only queues them), and one task writes
the held batches on a thread of its own, one transaction per pass. A busy or full spool
keeps the records held and is retried with backoff. The spool itself prunes on a full disk
(acknowledged rows, then high-rate rows: :mod:`monitor.store.spool`); what it cannot make
room for stays held, and when the held records exceed ``max_held_points`` the oldest
high-rate ones are dropped. Every such drop is counted (:class:`AppendStats`), logged and
written as a ``spool_drop`` record, which is never dropped.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import StoreError
from monitor.store.line_protocol import render_records
from monitor.store.schema import SPOOL_DROP, is_droppable
from monitor.store.spool import Spool
from monitor.store.sqlite import StoreBusyError, StoreFullError
from monitor.types import Record

log = logging.getLogger(__name__)

WRITER_BUSY_TIMEOUT_S = 1.0  # one attempt's wait for the lock; retries continue after it
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0
DEFAULT_MAX_HELD_POINTS = 200_000  # ~100 MB of Records: hours of a full gateway's output
LOG_EVERY_N_FAILURES = 10  # a lock held for an hour logs a few lines, not thousands


@dataclass(slots=True)
class AppendStats:
    """What the writer did; the live status line shows it."""

    held_points: int = 0  # taken but not yet committed
    busy_retries: int = 0
    full_retries: int = 0
    dropped_points: int = 0  # high-rate points dropped while held (full spool), or unrenderable
    failing_since_s: float | None = None  # monotonic time of the first failure of the current run
    last_error: str = ""
    failing_kind: str = ""  # LOCKED, FULL or FAILING
    dropped_by_measurement: dict[str, int] = field(default_factory=dict)

    def health(self) -> str:
        """A few words for a status line: ``spool ok`` or what is wrong."""
        words = "spool ok"
        if self.failing_since_s is not None:
            failing_s = time.monotonic() - self.failing_since_s
            words = f"spool {self.failing_kind} {failing_s:.0f} s, {self.held_points:,} points held"
        if self.dropped_points:
            words += f", {self.dropped_points:,} points dropped"
        return words


class SpoolWriter:
    """Queue records for the spool at ``path``; one task writes them on its own thread.

    Parameters
    ----------
    path : str or Path
        The spool file; the writer opens its own connection on its own thread.
    spool_options : dict or None
        Keyword arguments for the writer's :class:`Spool` (``cap_bytes``, ``max_file_bytes``).
    max_held_points : int
        Records held beyond this while the spool cannot take them lose their oldest
        high-rate rows (never events, gaps, alerts or any other kept measurement).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        spool_options: dict[str, Any] | None = None,
        max_held_points: int = DEFAULT_MAX_HELD_POINTS,
    ) -> None:
        self.path = str(path)
        self.stats = AppendStats()
        self.max_held_points = max_held_points
        self._options = {"busy_timeout_s": WRITER_BUSY_TIMEOUT_S, **(spool_options or {})}
        self._spool: Spool | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-append")
        self._held: collections.deque[list[Record]] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0  # held batches being written now: never thinned

    def append(self, records: Iterable[Record]) -> int:
        """Take records for the spool without blocking; the number taken.

        They are committed in order by the writer task (:meth:`flush` waits for that).
        """
        batch = list(records)
        if not batch:
            return 0
        self._held.append(batch)
        self.stats.held_points += len(batch)
        if self.stats.held_points > self.max_held_points:
            self._drop_held_high_rate()
        self._idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="spool-writer")
        return len(batch)

    async def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every record taken is committed; False when ``timeout_s`` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout_s: float = 15.0) -> None:
        """Commit what is held (up to ``timeout_s``), then stop; what is left is logged loudly."""
        if not await self.flush(timeout_s):
            log.error(
                "%d records could not be stored in spool %s before stopping: %s",
                self.stats.held_points,
                self.path,
                self.stats.last_error,
            )
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._spool is not None:
            spool, self._spool = self._spool, None
            await asyncio.get_running_loop().run_in_executor(self._thread, spool.close)
        self._thread.shutdown(wait=True)

    # -- the writer task -------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            if not self._held:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            n_batches = self._in_flight = len(self._held)
            batch = [r for b in self._held for r in b]
            try:
                await loop.run_in_executor(self._thread, self._write, batch)
            except Exception as error:  # locked, full, unwritable, or a bug: hold and retry
                self._in_flight = 0
                if not isinstance(error, StoreError) and failures == 0:
                    log.exception("unexpected failure writing spool %s", self.path)
                failures += 1
                self._failed(error, failures)
                await asyncio.sleep(min(RETRY_MAX_S, RETRY_FIRST_S * 2.0 ** min(failures, 16)))
                continue
            for _ in range(n_batches):
                self.stats.held_points -= len(self._held.popleft())
            self._in_flight = 0
            if failures:
                log.warning("spool %s writable again after %d failed attempts", self.path, failures)
            failures = 0
            self.stats.failing_since_s = None

    def _write(self, batch: list[Record]) -> None:
        """On the writer thread: commit the batch; unrenderable records are dropped and counted."""
        if self._spool is None:
            self._spool = Spool(self.path, **self._options)
        try:
            self._spool.append(batch)
        except ValueError:
            # One record line protocol cannot carry must not cost the rest of the batch.
            kept = []
            for record in batch:
                try:
                    render_records([record])
                except ValueError as error:
                    self._count_drop(record, f"cannot be stored: {error}")
                    continue
                kept.append(record)
            self._spool.append(kept)

    def _failed(self, error: Exception, failures: int) -> None:
        self.stats.failing_kind = "FAILING"
        if isinstance(error, StoreBusyError):
            self.stats.busy_retries += 1
            self.stats.failing_kind = "LOCKED"
        elif isinstance(error, StoreFullError):
            self.stats.full_retries += 1
            self.stats.failing_kind = "FULL"
        if self.stats.failing_since_s is None:
            self.stats.failing_since_s = time.monotonic()
        self.stats.last_error = str(error)
        if failures == 1 or failures % LOG_EVERY_N_FAILURES == 0:
            log.warning(
                "%s; holding %d points and retrying (attempt %d)", error, self.stats.held_points, failures
            )

    def _drop_held_high_rate(self) -> None:
        """Drop the oldest held high-rate records until under the bound, recording the drops."""
        excess = self.stats.held_points - self.max_held_points
        dropped: list[Record] = []
        for index, batch in enumerate(self._held):
            if index < self._in_flight:
                continue
            if excess <= 0:
                break
            keep = []
            for record in batch:
                if excess > 0 and is_droppable(record.measurement):
                    dropped.append(record)
                    excess -= 1
                else:
                    keep.append(record)
            batch[:] = keep
        if not dropped:
            return  # only never-drop records are held: they stay, whatever the memory
        self.stats.held_points -= len(dropped)
        drops: dict[tuple[str, str], list[int]] = {}
        for record in dropped:
            self._count_drop(record, "held while the spool was full or locked")
            key = (record.measurement, record.tags.get("patient", ""))
            n_first_last = drops.setdefault(key, [0, record.time_ns, record.time_ns])
            n_first_last[0] += 1
            n_first_last[1] = min(n_first_last[1], record.time_ns)
            n_first_last[2] = max(n_first_last[2], record.time_ns)
        now_ns = time.time_ns()
        self._held.append(
            [
                Record(
                    SPOOL_DROP,
                    now_ns,
                    {"dropped_points": n, "first_ns": first, "last_ns": last},
                    {"dropped_measurement": measurement, "patient": patient},
                )
                for (measurement, patient), (n, first, last) in drops.items()
            ]
        )
        self.stats.held_points += len(drops)
        log.warning(
            "spool %s cannot take records (%s): dropped %d held high-rate points",
            self.path,
            self.stats.last_error,
            len(dropped),
        )

    def _count_drop(self, record: Record, why: str) -> None:
        self.stats.dropped_points += 1
        by = self.stats.dropped_by_measurement
        by[record.measurement] = by.get(record.measurement, 0) + 1
        if by[record.measurement] == 1:
            log.warning("a %s record was dropped: %s", record.measurement, why)
