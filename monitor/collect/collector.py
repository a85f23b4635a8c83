"""The collector: one session per allow-listed wearable, one bounded queue, one consumer.

SIGINT and SIGTERM stop it cleanly: sessions stop their streams and disconnect, their final
records are queued, and everything queued reaches the sink before :meth:`Collector.run`
returns.

A sink that raises kills the consumer: BLE would go on filling a queue nobody empties. The
collector then stops as on a signal, offers what is queued to the sink once more, and
raises :class:`~monitor.collect.errors.RunStoppedError` naming the failure, so the run ends
non-zero and the service manager restarts it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from monitor.collect.backends import get_backend
from monitor.collect.config import CollectorConfig
from monitor.collect.errors import RunStoppedError
from monitor.collect.queue import FrameQueue, Item
from monitor.collect.session import DeviceSession
from monitor.types import Record

logger = logging.getLogger(__name__)

SESSION_STOP_TIMEOUT_S = 5.0  # STOP command + disconnect per wearable, in parallel

Sink = Callable[[Item], Awaitable[None] | None]


class Collector:
    """Collect every configured wearable into ``sink`` until stopped.

    Parameters
    ----------
    config : CollectorConfig
        Allow-list, radio backend, queue bound and timeouts.
    sink : callable
        Receives every Frame and Record in order (plain function or coroutine function).

    Examples
    --------
    >>> from monitor.collect import CollectorConfig, DeviceConfig
    >>> config = CollectorConfig((DeviceConfig(address="F1:00:00:00:00:01"),))
    >>> collector = Collector(config, sink=print)
    >>> [s.device_id for s in collector.sessions]
    ['F1:00:00:00:00:01']
    """

    def __init__(self, config: CollectorConfig, sink: Sink) -> None:
        self.config = config
        self.sink = sink
        self.queue = FrameQueue(config.queue_max_items)
        self.sessions = [DeviceSession(d, config, self.queue, seed=i) for i, d in enumerate(config.devices)]
        self.delivered = 0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask for a clean shutdown (safe to call from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether a shutdown was asked for (its wearables disconnect now: no fault)."""
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGINT and SIGTERM."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop)

    async def run(self) -> None:
        """Run every session and the consumer until :meth:`stop`; then flush and return."""
        tasks = [asyncio.create_task(s.run(), name=f"session {s.device_id}") for s in self.sessions]
        drain = asyncio.create_task(self._drain(), name="collector drain")
        stop = asyncio.create_task(self._stop.wait())
        await asyncio.wait([stop, drain], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        failure = drain.exception() if drain.done() else None
        if failure is not None:
            logger.error(
                "the record consumer died: %s: %s", type(failure).__name__, failure, exc_info=failure
            )
        for session in self.sessions:
            session.stop()
        _, pending = await asyncio.wait(tasks, timeout=SESSION_STOP_TIMEOUT_S)
        for task in pending:
            logger.warning("%s: no clean stop in %.0f s", task.get_name(), SESSION_STOP_TIMEOUT_S)
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        drain.cancel()
        await asyncio.gather(drain, return_exceptions=True)
        self.queue.put(
            Record("collector_stopped", time.time_ns(), {"dropped_items": self.queue.dropped_items})
        )
        try:
            while (item := self.queue.get_nowait()) is not None:
                await self._deliver(item)
        except Exception as error:
            if failure is None:
                failure = error
            # The rest of the queue is lost with the consumer: say how much.
            logger.error("%d queued items not delivered: the sink raised %s", self.queue.qsize(), error)
        finally:
            await get_backend(self.config.backend).close()
        if failure is not None:
            raise RunStoppedError(
                f"the record consumer stopped: {type(failure).__name__}: {failure}"
            ) from failure

    async def _drain(self) -> None:
        while True:
            await self._deliver(await self.queue.get())

    async def _deliver(self, item: Item) -> None:
        result = self.sink(item)
        if inspect.isawaitable(result):
            await result
        self.delivered += 1
