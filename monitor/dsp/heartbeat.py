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
    Every blip is remembered. A blip that would continue a spasm is a heartbeat only when
    it comes later after the spasm's last burst than a clonic beat can (a period of the slowest clonus)
    and keeps a rhythm seen before the spasm began: otherwise the heartbeats after a burst
    would stretch it by seconds, one merge gap at a time.

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

    def judge(self, peak: int, rhythm_before: int | None = None) -> bool:
        """Record a blip peaking at envelope index ``peak``; True if it is a heartbeat.

        ``rhythm_before``: only blips peaking before this index may establish the rhythm.
        A blip after a spasm is judged by the rhythm seen before the spasm began, since
        the spasm's own bursts (clonic beats at whole multiples of a heart-rate interval)
        could otherwise pass for one.
        """
        while self._blips and peak - self._blips[0] > MEMORY_S * self.rate_hz:
            self._blips.popleft()
        heartbeat = self._keeps_rhythm(peak, peak if rhythm_before is None else rhythm_before)
        self._blips.append(peak)
        return heartbeat

    def _keeps_rhythm(self, peak: int, rhythm_before: int) -> bool:
        low, high = (s * self.rate_hz for s in RR_RANGE_S)
        blips = [b for b in self._blips if b < rhythm_before]
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
