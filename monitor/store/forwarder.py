"""Drains the spool into a database, losing nothing across outages, restarts and crashes.

Rows are marked sent only after the server acknowledged their batch with 2xx. A crash
between the acknowledgement and the mark makes the batch go again after a restart; that
is harmless because InfluxDB keeps one point per (measurement, tag set, timestamp) and
our timestamps are the exact ns of the device clock, so the resend overwrites itself.

While one batch is on the wire the next one is read from SQLite (in the forwarder's own
database thread), so the spool adds little to the server's own write time.

Stopping never waits on the server: a request still unanswered ``STOP_GRACE_S`` after the
stop is abandoned, and its points stay queued for the next run (a hung InfluxDB must not
hold ``run`` past systemd's ``TimeoutStopSec``). The time of the last acknowledged batch and
the last error are kept in the spool, for ``spasm-monitor store status``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from monitor.backoff import Backoff
from monitor.errors import StoreError
from monitor.store.spool import Batch, Spool
from monitor.store.sqlite import StoreBusyError
from monitor.store.writer import (
    AccessWriteError,
    RejectedWriteError,
    RetryableWriteError,
    TooLargeWriteError,
    Writer,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_BATCH_POINTS = 10_000  # ~0.8 MB of body: InfluxDB's own advice is 5-10k points a request
IDLE_POLL_S = 1.0  # how often an empty spool is looked at again
STOP_GRACE_S = 5.0  # an in-flight request may finish this long after the stop, then is abandoned
BUSY_RETRY_MAX_S = 5.0  # longest wait between tries of a spool another process has locked


# Waits between retries of one batch. The full jitter spreads many gateways that lost the
# same server, so they do not return in step.
DEFAULT_BACKOFF = Backoff(first_s=0.5, max_s=30.0)
RETRY_AFTER_MAX_S = 300.0  # longest server-requested wait (429/503 ``Retry-After``) obeyed
ACCESS_ERROR_S = 60.0  # 401/403/404 need a human: retry slowly, do not hammer


@dataclass(slots=True)
class ForwardStats:
    """What one run of the forwarder did."""

    sent_points: int = 0
    retries: int = 0
    set_aside_points: int = 0
    errors: list[str] = field(default_factory=list)  # the last few, for a status line
    started_ns: int = field(default_factory=time.time_ns)  # wall clock, UTC ns
    last_sent_ns: int | None = None  # wall clock of the last acknowledged batch, UTC ns
    last_error_ns: int | None = None  # wall clock of the last error, UTC ns
    queued: bool = False  # the last look at the spool found rows to send

    def stalled_s(self, now_ns: int) -> float:
        """How long rows have waited with nothing acknowledged, s (0 when nothing is queued)."""
        if not self.queued:
            return 0.0
        return max(0, now_ns - (self.last_sent_ns or self.started_ns)) / 1e9

    def health(self, now_ns: int) -> str:
        """A few words for a status line: ``influx ok`` or what is wrong."""
        if self.last_error_ns is not None and self.last_error_ns >= (self.last_sent_ns or 0):
            stalled_s = self.stalled_s(now_ns)
            since = f" {stalled_s / 60:.0f} min" if stalled_s >= 60 else ""
            return f"influx FAILING{since}: {self.errors[-1][:60] if self.errors else '?'}"
        if self.set_aside_points:
            return f"influx ok, {self.set_aside_points:,} points refused (see `store status`)"
        return "influx ok"


class _StoppedError(Exception):
    """The stop event was set while waiting to retry."""


class Forwarder:
    """Moves pending spool rows to a :class:`~monitor.store.writer.Writer`.

    Parameters
    ----------
    spool_path : str or Path
        The spool file; the forwarder opens its own connection in its own thread.
    writer : Writer
        Where the points go (InfluxV1Writer, InfluxV2Writer).
    batch_points : int
        Points per request body.
    backoff : Backoff
        Waits between retries (full jitter); a server's ``Retry-After`` replaces it.
    retry_after_max_s : float
        Longest ``Retry-After`` obeyed, s.
    access_error_s : float
        Wait after a 401/403/404 (needs a human, not a quicker retry), s.
    spool_options : dict or None
        Keyword arguments for the forwarder's :class:`Spool` (``synchronous``, ``busy_timeout_s``).
    seed : int or None
        Seed of the jitter, for reproducible tests.
    """

    def __init__(
        self,
        spool_path: str | Path,
        writer: Writer,
        *,
        batch_points: int = DEFAULT_BATCH_POINTS,
        backoff: Backoff = DEFAULT_BACKOFF,
        retry_after_max_s: float = RETRY_AFTER_MAX_S,
        access_error_s: float = ACCESS_ERROR_S,
        spool_options: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        if batch_points < 1:
            raise ValueError(f"batch_points must be >= 1, got {batch_points}")
        self.writer = writer
        self.batch_points = batch_points
        self.backoff = backoff
        self.retry_after_max_s = retry_after_max_s
        self.access_error_s = access_error_s
        self.stats = ForwardStats()
        self._rng = random.Random(seed)
        self._spool_path = spool_path
        self._spool_options = spool_options or {}
        self._spool: Spool | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-fwd")
        self._stop = asyncio.Event()

    async def drain(self, stop: asyncio.Event | None = None) -> ForwardStats:
        """Forward until no pending row is left (retrying through outages) or ``stop`` is set."""
        return await self._until(stop or asyncio.Event(), until_empty=True)

    async def run(self, stop: asyncio.Event) -> ForwardStats:
        """Forward new rows as they arrive, until ``stop`` is set; the stats.

        Returns at most ``STOP_GRACE_S`` after ``stop`` is set, even with a request to a hung
        server in flight (its rows stay queued).
        """
        return await self._until(stop, until_empty=False)

    async def close(self) -> None:
        """Close the writer and the forwarder's spool connection."""
        await self.writer.close()
        if self._spool is not None:
            await self._db(Spool.close)
            self._spool = None
        self._thread.shutdown(wait=True)

    # -- the loop --------------------------------------------------------------------------

    async def _until(self, stop: asyncio.Event, until_empty: bool) -> ForwardStats:
        self._stop = stop
        pump = asyncio.ensure_future(self._pump(until_empty))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([pump, stopping], return_when=asyncio.FIRST_COMPLETED)
            if not pump.done():
                await asyncio.wait([pump], timeout=STOP_GRACE_S)
            if not pump.done():
                log.warning(
                    "%r did not answer within %.0f s of the stop; its batch stays queued",
                    self.writer,
                    STOP_GRACE_S,
                )
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
                return self.stats
        finally:
            stopping.cancel()
        await pump  # re-raises a failure of the loop
        return self.stats

    async def _pump(self, until_empty: bool) -> None:
        cursor = 0
        marks: list[asyncio.Future[None]] = []
        prefetch: asyncio.Future[Batch | None] | None = None
        batch = await self._db(Spool.next_batch, self.batch_points, cursor)
        try:
            while not self._stop.is_set():
                self.stats.queued = batch is not None
                if batch is None:
                    await asyncio.gather(*marks)
                    marks.clear()
                    if until_empty:
                        return
                    await self._sleep(IDLE_POLL_S, raise_on_stop=False)
                    batch = await self._db(Spool.next_batch, self.batch_points, cursor)
                    continue
                after = batch.last_id
                prefetch = asyncio.ensure_future(self._db(Spool.next_batch, self.batch_points, after))
                await self._deliver(batch)
                first, last = batch.first_id, batch.last_id
                # Queued on the database thread behind the prefetch; awaited before stopping.
                marks.append(asyncio.ensure_future(self._db(Spool.mark_sent, first, last)))
                for done in [m for m in marks if m.done()]:
                    done.result()  # a failed mark (locked spool) stops the forwarder loudly
                    marks.remove(done)
                cursor = batch.last_id
                batch = await prefetch
        except _StoppedError:
            pass
        finally:
            if prefetch is not None:
                await asyncio.gather(prefetch, return_exceptions=True)
            await asyncio.gather(*marks)

    async def _deliver(self, batch: Batch) -> None:
        """Send one batch until acknowledged; refused points are set aside."""
        try:
            await self._send_with_retries(batch.body)
        except (RejectedWriteError, TooLargeWriteError) as error:
            log.warning(
                "%r refused a batch of %d points (%s); isolating the bad ones",
                self.writer,
                batch.n_points,
                error,
            )
            if isinstance(error, TooLargeWriteError):
                self.batch_points = max(1, self.batch_points // 2)  # the next batches too
            rows = await self._db(Spool.pending_lines, batch.first_id, batch.last_id)
            await self._deliver_rows(rows)
            return
        self.stats.sent_points += batch.n_points
        self.stats.last_sent_ns = time.time_ns()

    async def _deliver_rows(self, rows: list[tuple[int, str]]) -> None:
        """Send rows, halving on refusal, until every row is acknowledged or set aside.

        Halving costs about 2·log2(n) requests per bad point, and re-sending the good
        halves is harmless (points overwrite themselves).
        """
        body = "\n".join(line for _, line in rows).encode()
        try:
            await self._send_with_retries(body)
        except (RejectedWriteError, TooLargeWriteError) as error:
            if len(rows) > 1:
                half = len(rows) // 2
                await self._deliver_rows(rows[:half])
                await self._deliver_rows(rows[half:])
                return
            if isinstance(error, TooLargeWriteError):
                log.error("%r refuses even one point as too large; setting it aside", self.writer)
            point_id = rows[0][0]
            await self._db(Spool.set_aside, [point_id], error.status, error.message)
            self.stats.set_aside_points += 1
            await self._note(f"set aside point {point_id}: {error}", failing=False)
            return
        self.stats.sent_points += len(rows)
        self.stats.last_sent_ns = time.time_ns()

    async def _send_with_retries(self, body: bytes) -> None:
        attempt = 0
        while True:
            try:
                await self.writer.write(body)
                return
            except RetryableWriteError as error:
                delay_s = self.retry_delay_s(attempt, error)
                self.stats.retries += 1
                await self._note(str(error))
                level = logging.ERROR if isinstance(error, AccessWriteError) else logging.WARNING
                log.log(
                    level, "%r: %s; retrying in %.1f s (attempt %d)", self.writer, error, delay_s, attempt + 1
                )
                await self._sleep(delay_s, raise_on_stop=True)
                attempt += 1

    def retry_delay_s(self, attempt: int, error: RetryableWriteError) -> float:
        """The wait before retry ``attempt`` (0-based) after ``error``, s.

        A server's ``Retry-After`` wins (up to ``retry_after_max_s``); an access error waits
        ``access_error_s``; anything else follows :attr:`backoff`.
        """
        if error.retry_after_s is not None:
            return min(error.retry_after_s, self.retry_after_max_s)
        if isinstance(error, AccessWriteError):
            return self.access_error_s
        return self.backoff.delay_s(attempt, self._rng)

    # -- plumbing --------------------------------------------------------------------------

    async def _sleep(self, seconds: float, raise_on_stop: bool) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return
        if raise_on_stop:
            raise _StoppedError

    async def _db(self, method: Callable[Concatenate[Spool, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``method(spool, ...)`` on the forwarder's database thread (its own connection).

        A spool another process has locked is tried again with backoff (not once the stop is
        set): a long-held lock delays the forwarder, it never ends it.
        """

        def run() -> T:
            if self._spool is None:
                self._spool = Spool(self._spool_path, **self._spool_options)
            return method(self._spool, *args, **kwargs)

        attempt = 0
        while True:
            try:
                return await asyncio.get_running_loop().run_in_executor(self._thread, run)
            except StoreBusyError as error:
                if self._stop.is_set():
                    raise
                attempt += 1
                if attempt == 1 or attempt % 10 == 0:
                    log.warning("%s; trying again (attempt %d)", error, attempt)
                await asyncio.sleep(min(BUSY_RETRY_MAX_S, 0.1 * 2.0 ** min(attempt, 16)))

    async def _note(self, message: str, failing: bool = True) -> None:
        """Keep an error for the status line and, for ``store status``, in the spool.

        ``failing``: forwarding is held up (not a single refused point, which is set aside).
        """
        self.stats.errors = [*self.stats.errors[-4:], message]
        if failing:
            self.stats.last_error_ns = time.time_ns()
        try:
            await self._db(Spool.note_forward_error, message)
        except StoreError as error:  # the note is for humans: it must never stop forwarding
            log.warning("could not keep the forwarding error in the spool: %s", error)
