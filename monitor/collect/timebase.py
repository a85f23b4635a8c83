"""Steps of a wearable's time base: a jump of its device clock that persists, told from a bad stamp.

A protocol that stamps its packets with the wearable's own clock (``Packet.device_time_ns``;
Polar PMD: the device's *local* time) sees that clock set under it: daylight saving time
moves it by an hour, a phone's time sync by seconds or more. Samples keep coming at their
rate; only their stamps jump. Read as it is, a step back makes an hour of samples look like
repeats, and a step ahead makes an hour's gap and drags the clock fit.

The session's clock fit says when each packet should have arrived; what this module watches
is how far from that each arrival is (its residual, ``DeviceClock.residual_ns``). A packet
arriving :data:`EARLY_STEP_NS` before its samples were taken, or :data:`LATE_STEP_NS` after,
is held back, with every later packet of its stream, until one of two things happens:

- its stream carries on at the same residual, within :data:`CONSISTENT_NS`, for
  :data:`CONFIRM_NS` of device time: the clock stepped. The session re-anchors as at a
  reboot (a new clock fit, counts started anew) and then takes every held packet: no sample
  is dropped and no gap is written. A gateway that stalled for seconds delivers a backlog
  whose residuals fall as fast as device time advances, so it never looks consistent;
- its stream comes back to the line: what was held was no step. Held packets that arrived
  impossibly early, or later than any delay (:data:`~monitor.collect.clock.OUTLIER_LATE_NS`),
  carry a bad stamp: they are dropped, counted as malformed, and the session's counts show
  their samples as a gap. The others were only late, and are taken as they are.

Packets of other streams that stay on the line pass meanwhile (they were stamped before the
step: one stream's frames span under a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devices.base import Packet
from monitor.collect.clock import OUTLIER_EARLY_NS, OUTLIER_LATE_NS
from monitor.types import NS_PER_S

EARLY_STEP_NS = OUTLIER_EARLY_NS  # no arrival precedes its sample; the fit's own error is ms
# Arrivals run late by the link's jitter (tens of ms) and a busy gateway's pauses; half a
# second persisting for a second of device time is neither.
LATE_STEP_NS = 500_000_000
CONFIRM_NS = NS_PER_S  # device time one stream must stay at the new residual
CONSISTENT_NS = 250_000_000  # spread of residuals a step keeps (jitter, with room)
MAX_HELD = 512  # a bound on what waits for a verdict (over a minute of a Polar's frames)


@dataclass(frozen=True, slots=True)
class Held:
    """A packet waiting for a verdict, with its arrival (UTC ns) and device times (ns)."""

    packet: Packet
    arrival_ns: int
    first_ns: int
    end_ns: int
    residual_ns: int


@dataclass
class Verdict:
    """What the session does now: drop ``outliers``, re-anchor if ``step_ns``, take ``accepted``.

    ``accepted`` and ``outliers`` hold (packet, arrival UTC ns) pairs in arrival order;
    ``step_ns`` is the step's size (device clock ahead of the old line, ns), or None.
    """

    accepted: list[tuple[Packet, int]] = field(default_factory=list)
    outliers: list[tuple[Packet, int]] = field(default_factory=list)
    step_ns: int | None = None


class TimeBaseWatch:
    """Holds packets that left the fitted line until their stream confirms a step or returns.

    Examples
    --------
    Packets of a stream whose device clock went back an hour (they arrive an hour "late"):
    three wait; the fourth, a second of device time after the first, confirms the step, and
    all four are taken.

    >>> import numpy as np
    >>> from devices.base import Channel
    >>> from monitor.types import SensorKind
    >>> packet = Packet("acc", 10.0, np.zeros((10, 3)), (Channel("acc", SensorKind.ACC, slice(None)),))
    >>> watch, hour_ns = TimeBaseWatch(), 3600 * NS_PER_S
    >>> [len(watch.offer(packet, 0, 0, 900_000_000, hour_ns).accepted) for _ in range(3)]
    [0, 0, 0]
    >>> verdict = watch.offer(packet, 0, 1_000_000_000, 1_900_000_000, hour_ns)
    >>> len(verdict.accepted), verdict.step_ns == -hour_ns
    (4, True)
    """

    def __init__(self) -> None:
        self._held: list[Held] = []

    def offer(
        self, packet: Packet, first_ns: int, end_ns: int, arrival_ns: int, residual_ns: int | None
    ) -> Verdict:
        """Judge one packet: its device time of first and last sample, arrival, and residual.

        ``residual_ns`` is None while the session has no clock fit (then nothing can be off).
        """
        off_line = residual_ns is not None and not -EARLY_STEP_NS <= residual_ns <= LATE_STEP_NS
        if not self._held and not off_line:
            return Verdict(accepted=[(packet, arrival_ns)])
        if not off_line:
            if all(held.packet.stream != packet.stream for held in self._held):
                return Verdict(accepted=[(packet, arrival_ns)])  # another stream, still before it
            return self._refuted(packet, arrival_ns)
        assert residual_ns is not None
        self._held.append(Held(packet, arrival_ns, first_ns, end_ns, residual_ns))
        mine = [held for held in self._held if held.packet.stream == packet.stream]
        residuals = [held.residual_ns for held in mine]
        steady = max(residuals) - min(residuals) <= CONSISTENT_NS
        if (steady and end_ns - mine[0].first_ns >= CONFIRM_NS) or len(self._held) >= MAX_HELD:
            return self.flush()
        return Verdict()

    def flush(self) -> Verdict:
        """Take every held packet as the start of a new time base (a confirmed step, or the end)."""
        held, self._held = self._held, []
        if not held:
            return Verdict()
        residuals = sorted(h.residual_ns for h in held)
        step_ns = -residuals[len(residuals) // 2]  # arrival late by R: the device clock is R behind
        return Verdict(accepted=[(h.packet, h.arrival_ns) for h in held], step_ns=step_ns)

    def _refuted(self, packet: Packet, arrival_ns: int) -> Verdict:
        held, self._held = self._held, []
        verdict = Verdict()
        for h in held:
            late = 0 <= h.residual_ns <= OUTLIER_LATE_NS
            (verdict.accepted if late else verdict.outliers).append((h.packet, h.arrival_ns))
        verdict.accepted.append((packet, arrival_ns))
        return verdict
