"""Drains the spool into a database, losing nothing across outages, restarts and crashes.

Rows are marked sent only after the server acknowledged their batch with 2xx. A crash
between the acknowledgement and the mark makes the batch go again after a restart; that
is harmless because InfluxDB keeps one point per (measurement, tag set, timestamp) and
our timestamps are the exact ns of the device clock, so the resend overwrites itself.

While one batch is on the wire the next one is read from SQLite (in the forwarder's own
database thread), so the spool adds little to the server's own write time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from monitor.store.spool import Batch, Spool
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


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter between retries of one batch.

    Attempt ``k`` waits a uniform random time in ``[0.5, 1] * min(max_s, first_s * 2**k)``:
    the jitter spreads many gateways that lost the same server, so they do not return in step.
    A server's ``Retry-After`` (429/503) replaces the computed wait, up to ``retry_after_max_s``.
    """

    first_s: float = 0.5
    max_s: float = 30.0
    retry_after_max_s: float = 300.0
    access_error_s: float = 60.0  # 401/403/404 need a human: retry slowly, do not hammer

    def delay_s(self, attempt: int, error: RetryableWriteError, rng: random.Random) -> float:
        if error.retry_after_s is not None:
            return min(error.retry_after_s, self.retry_after_max_s)
        if isinstance(error, AccessWriteError):
            return self.access_error_s
        return rng.uniform(0.5, 1.0) * min(self.max_s, self.first_s * 2.0**attempt)


@dataclass(slots=True)
class ForwardStats:
    """What one run of the forwarder did."""

    sent_points: int = 0
    sent_batches: int = 0
    retries: int = 0
    set_aside_points: int = 0
    errors: list[str] = field(default_factory=list)  # the last few, for a status line


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
        Waits between retries.
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
        backoff: Backoff | None = None,
        spool_options: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        if batch_points < 1:
            raise ValueError(f"batch_points must be >= 1, got {batch_points}")
        self.writer = writer
        self.batch_points = batch_points
        self.backoff = backoff or Backoff()
        self.stats = ForwardStats()
        self._rng = random.Random(seed)
        self._spool_path = spool_path
        self._spool_options = spool_options or {}
        self._spool: Spool | None = None
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-fwd")
        self._stop = asyncio.Event()

    async def drain(self) -> ForwardStats:
        """Forward until no pending row is left (retrying through outages); the stats."""
        await self._pump(until_empty=True)
        return self.stats

    async def run(self, stop: asyncio.Event) -> ForwardStats:
        """Forward new rows as they arrive, until ``stop`` is set; the stats."""
        self._stop = stop
        await self._pump(until_empty=False)
        return self.stats

    async def close(self) -> None:
        """Close the writer and the forwarder's spool connection."""
        await self.writer.close()
        if self._spool is not None:
            await self._db(Spool.close)
            self._spool = None
        self._thread.shutdown(wait=True)

    # -- the loop --------------------------------------------------------------------------

    async def _pump(self, until_empty: bool) -> None:
        cursor = 0
        marks: list[asyncio.Future[None]] = []
        prefetch: asyncio.Future[Batch | None] | None = None
        batch = await self._db(Spool.next_batch, self.batch_points, cursor)
        try:
            while not self._stop.is_set():
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
                self.stats.sent_batches += 1
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
            self._note(f"set aside point {point_id}: {error}")
            return
        self.stats.sent_points += len(rows)

    async def _send_with_retries(self, body: bytes) -> None:
        attempt = 0
        while True:
            try:
                await self.writer.write(body)
                return
            except RetryableWriteError as error:
                delay_s = self.backoff.delay_s(attempt, error, self._rng)
                self.stats.retries += 1
                self._note(str(error))
                level = logging.ERROR if isinstance(error, AccessWriteError) else logging.WARNING
                log.log(
                    level, "%r: %s; retrying in %.1f s (attempt %d)", self.writer, error, delay_s, attempt + 1
                )
                await self._sleep(delay_s, raise_on_stop=True)
                attempt += 1

    # -- plumbing --------------------------------------------------------------------------

    async def _sleep(self, seconds: float, raise_on_stop: bool) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return
        if raise_on_stop:
            raise _StoppedError

    async def _db(self, method: Callable[Concatenate[Spool, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``method(spool, ...)`` on the forwarder's database thread (its own connection)."""

        def run() -> T:
            if self._spool is None:
                self._spool = Spool(self._spool_path, **self._spool_options)
            return method(self._spool, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    def _note(self, message: str) -> None:
        self.stats.errors = [*self.stats.errors[-4:], message]
