"""One simulated spastic limb that several emulated wearables play in step, a block at a time.

:func:`monitor.synth.tardieu.generate_tardieu_session` writes a whole Tardieu session on a
fixed timeline. A guided test (``spasm-monitor tardieu``) follows what the sensors see,
so an emulated limb must move when the carer is asked to, not on a clock: here the limb
does one *block* at a time, from a start time chosen by whoever orders it. A block holds
the limb still at the start of the stretch (``"rest"``), or does ``count`` slow or fast
stretches with the physiology and truth of the session generator (``"slow"``,
``"fast"``), or the calibration routine from the neutral pose (``"calibrate"``); every
block ends held still at the start of the stretch, in the test posture.

Agreement without talking. The wearables of one limb (the thigh's and the shank's IMU,
the EMG on the stretched muscle) run in separate processes. Each makes the same block from
the same :class:`SimulatedLimb` (joint, muscle, seed), kind and start time: the draws of
the stretches and the EMG are seeded by the limb's seed and the block's start, those of
the sensors by the limb's seed, so the blocks are equal to the bit, and each wearable
samples the block at its own sample times.

One mounting in every block. :func:`monitor.synth.motion.strap_imus` draws the distal
IMU's mounting after the proximal IMU's per-sample noise, so its mounting depends on the
signal's length: every block has the same length (:data:`LIMB_BLOCK_S`, at
:data:`LIMB_RATE_HZ`), and so the same mountings, scale errors and initial biases (straps
that stay on). A block's movement must fit in it; after the movement the limb holds still.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from monitor.synth.motion import JOINTS, NOISE_LEVELS, Joint, NoiseLevel, strap_imus
from monitor.synth.tardieu import (
    _EMG_REST_MV,
    _INTERNAL_RATE_HZ,
    DEFAULT_PLAN,
    FloatArray,
    Spasticity,
    TrialPlan,
    TrueTardieuTrial,
    _emg,
    _Script,
    _true_trial,
    default_spasticity,
)
from monitor.types import NS_PER_S

BlockKind = Literal["rest", "calibrate", "slow", "fast"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("rest", "calibrate", "slow", "fast")
# Every block is this long, s: room for four slow stretches (about 14 s each at 20 °/s)
# or the calibration routine; see the module docstring for why the length is fixed.
LIMB_BLOCK_S = 60.0
# The block's rate, Hz: the generator's internal rate (accurate finite differences); a
# wearable samples the block at its own times, to the nearest 1 ms.
LIMB_RATE_HZ = _INTERNAL_RATE_HZ
# sEMG electrode and amplifier noise at rest, mV RMS (the generator's).
REST_EMG_MV = _EMG_REST_MV
# The carer's peak velocities when the order names none, °/s: the session generator's.
DEFAULT_PEAK_DPS: dict[str, float] = {
    "slow": next(p.peak_velocity_dps for p in DEFAULT_PLAN if p.speed == "slow"),
    "fast": next(p.peak_velocity_dps for p in DEFAULT_PLAN if p.speed == "fast"),
}


@dataclass(frozen=True, slots=True)
class SimulatedLimb:
    """A joint, its stretched muscle and its two strapped IMUs: what the wearables share.

    Attributes
    ----------
    joint : {"knee", "elbow", "ankle"}
    seed : int
        Seeds the mountings, the sensor errors and (with a block's start) every draw.
    catch_strength : float
        Fraction of the velocity the reflex takes in a fast stretch, [0, 1]
        (:func:`~monitor.synth.tardieu.default_spasticity`); 0 is no reflex.
    noise : {"low", "typical", "high"}
        IMU error model (:data:`monitor.synth.motion.NOISE_LEVELS`).
    """

    joint: Joint = "knee"
    seed: int = 0
    catch_strength: float = 0.6
    noise: NoiseLevel = "typical"

    def __post_init__(self) -> None:
        if self.joint not in JOINTS:
            raise ValueError(f"joint must be one of {JOINTS}, got {self.joint!r}")
        if self.noise not in NOISE_LEVELS:
            raise ValueError(f"noise must be one of {tuple(NOISE_LEVELS)}, got {self.noise!r}")
        default_spasticity(self.joint, self.catch_strength)  # refuses a catch_strength outside [0, 1]

    @property
    def spasticity(self) -> Spasticity:
        """The stretched muscle's reflex and passive range."""
        return default_spasticity(self.joint, self.catch_strength)


@dataclass(frozen=True, slots=True, eq=False)
class LimbBlock:
    """What the limb does from ``start_ns``: :data:`LIMB_BLOCK_S` of signals, with truth.

    Attributes
    ----------
    kind : {"rest", "calibrate", "slow", "fast"}
    start_ns : int
        UTC time of the first sample, ns.
    rate_hz : float
        Rate of every array, Hz (:data:`LIMB_RATE_HZ`).
    angle_deg : ndarray, shape (n,)
        True joint angle, degrees (:mod:`monitor.dsp.imu.joints` convention).
    acc_prox_g, acc_dist_g : ndarray, shape (n, 3)
        Accelerometers of the proximal and distal IMU, g.
    gyr_prox_dps, gyr_dist_dps : ndarray, shape (n, 3)
        Gyroscopes, deg/s.
    emg_mv : ndarray, shape (n,)
        sEMG of the stretched muscle, mV.
    trials : tuple of TrueTardieuTrial
        The stretches' truth (R1, R2, V3, the reflex's times), UTC.
    still_ns : int
        UTC time the movement ends; from then on the limb holds still at the start of
        the stretch until the block ends.
    """

    kind: BlockKind
    start_ns: int
    rate_hz: float
    angle_deg: FloatArray
    acc_prox_g: FloatArray
    gyr_prox_dps: FloatArray
    acc_dist_g: FloatArray
    gyr_dist_dps: FloatArray
    emg_mv: FloatArray
    trials: tuple[TrueTardieuTrial, ...]
    still_ns: int

    @property
    def end_ns(self) -> int:
        """UTC time just after the last sample, ns."""
        return self.start_ns + round(self.angle_deg.size * NS_PER_S / self.rate_hz)


def limb_block(
    limb: SimulatedLimb,
    kind: BlockKind,
    start_ns: int,
    *,
    count: int = 1,
    peak_velocity_dps: float | None = None,
) -> LimbBlock:
    """The limb's block of ``kind`` from ``start_ns``: the same for every wearable of the limb.

    Parameters
    ----------
    limb : SimulatedLimb
    kind : {"rest", "calibrate", "slow", "fast"}
        Held still at the start of the stretch; the calibration routine (3 s neutral
        pose, three flexions, as :mod:`monitor.synth.tardieu` opens a session: the block
        starts in the neutral pose); or ``count`` stretches at that speed.
    start_ns : int
        UTC time of the block's first sample, ns.
    count : int
        Stretches of a ``"slow"`` or ``"fast"`` block, >= 1 (as many as fit).
    peak_velocity_dps : float, optional
        The carer's peak velocity, °/s (each stretch varies by ±10 %); default
        :data:`DEFAULT_PEAK_DPS`.

    Returns
    -------
    LimbBlock

    Examples
    --------
    >>> limb = SimulatedLimb("knee", seed=3)
    >>> block = limb_block(limb, "fast", 1_764_000_000 * NS_PER_S, count=2)
    >>> [t.speed for t in block.trials], all(t.r1_deg is not None for t in block.trials)
    (['fast', 'fast'], True)
    >>> again = limb_block(limb, "fast", block.start_ns, count=2)  # as another wearable makes it
    >>> bool(np.array_equal(block.gyr_dist_dps, again.gyr_dist_dps))
    True
    """
    if kind not in BLOCK_KINDS:
        raise ValueError(f"a block's kind must be one of {BLOCK_KINDS}, got {kind!r}")
    if kind in ("slow", "fast") and count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if peak_velocity_dps is not None and not 1.0 <= peak_velocity_dps <= 1000.0:
        raise ValueError(f"peak_velocity_dps must be in [1, 1000], got {peak_velocity_dps}")
    sp = limb.spasticity
    rate_hz = LIMB_RATE_HZ
    n_block = round(LIMB_BLOCK_S * rate_hz)
    script = _Script(limb.joint, sp, rate_hz, _block_rng(limb, 4, start_ns))
    if kind == "calibrate":
        script.opening()
    else:
        script.at_test_start()
        if kind != "rest":
            velocity = DEFAULT_PEAK_DPS[kind] if peak_velocity_dps is None else peak_velocity_dps
            for _ in range(count):
                script.trial(TrialPlan(kind, velocity))
    n_moving = script.n
    if n_moving > n_block:
        raise ValueError(
            f"{count} {kind} stretches take {n_moving / rate_hz:.0f} s, more than a block's"
            f" {LIMB_BLOCK_S:g} s: order fewer"
        )
    if n_block > n_moving:
        script.hold((n_block - n_moving) / rate_hz)
    theta = np.concatenate(script.theta)[:n_block]
    phi = np.concatenate(script.phi)[:n_block]
    prox, dist = strap_imus(
        limb.joint,
        theta,
        phi,
        rate_hz,
        1,
        NOISE_LEVELS[limb.noise],
        np.random.default_rng([limb.seed, 1]),  # the same in every block: the same mountings
        np.random.default_rng([limb.seed, 5]),
    )

    def ns(index: int) -> int:
        return start_ns + round(index * NS_PER_S / rate_hz)

    trials = tuple(_true_trial(t, theta, ns) for t in script.trials)
    emg = _emg(trials, LIMB_BLOCK_S, rate_hz, start_ns, _block_rng(limb, 2, start_ns), sp)
    return LimbBlock(
        kind=kind,
        start_ns=start_ns,
        rate_hz=rate_hz,
        angle_deg=theta,
        acc_prox_g=prox.acc_g,
        gyr_prox_dps=prox.gyr_dps,
        acc_dist_g=dist.acc_g,
        gyr_dist_dps=dist.gyr_dps,
        emg_mv=emg[:n_block],
        trials=trials,
        still_ns=ns(n_moving),
    )


def _block_rng(limb: SimulatedLimb, purpose: int, start_ns: int) -> np.random.Generator:
    """The draws of one block for one ``purpose``: the same in every wearable of the limb.

    ``start_ns`` goes in as two 32-bit words: a seed takes non-negative integers only.
    """
    return np.random.default_rng([limb.seed, purpose, start_ns & 0xFFFFFFFF, (start_ns >> 32) & 0xFFFFFFFF])
