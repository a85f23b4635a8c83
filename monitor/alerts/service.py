"""Wire the engine to its outputs: every alert is stored as an ``alert`` record and notified."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from monitor.alerts.alert import Alert
from monitor.alerts.engine import AlertEngine
from monitor.alerts.notify import Notifier
from monitor.store.forwarder import ForwardStats
from monitor.types import Record


class RecordSink(Protocol):
    """Where alert records go: a :class:`~monitor.store.Spool` or a :class:`~monitor.store.SpoolWriter`."""

    def append(self, records: Iterable[Record]) -> int: ...


class AlertService:
    """Feed records to an :class:`AlertEngine`; store and notify what it raises.

    Parameters
    ----------
    engine : AlertEngine
        The rules and their state.
    spool : Spool or SpoolWriter
        Where ``alert`` records go (and from there to InfluxDB and the dashboards).
    notifier : Notifier or None
        Where notifications go; None stores alerts without notifying.
    """

    def __init__(self, engine: AlertEngine, spool: RecordSink, notifier: Notifier | None = None) -> None:
        self.engine = engine
        self.spool = spool
        self.notifier = notifier
        self.undelivered = 0  # alerts no notification reached (none configured, or refused)

    async def consume(self, records: Iterable[Record]) -> list[Alert]:
        """Process records in time order; the alerts raised, each stored and notified."""
        return await self._emit(self.engine.process_all(records))

    async def tick(self, now_ns: int) -> list[Alert]:
        """Advance time with no new record (a silent device is only noticed this way)."""
        return await self._emit(self.engine.tick(now_ns))

    async def forwarding(self, now_ns: int, stats: ForwardStats, patient: str) -> list[Alert]:
        """Check the forwarder's progress (the forward-stalled rule); the alerts raised."""
        detail = stats.errors[-1] if stats.errors else ""
        return await self._emit(self.engine.forwarding(now_ns, stats.stalled_s(now_ns), patient, detail))

    async def _emit(self, alerts: list[Alert]) -> list[Alert]:
        for alert in alerts:
            # Notify first so the stored record says whether anyone was told; a failed
            # notification must still leave the alert in the record stream.
            delivered = await self.notifier.send(alert) if self.notifier is not None else False
            self.undelivered += not delivered
            self.spool.append([alert.to_record(delivered=delivered)])
        return alerts
