"""What the spool holds and how forwarding goes: the facts behind ``spasm-monitor store status``.

Read from the spool file alone (opened read-only), so it works while ``run`` is writing it,
in another process, and on a copy taken from the gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.store.schema import SPOOL_DROP
from monitor.store.spool import PENDING, SENT, SET_ASIDE, Spool
from monitor.types import NS_PER_S

# InfluxDB's refusals name the point, the field or a count; the reason is the part before.
_REASONS = (
    ("beyond retention policy", "beyond retention policy"),
    ("field type conflict", "field type conflict"),
    ("max key length exceeded", "key too long"),
    ("max-values-per-tag", "too many values of a tag"),
    ("unable to parse", "unparsable point"),
)


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The spool's queue and the forwarder's health.

    Attributes
    ----------
    queued_points, sent_points, set_aside_points : int
        Rows waiting for the server, acknowledged by it, and refused by it (kept locally).
    set_aside_by_reason : dict
        ``"reason (HTTP status)"`` → refused rows.
    oldest_unsent_ns : int or None
        Time of the oldest queued point (by its time, whatever the order it was appended in), UTC ns.
    last_sent_at_ns, last_error_at_ns : int or None
        Wall clock of the forwarder's last acknowledged batch and last error, UTC ns.
    last_error : str
        The forwarder's last error ("" when none was kept).
    dropped_points : dict
        Measurement → unsent points the spool dropped (size cap, full disk; ``spool_drop``).
    """

    path: str
    queued_points: int
    sent_points: int
    set_aside_points: int
    set_aside_by_reason: dict[str, int]
    oldest_unsent_ns: int | None
    last_sent_at_ns: int | None
    last_error_at_ns: int | None
    last_error: str
    dropped_points: dict[str, int]

    def lines(self, now_ns: int) -> list[str]:
        """The status as short lines for a terminal."""
        out = [
            f"spool {self.path}",
            f"  queued {self.queued_points:,}  sent {self.sent_points:,}"
            f"  set aside {self.set_aside_points:,}",
        ]
        if self.oldest_unsent_ns is not None:
            out.append(f"  oldest unsent point: {age_text(now_ns - self.oldest_unsent_ns)} old")
        for reason, n in sorted(self.set_aside_by_reason.items(), key=lambda kv: -kv[1]):
            out.append(f"  set aside, {reason}: {n:,}")
        if self.set_aside_points:
            out.append("  (set-aside points stay in the local report; `store retry` sends them again)")
        sent = "never" if self.last_sent_at_ns is None else f"{age_text(now_ns - self.last_sent_at_ns)} ago"
        out.append(f"  last forwarded: {sent}")
        if self.last_error:
            when = (
                "" if self.last_error_at_ns is None else f" ({age_text(now_ns - self.last_error_at_ns)} ago)"
            )
            out.append(f"  last forwarding error{when}: {self.last_error}")
        for measurement, n in sorted(self.dropped_points.items()):
            out.append(f"  dropped unsent {measurement} points (spool full): {n:,}")
        return out


def store_status(spool: Spool) -> StoreStatus:
    """Gather the status of an open spool (a read-only one is enough)."""
    by_reason: dict[str, int] = {}
    refusals = "SELECT status, error, count(*) FROM set_aside GROUP BY status, error"
    for status, error, n in spool.rows(refusals):
        key = f"{refusal_reason(str(error))} (HTTP {status})"
        by_reason[key] = by_reason.get(key, 0) + int(str(n))
    log: dict[str, tuple[int, str]] = {}
    if spool.has_table("forward_log"):
        entries = spool.rows("SELECT key, at_ns, message FROM forward_log")
        log = {str(k): (int(str(at)), str(m)) for k, at, m in entries}
    # The oldest by time, not the first appended: a replay or a late device backlog appends old points.
    first = spool.rows(
        "SELECT min(time_ns) FROM points WHERE id > (SELECT value FROM progress WHERE key = 'sent_upto_id')"
    )
    dropped: dict[str, int] = {}
    for drop in spool.query(0, 2**63 - 1, measurement=SPOOL_DROP):
        measurement = drop.tags.get("dropped_measurement", "?")
        dropped[measurement] = dropped.get(measurement, 0) + int(drop.fields.get("dropped_points", 0))
    error_at, error = log.get("last_error", (None, ""))
    return StoreStatus(
        spool.path,
        spool.count(PENDING),
        spool.count(SENT),
        spool.count(SET_ASIDE),
        by_reason,
        int(str(first[0][0])) if first and first[0][0] is not None else None,
        log["last_sent"][0] if "last_sent" in log else None,
        error_at,
        error,
        dropped,
    )


def refusal_reason(error: str) -> str:
    """The reason of a server's refusal without the point, field or count it names.

    Examples
    --------
    >>> refusal_reason('partial write: field type conflict: input field "reps" on measurement '
    ...                '"rom" is type float, already exists as type integer dropped=1')
    'field type conflict'
    >>> refusal_reason("partial write: points beyond retention policy dropped=3")
    'beyond retention policy'
    """
    lowered = error.lower()
    for needle, reason in _REASONS:
        if needle in lowered:
            return reason
    text = re.sub(r"\s*dropped=\d+\s*$", "", error.removeprefix("partial write: ")).strip()
    return text.split(":", 1)[0][:60] or "refused"


def age_text(ns: int) -> str:
    """An age or a duration, ns, as a person reads it: ``45 s``, ``12 min``, ``3.5 h``, ``2.0 days``."""
    seconds = max(0, ns) / NS_PER_S
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
