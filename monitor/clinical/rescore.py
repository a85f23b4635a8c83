"""Clinical scores kept current during a live run: the local day is scored again each hour.

A live run (``spasm-monitor run``, the demo's live part) writes events as they happen, but
the dashboards' daily panels, the cohort's latest scores and the Grafana spike rule's
baseline read ``clinical_score`` records. So once each UTC hour is over, the local day(s) it
belongs to are scored again from the spool (:func:`~monitor.clinical.scores.score_spool`)
and appended; the spool and InfluxDB key a point by series and time, so a re-scored hour or
day replaces the earlier one. The run's own ``spasm_episode`` records are not among them: the
run writes each as it closes (:mod:`monitor.clinical.closing`), minutes after the spasm,
where an hour's scoring would be up to an hour late; the scoring writes the episodes of the
day that started before the run (a replay, an earlier run) only where the spool does not
hold them as they are. Scoring reads the spool in a worker thread (with its own SQLite
connection), never on the event loop that takes the wearables' notifications.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from monitor.clinical.affected import KnownAffected
from monitor.clinical.scores import NS_PER_HOUR, score_spool
from monitor.clinical.snow import DEFAULT_MIN_WEAR_H
from monitor.store import Spool
from monitor.store.schema import TREATMENT_RESPONSE
from monitor.types import Record

logger = logging.getLogger(__name__)


class HourlyRescorer:
    """Score the hours a live run has finished, once per UTC hour.

    Parameters
    ----------
    spool_path : str or Path
        The run's spool.
    timezone : str
        The patient's IANA timezone (local hours and days).
    start_ns : int
        UTC start of the run, ns: the first hour to score is the one it falls in; the
        episodes from it on are the run's own, written as they close.
    min_wear_h : float
        Observed hours a day needs for Snow's 24-hour score (``[clinical] min_wear_h``).
    configured_affected : mapping of str to iterable of str, optional
        Affected sides the run's config names (its ``affected = true`` wearables); each
        scoring adds the spool's whole history (:mod:`monitor.clinical.affected`).

    Examples
    --------
    >>> rescorer = HourlyRescorer(":memory:", "UTC", start_ns=10 * NS_PER_HOUR + 5)
    >>> rescorer.due(10 * NS_PER_HOUR + 60), rescorer.due(11 * NS_PER_HOUR + 1)
    (None, (36000000000000, 39600000000000))
    """

    def __init__(
        self,
        spool_path: str | Path,
        timezone: str,
        start_ns: int,
        min_wear_h: float = DEFAULT_MIN_WEAR_H,
        configured_affected: KnownAffected | None = None,
    ) -> None:
        self.spool_path = str(spool_path)
        self.timezone = timezone
        self.min_wear_h = min_wear_h
        self.configured_affected = {p: set(sides) for p, sides in (configured_affected or {}).items()}
        self.run_start_ns = start_ns
        self.first_unscored_ns = start_ns - start_ns % NS_PER_HOUR
        self.written = 0
        self._not_before_ns = 0  # after a failure: the next hour, not every second
        self._responses: list[Record] = []  # treatment_response records not yet taken

    def due(self, now_ns: int) -> tuple[int, int] | None:
        """The UTC range of hours finished since the last call, or None within the same hour."""
        hour_ns = now_ns - now_ns % NS_PER_HOUR
        if hour_ns <= self.first_unscored_ns or now_ns < self._not_before_ns:
            return None
        span = (self.first_unscored_ns, hour_ns)
        self.first_unscored_ns = hour_ns
        return span

    async def score(self, start_ns: int, end_ns: int) -> int:
        """Score the local days of ``[start_ns, end_ns)`` again and append them; records written."""
        try:
            written = await asyncio.to_thread(self._score, start_ns, end_ns)
        except Exception as error:  # a failed scoring must not end the collection
            logger.warning("clinical scores not updated: %s", error)
            # Its hours are due again with the next hour's (a full disk may have room by then).
            self.first_unscored_ns = min(self.first_unscored_ns, start_ns)
            self._not_before_ns = end_ns + NS_PER_HOUR
            return 0
        self.written += written
        return written

    def take_responses(self) -> list[Record]:
        """The ``treatment_response`` records scored since the last call, for the alert rules."""
        responses, self._responses = self._responses, []
        return responses

    def _score(self, start_ns: int, end_ns: int) -> int:
        with Spool(self.spool_path) as spool:
            records = score_spool(
                spool,
                start_ns,
                end_ns,
                self.timezone,
                self.min_wear_h,
                episodes_before_ns=self.run_start_ns,
                configured_affected=self.configured_affected,
            )
            written = spool.append(records)
        self._responses += [r for r in records if r.measurement == TREATMENT_RESPONSE]
        return written


__all__ = ["HourlyRescorer"]
