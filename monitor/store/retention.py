"""Data rights in the spool: ``[store] retention_days`` pruning, and erasing one patient.

Retention
---------
Rows stamped before ``now - retention_days`` are deleted. With InfluxDB configured, a row
the forwarder has not yet had acknowledged is kept until it is (the server is then the
copy that retention is about; deleting an unsent row would lose it silently); with no
InfluxDB the spool is the only store and ``retention_days`` is exactly how long it keeps
data. ``run`` prunes at its start and then once a day (:class:`RetentionPruner`).

Erasure
-------
:func:`forget_patient` deletes every row of one patient (the ``patient`` column, which is
the row's ``patient`` tag), sent or not, so nothing of them is forwarded afterwards; what was
forwarded is deleted on the server by :mod:`monitor.store.influx_delete`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from monitor.errors import StoreError
from monitor.store.spool import Spool
from monitor.types import NS_PER_S

log = logging.getLogger(__name__)

NS_PER_DAY = 86_400 * NS_PER_S
PRUNE_EVERY_NS = NS_PER_DAY  # retention is counted in days: pruning daily is precise enough
_UNSENT = "id > (SELECT value FROM progress WHERE key = 'sent_upto_id')"


def prune_older_than(spool: Spool, cutoff_ns: int, *, keep_unsent: bool) -> int:
    """Delete the rows stamped before ``cutoff_ns`` (UTC ns); the number deleted.

    Parameters
    ----------
    spool : Spool
        An open, writable spool.
    cutoff_ns : int
        Rows with ``time_ns < cutoff_ns`` go.
    keep_unsent : bool
        Keep rows InfluxDB has not acknowledged yet (True when a server is configured).

    Examples
    --------
    >>> from monitor.types import Record
    >>> spool = Spool(":memory:")
    >>> spool.append([Record("gap", t, {"duration_s": 1.0}, {"patient": "p"}) for t in (1, 2, 3)])
    3
    >>> prune_older_than(spool, 3, keep_unsent=False), spool.count()
    (2, 1)
    """
    where = "time_ns < ?" + (f" AND NOT ({_UNSENT})" if keep_unsent else "")
    return spool.delete_points(where, (cutoff_ns,))


def forget_patient(spool: Spool, patient: str) -> int:
    """Delete every row of ``patient``, sent, unsent or set aside; the number deleted.

    Examples
    --------
    >>> from monitor.types import Record
    >>> spool = Spool(":memory:")
    >>> spool.append([Record("gap", 1, {"duration_s": 1.0}, {"patient": p}) for p in ("a", "b")])
    2
    >>> forget_patient(spool, "a"), spool.count()
    (1, 1)
    """
    return spool.delete_points("patient = ?", (patient,))


@dataclass
class RetentionPruner:
    """Prune a spool to ``retention_days`` when due: at the first call, then daily.

    Each call opens its own connection, so it can run in a worker thread beside the run's
    writer (``asyncio.to_thread(pruner.prune_if_due, now_ns)``).
    """

    spool_path: str
    retention_days: float | None
    keep_unsent: bool
    last_pruned_ns: int | None = None

    def due(self, now_ns: int) -> bool:
        """Whether a pruning is due: retention is set and a day passed since the last one."""
        if self.retention_days is None:
            return False
        return self.last_pruned_ns is None or now_ns - self.last_pruned_ns >= PRUNE_EVERY_NS

    def prune_if_due(self, now_ns: int | None = None) -> int:
        """Prune if :meth:`due`; the rows deleted.

        A spool that cannot be pruned now (locked too long, unwritable) is logged and tried
        again the next day: retention must never stop a run.
        """
        now_ns = time.time_ns() if now_ns is None else now_ns
        if not self.due(now_ns) or self.retention_days is None:
            return 0
        self.last_pruned_ns = now_ns
        cutoff_ns = now_ns - round(self.retention_days * NS_PER_DAY)
        try:
            with Spool(self.spool_path) as spool:
                deleted = prune_older_than(spool, cutoff_ns, keep_unsent=self.keep_unsent)
        except StoreError as error:
            log.warning("retention: could not prune %s (tried again in a day): %s", self.spool_path, error)
            return 0
        if deleted:
            log.info(
                "retention: pruned %d rows older than %g days from %s",
                deleted,
                self.retention_days,
                self.spool_path,
            )
        return deleted


__all__ = ["RetentionPruner", "forget_patient", "prune_older_than"]
