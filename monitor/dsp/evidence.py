"""Matching IMU movement spasms to EMG spasms on the same limb.

A spasm seen by both sensors is one spasm: the EMG event keeps its timing and features
and gains the IMU's peak angular velocity (``imu_peak_dps``) as evidence of movement.
An IMU jerk with no EMG event stays an IMU-only spasm (the patient may wear only an IMU,
or the EMG electrode may sit on another muscle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from monitor.types import NS_PER_S, SpasmEvent

# Electromechanical delay: limb movement follows EMG onset by 30-100 ms in healthy muscle
# and longer in spastic muscle (Cavanagh & Komi 1979; Granata et al. 2000). Half a second
# either side of the EMG event covers that with room for the detectors' timing.
DEFAULT_MAX_LAG_S = 0.5


def attach_imu_evidence(
    emg_events: Sequence[SpasmEvent],
    imu_events: Sequence[SpasmEvent],
    max_lag_s: float = DEFAULT_MAX_LAG_S,
) -> tuple[list[SpasmEvent], list[SpasmEvent]]:
    """Give EMG spasms the peak angular velocity of the IMU spasms they coincide with.

    Parameters
    ----------
    emg_events : sequence of SpasmEvent
        Spasms from :func:`monitor.dsp.detect_spasms` for one limb.
    imu_events : sequence of SpasmEvent
        Movement spasms from :func:`monitor.dsp.detect_movement_spasms` on the same limb.
    max_lag_s : float
        How far outside an EMG spasm an IMU jerk may start and still belong to it, s.

    Returns
    -------
    emg : list of SpasmEvent
        The EMG spasms, with ``imu_peak_dps`` set to the largest matching jerk's peak.
    imu_only : list of SpasmEvent
        IMU spasms that matched no EMG spasm.

    Raises
    ------
    ValueError
        If ``max_lag_s`` is negative or an IMU event carries no ``imu_peak_dps``.
    """
    if not max_lag_s >= 0:
        raise ValueError(f"max_lag_s must be >= 0, got {max_lag_s}")
    lag_ns = round(max_lag_s * NS_PER_S)
    used: set[int] = set()
    matched: list[SpasmEvent] = []
    for emg in emg_events:
        peaks = []
        for index, imu in enumerate(imu_events):
            if imu.imu_peak_dps is None:
                raise ValueError("IMU spasm events must carry imu_peak_dps")
            if emg.onset_ns - lag_ns <= imu.onset_ns <= emg.offset_ns + lag_ns:
                peaks.append(imu.imu_peak_dps)
                used.add(index)
        matched.append(replace(emg, imu_peak_dps=max(peaks)) if peaks else emg)
    imu_only = [imu for index, imu in enumerate(imu_events) if index not in used]
    return matched, imu_only
