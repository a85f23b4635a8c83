"""ECG cross-talk: short bursts that keep the heart's rhythm are heartbeats, not spasms.

On the trunk, proximal muscles and, as real recordings show, even the shank, each QRS
complex leaves a brief blip in the EMG envelope (a few times the resting floor) once or
twice a second. After the 20 Hz high-pass its spectrum overlaps muscle's at low sample
rates, so no band tells it apart; its *rhythm* does. A blip is a burst no longer than a
QRS complex seen through the envelope; a blip that lands a whole number of intervals
after a pair of earlier blips one interval apart, the interval a heart rate (40–140 bpm)
and the beats regular within ``RR_TOLERANCE``, is a heartbeat. Beats hidden inside a
spasm or below threshold leave whole multiples of the interval, so the rhythm survives
them.

Myoclonic spasms come at irregular times; three at a steady heart-rate interval is the
ECG's signature. The first two beats of a rhythm cannot be known as such and are judged
as any burst is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

# A normal QRS complex lasts 0.06–0.10 s, a widened one up to about 0.12 s.
QRS_MAX_S = 0.12
# The 20 Hz band-pass edge rings for about two of its cycles after a sharp QRS.
BANDPASS_RINGING_S = 0.1
# Resting heart rates of 40–140 bpm. The fast end stays clear of clonus, whose beats
# come at 2.5–9 Hz (0.11–0.4 s apart).
RR_RANGE_S = (60 / 140, 60 / 40)
# Beat-to-beat change of the interval in sinus rhythm, respiratory arrhythmia included.
RR_TOLERANCE = 0.15
# Blips older than this say nothing about the current rhythm; within it the rhythm is
# carried across beats hidden inside a spasm or its relaxation (a few seconds).
MEMORY_S = 8.0


class HeartbeatGate:
    """Remembers one channel's recent blips and says which keep the heart's rhythm.

    A blip is a beat when two earlier blips were a heart-rate interval apart and it lands
    a whole number of those intervals after the later one: beats hidden inside a spasm or
    below threshold leave whole multiples of the interval, so the rhythm survives them.
    Only *isolated* blips establish a rhythm: those further from the previous burst
    than a clonic beat can be (a period of the slowest clonus). Clonic beats land at
    whole multiples of a heart-rate interval too, but close together. A blip that would
    continue a spasm is judged apart (:meth:`judge_continuation`): without that,
    heartbeats after a burst would stretch it one merge gap at a time, and a stream
    whose first blips opened an event before the rhythm was known would stay in it until
    ``max_event_s``. Heartbeats above about 140 bpm are judged as any burst is.

    Parameters
    ----------
    rate_hz : float
        Envelope rate, Hz; times are envelope sample indices.
    envelope_spread_s : float
        How much the envelope widens a short burst (smoothing window and low-pass), s.
    """

    def __init__(self, rate_hz: float, envelope_spread_s: float) -> None:
        self.rate_hz = rate_hz
        self.max_blip_samples = round((QRS_MAX_S + BANDPASS_RINGING_S + envelope_spread_s) * rate_hz)
        self._blips: deque[int] = deque()

    def is_blip(self, start: int, stop: int) -> bool:
        return stop - start <= self.max_blip_samples

    def judge(self, peak: int, isolated: bool) -> bool:
        """Record a blip peaking at envelope index ``peak``; True if it is a heartbeat.

        ``isolated``: the blip came later after the previous burst than a clonic beat can.
        Only isolated blips establish a rhythm, so a clonus' own beats, which land at
        whole multiples of a heart-rate interval too, never make one.
        """
        self._forget(peak)
        heartbeat = self._keeps_rhythm(peak, self._blips)
        if isolated:
            self._blips.append(peak)
        return heartbeat

    def judge_continuation(self, peak: int, spasm_start: int, trailing: list[int]) -> bool:
        """Judge an isolated blip that would continue a spasm starting at ``spasm_start``.

        A heartbeat if it keeps the rhythm seen before the spasm, or if it and the last
        two isolated blips that continued the spasm (``trailing``, their peaks) are three
        beats one heart interval apart. Whole multiples are not accepted there: a weak
        clonus that loses beats leaves isolated beats at multiples of its own period.
        """
        self._forget(peak)
        before = [b for b in self._blips if b < spasm_start]
        heartbeat = self._keeps_rhythm(peak, before) or self._three_beats([*trailing[-2:], peak])
        self._blips.append(peak)
        return heartbeat

    def _forget(self, peak: int) -> None:
        while self._blips and peak - self._blips[0] > MEMORY_S * self.rate_hz:
            self._blips.popleft()

    def _three_beats(self, peaks: list[int]) -> bool:
        if len(peaks) < 3:
            return False
        low, high = (s * self.rate_hz for s in RR_RANGE_S)
        first, second = peaks[1] - peaks[0], peaks[2] - peaks[1]
        return low <= first <= high and abs(second - first) <= RR_TOLERANCE * first

    def _keeps_rhythm(self, peak: int, remembered: Iterable[int]) -> bool:
        low, high = (s * self.rate_hz for s in RR_RANGE_S)
        blips = list(remembered)
        for j in range(len(blips) - 1, 0, -1):
            later = blips[j]
            for earlier in reversed(blips[:j]):
                rr = later - earlier
                if rr > high:
                    break
                if rr < low:
                    continue
                beats = round((peak - later) / rr)
                if beats >= 1 and abs(peak - later - beats * rr) <= RR_TOLERANCE * rr:
                    return True
        return False
