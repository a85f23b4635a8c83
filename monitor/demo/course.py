"""A plausible treatment course for the simulated history: spasm rate, spasm strength and
knee range of motion day by day, around one botulinum toxin injection and PT sessions.

This is a demonstration model, not a clinical prediction. Its time course is taken from
the literature, not from the analysis windows of :mod:`monitor.clinical.cycle`: no effect
for the first days (the toxin must be taken up at the nerve terminal and cleave SNAP-25;
Dressler D, Saberi FA. Eur Neurol 2005;53:3-9), a reported onset at about 13 days, a peak
at about 5 weeks and a re-emergence of symptoms at about 12-13 weeks (Jacinto J, et al.
Front Neurol 2020;11:388), which is why injections are repeated every ~12 weeks. Here the
effect rises (smoothstep) from day 3 to its peak at day 35 (a fifth of it by day 13, when it
becomes noticeable), holds until day 63, and fades to nothing by day 105: half of it is gone
at day 84 (week 12), the simulated wearing-off day (:meth:`TreatmentCourse.wearing_off_day`).
Spasms in spinal cord injury are commonly reported
as worse at night and in bed, so night windows get a higher rate. Physiotherapy (stretching
and range-of-motion work) regains range gradually over weeks of sessions; reduced muscle
overactivity after the injection lets the joint reach a little further too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TreatmentCourse:
    """Parameters of the simulated course; the defaults give a clearly visible effect.

    Attributes
    ----------
    baseline_spasms_per_h : float
        Daytime spasm rate of the patient (all EMG channels together) before treatment, 1/h.
    night_factor : float
        Night rate as a multiple of the daytime rate.
    max_rate_reduction : float
        Fraction of the rate removed at the injection's peak effect (0.6: 60 % fewer).
    max_amplitude_reduction : float
        Fraction of the spasm amplitude removed at peak effect (weaker spasms).
    onset_day, peak_day : float
        Days after the injection when the effect starts, and when it reaches its maximum.
    wear_off_day, gone_day : float
        Days after the injection when the effect starts to fade, and when it is gone.
    rom_start, rom_best : float
        Fraction of the usual exercise excursion reached before PT, and the best
        reachable after many sessions with the injection at full effect.
    pt_sessions_scale : float
        Sessions over which PT gains ~63 % of its share of the range (1 - 1/e).
    pt_rom_share : float
        Share of the range gain owed to PT; the rest follows the injection's effect.
    """

    baseline_spasms_per_h: float = 15.0
    night_factor: float = 1.6
    max_rate_reduction: float = 0.6
    max_amplitude_reduction: float = 0.4
    onset_day: float = 3.0  # uptake: no effect before (Dressler & Saberi 2005)
    peak_day: float = 35.0  # peak at about 5 weeks (Jacinto et al. 2020)
    wear_off_day: float = 63.0  # fading from week 9 ...
    gone_day: float = 105.0  # ... so that half is gone at day 84, re-emergence at 12-13 weeks
    rom_start: float = 0.5
    rom_best: float = 1.0
    pt_sessions_scale: float = 5.0
    pt_rom_share: float = 0.7

    def __post_init__(self) -> None:
        if not 0 <= self.onset_day < self.peak_day <= self.wear_off_day < self.gone_day:
            raise ValueError("need 0 <= onset_day < peak_day <= wear_off_day < gone_day")
        for name in ("max_rate_reduction", "max_amplitude_reduction"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TreatmentCourse.{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 <= self.pt_rom_share <= 1:
            raise ValueError(f"TreatmentCourse.pt_rom_share must be in [0, 1], got {self.pt_rom_share}")
        if not 0 < self.rom_start <= self.rom_best <= 1.5:
            raise ValueError("need 0 < rom_start <= rom_best <= 1.5")
        if not (self.baseline_spasms_per_h > 0 and self.night_factor > 0 and self.pt_sessions_scale > 0):
            raise ValueError("baseline_spasms_per_h, night_factor and pt_sessions_scale must be > 0")

    def toxin_effect(self, days_since_injection: float | None) -> float:
        """Fraction (0–1) of the injection's full effect, ``days_since_injection`` after it.

        ``None`` (no injection yet) and days before ``onset_day`` give 0. The rise and the
        fade are smoothsteps, so the rate changes without corners.
        """
        d = days_since_injection
        if d is None or d < self.onset_day or d >= self.gone_day:
            return 0.0
        if d < self.peak_day:
            return _smoothstep((d - self.onset_day) / (self.peak_day - self.onset_day))
        if d < self.wear_off_day:
            return 1.0
        return 1.0 - _smoothstep((d - self.wear_off_day) / (self.gone_day - self.wear_off_day))

    def wearing_off_day(self) -> float:
        """The day after the injection when half of the effect is gone (the simulated truth)."""
        return 0.5 * (self.wear_off_day + self.gone_day)  # a smoothstep is half-way at its middle

    def spasms_per_h(self, days_since_injection: float | None, night: bool) -> float:
        """Expected spasm rate of the patient, 1/h."""
        rate = self.baseline_spasms_per_h * (self.night_factor if night else 1.0)
        return rate * (1.0 - self.max_rate_reduction * self.toxin_effect(days_since_injection))

    def amplitude_factor(self, days_since_injection: float | None) -> float:
        """Spasm amplitude as a fraction of the untreated amplitude."""
        return 1.0 - self.max_amplitude_reduction * self.toxin_effect(days_since_injection)

    def range_scale(self, days_since_injection: float | None, pt_sessions_done: int) -> float:
        """Fraction of the usual exercise excursion the knee reaches (see ``generate_motion``)."""
        pt_gain = 1.0 - math.exp(-pt_sessions_done / self.pt_sessions_scale)
        gain = self.pt_rom_share * pt_gain + (1.0 - self.pt_rom_share) * self.toxin_effect(
            days_since_injection
        )
        return self.rom_start + (self.rom_best - self.rom_start) * gain


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)
