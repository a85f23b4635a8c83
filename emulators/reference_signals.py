"""Synthetic physiology for the emulated wearable, as the raw int16 counts it would send.

The ground truth (spasm onsets, joint angles) stays in ``monitor.synth``: with a seed, the
same signals are regenerated for checking.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from devices.reference.protocol import StreamType, lsb_per_channel
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion


def synthetic_signals(
    seed: int,
    emg_channels: int,
    emg_scale_code: int,
    imu_scale_code: int,
    loop_s: float,
    segment: str = "distal",
    motion_seed: int | None = None,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """EMG (1 kHz) and IMU (100 Hz) raw int16 samples, generated once and replayed.

    Two wearables on the thigh and the shank of one knee share ``motion_seed`` and take
    the ``proximal`` and the ``distal`` segment of the same movement, so the gateway can
    compute the knee angle from them.
    """
    emg = generate_emg(EmgScenario(channels=emg_channels, duration_s=loop_s, seed=seed)).emg_mv
    motion = generate_motion(
        "knee", duration_s=loop_s, sample_rate_hz=100.0, seed=seed if motion_seed is None else motion_seed
    )
    if segment == "proximal":
        imu = np.hstack([motion.acc_prox_g, motion.gyr_prox_dps])
    else:
        imu = np.hstack([motion.acc_dist_g, motion.gyr_dist_dps])
    return _quantize(emg / lsb_per_channel(StreamType.EMG, emg_channels, emg_scale_code)), _quantize(
        imu / lsb_per_channel(StreamType.IMU, 6, imu_scale_code)
    )


def _quantize(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(counts), -32768, 32767).astype(np.int16)
