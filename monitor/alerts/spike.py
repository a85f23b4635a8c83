"""The spasm-rate spike rule: the last hour against the patient's own rolling baseline.

Spasm frequency is very personal (a few a day to dozens an hour), so a fixed limit would
either never fire or always fire. The baseline is the patient's hourly spasm counts over
the last ``spike_baseline_days``, using only hours in which the patient had any record (an
unworn sensor is not a calm hour) and only hours that ended before the current one-hour
window started (so a spike does not raise its own bar). The rule fires when the sliding
last-hour count reaches ``mean + max(k·σ, min_count)``: k·σ for patients with a variable
rate, the minimum count so that a patient with a steady, near-zero rate (σ ≈ 0) is not
alerted by two spasms.

The spasms that reached the threshold are then consumed (whether the alert went out or
the cooldown held it back): the next spike needs that many *new* spasms, so a burst that
outlasts the cooldown does not re-alert on its old spasms, while a storm that goes on
raises one reminder per cooldown.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from monitor.alerts.thresholds import AlertThresholds
from monitor.clinical.events import EPISODE_GAP_S
from monitor.types import NS_PER_S

NS_PER_H = 3600 * NS_PER_S


@dataclass(frozen=True, slots=True)
class SpikeCheck:
    """Outcome of one check: the last-hour count, the threshold, and the baseline mean."""

    count: int
    threshold: float
    baseline_mean: float
    fired: bool


@dataclass
class SpikeBaseline:
    """Rolling state of one patient: recent onsets, hourly counts, observed hours."""

    thresholds: AlertThresholds
    recent_ns: deque[int] = field(default_factory=deque)
    hourly: Counter[int] = field(default_factory=Counter)  # UTC hour index -> spasms
    observed: set[int] = field(default_factory=set)  # UTC hour indices with any record
    last_offset_ns: dict[str, int] = field(default_factory=dict)  # limb (side) -> end of its latest episode

    def observe(self, time_ns: int) -> None:
        """Mark the hour of ``time_ns`` as observed (the patient had a record in it)."""
        self.observed.add(time_ns // NS_PER_H)

    def spasm(self, onset_ns: int, offset_ns: int | None = None, limb: str = "") -> SpikeCheck | None:
        """Add a spasm event and check the last hour (ending at its onset) against the baseline.

        Spasms are counted as episodes, by the rule of
        :func:`monitor.clinical.events.episodes`: an event of the same limb (``limb``, the
        ``side`` tag) that starts before the limb's previous episode ended plus
        :data:`~monitor.clinical.events.EPISODE_GAP_S` is that spasm seen on another channel
        or wearable: it extends the episode, is not counted again, and returns None.
        """
        self.observe(onset_ns)
        end_ns = onset_ns if offset_ns is None else offset_ns
        last_ns = self.last_offset_ns.get(limb)
        if last_ns is not None and onset_ns <= last_ns + round(EPISODE_GAP_S * NS_PER_S):
            self.last_offset_ns[limb] = max(last_ns, end_ns)
            return None
        self.last_offset_ns[limb] = end_ns
        self.hourly[onset_ns // NS_PER_H] += 1
        self.recent_ns.append(onset_ns)
        while self.recent_ns and self.recent_ns[0] <= onset_ns - NS_PER_H:
            self.recent_ns.popleft()
        first_h = (onset_ns - round(self.thresholds.spike_baseline_days * 24 * NS_PER_H)) // NS_PER_H
        window_start_h = (onset_ns - NS_PER_H) // NS_PER_H  # partly inside the window: excluded
        self._forget_before(first_h)
        hours = [h for h in self.observed if h < window_start_h]
        count = len(self.recent_ns)
        if len(hours) < self.thresholds.spike_min_baseline_h:
            return SpikeCheck(count, float("inf"), float("nan"), fired=False)
        counts = np.array([self.hourly[h] for h in hours], dtype=float)
        mean, sigma = float(counts.mean()), float(counts.std())
        threshold = mean + max(self.thresholds.spike_sigma * sigma, float(self.thresholds.spike_min_count))
        fired = count >= threshold
        if fired:
            self.recent_ns.clear()
        return SpikeCheck(count, threshold, mean, fired=fired)

    def _forget_before(self, first_h: int) -> None:
        if self.observed and min(self.observed) < first_h:
            self.observed = {h for h in self.observed if h >= first_h}
            for h in [h for h in self.hourly if h < first_h]:
                del self.hourly[h]
