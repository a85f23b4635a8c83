"""Alert thresholds: one definition, used by the home-side rules and the Grafana alert rules.

The values come from ``[alerts]`` in config.toml; the defaults are what a clinician would
start with and tune per patient.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.bounds import check_bounds


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """Thresholds of the four alert rules.

    Attributes
    ----------
    spike_sigma : float
        Spasm-rate spike: the last hour's spasm count must exceed the patient's own rolling
        hourly baseline (mean) by this many standard deviations ...
    spike_min_count : int
        ... and by at least this many spasms (a quiet patient's σ can be tiny).
    spike_baseline_days : float
        Length of the rolling baseline, days.
    spike_min_baseline_h : float
        Observed hours the baseline needs before the spike rule may fire, h: a new patient's
        first hours say nothing about their usual rate.
    tonic_max_s : float
        Prolonged tonic spasm: a tonic spasm longer than this, s.
    offline_max_min : float
        Device offline: no data from a device for longer than this, min.
    poor_signal_max_min : float
        Electrode off or poor signal for longer than this, min.
    cooldown_min : float
        After an alert, the same rule for the same patient and device stays quiet this
        long, min: a burst of spasms sends one alert, not fifty.
    forward_stalled_h : float
        Forwarding stalled: points have waited this long with nothing acknowledged by
        InfluxDB, h (the dashboards go stale while the spool keeps everything).
    """

    spike_sigma: float = 3.0
    spike_min_count: int = 5
    spike_baseline_days: float = 7.0
    spike_min_baseline_h: float = 24.0
    tonic_max_s: float = 30.0
    offline_max_min: float = 30.0
    poor_signal_max_min: float = 15.0
    cooldown_min: float = 60.0
    forward_stalled_h: float = 6.0

    def __post_init__(self) -> None:
        positive = (
            "spike_sigma", "spike_baseline_days", "spike_min_baseline_h", "tonic_max_s",
            "offline_max_min", "poor_signal_max_min", "cooldown_min", "forward_stalled_h",
        )  # fmt: skip
        check_bounds(self, positive, above=0)
        check_bounds(self, ("spike_min_count",), at_least=1)
