"""The simulated spastic limb an emulated wearable plays once ordered to: blocks on the UTC line.

The order (control channel of :mod:`emulators.reference`), the same to every wearable of
the joint::

    {"order": "tardieu", "joint": "knee", "seed": 7, "catch_strength": 0.6, "start_ns": T}
        from UTC T (ns): the limb, held still at the start of the stretch
    {"order": "tardieu", ..., "speed": "slow", "count": 2, "start_ns": T}
        from T (or once the limb is still): 2 slow (or "fast") stretches, then still again;
        "peak_velocity_dps" sets the carer's speed (default that of monitor.synth.tardieu)

``joint``, ``seed``, ``catch_strength`` (and ``noise``) name the limb and must not change
within a run. ``start_ns`` is on the shared clock (the hub's processes share the machine's)
and must lie ahead: a block takes about 0.5 s to make, and an order whose start passed
first is refused, since wearables would disagree on it. Every wearable of the limb makes
the same :class:`~monitor.synth.tardieu_limb.LimbBlock` from the same order and plays it
from that time: the thigh's and the shank's the proximal and the distal IMU, the wearable
on the muscle its EMG. A wearable asks :class:`LimbPlayer` for the samples at its
own sample times (its counter's true UTC), so wearables with different clocks, rates and
start-up times stay on one limb.

A block starts at its start time or, if the previous block is still moving then, when
that movement ends (every wearable of the limb computes the same). After a block the limb
holds still at the start of the stretch; before its first block the wearable plays its own
signals (the reference wearable's replayed physiology).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from monitor.synth.motion import Joint, NoiseLevel
from monitor.synth.tardieu_limb import (
    LIMB_RATE_HZ,
    REST_EMG_MV,
    BlockKind,
    LimbBlock,
    SimulatedLimb,
    limb_block,
)
from monitor.types import NS_PER_S

Int16Array = npt.NDArray[np.int16]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """A block made for :meth:`LimbPlayer.play`: the block, its stretch count, its raw counts."""

    block: LimbBlock
    count: int
    counts: tuple[Int16Array, Int16Array]


class LimbPlayer:
    """One wearable's view of the simulated limb: its blocks, as the raw counts it sends.

    Parameters
    ----------
    limb : SimulatedLimb
        The limb every wearable of the joint plays.
    segment : {"proximal", "distal"}
        The segment this wearable's IMU is strapped on.
    imu_lsb : ndarray, shape (6,)
        Physical value of one IMU count (acc in g, then gyr in deg/s).
    emg_lsb : ndarray, shape (channels,)
        Physical value of one EMG count per channel, mV; channel 0 is on the stretched
        muscle.
    """

    def __init__(
        self,
        limb: SimulatedLimb,
        segment: str,
        imu_lsb: npt.NDArray[np.float64],
        emg_lsb: npt.NDArray[np.float64],
    ) -> None:
        self.limb = limb
        self._proximal = segment == "proximal"
        self._imu_lsb = imu_lsb
        self._emg_lsb = emg_lsb
        self._starts: list[int] = []
        self._blocks: list[tuple[Int16Array, Int16Array]] = []  # IMU, EMG counts of each block
        self._still_ns = 0  # when the movement of the last block ends
        self.orders: list[dict[str, Any]] = []  # each block as played: kind, count, start_ns
        self.trials: list[dict[str, Any]] = []  # the truth of every stretch, in order
        # Played after each block: the limb held still.
        self._rest = self._counts(limb_block(limb, "rest", 0))

    def prepare(
        self, kind: BlockKind, start_ns: int, count: int = 1, peak_velocity_dps: float | None = None
    ) -> Prepared:
        """Make a block of ``kind`` from ``start_ns`` (or once the limb is still), not yet played.

        Safe in a worker thread while the wearable samples the limb: it changes nothing.
        """
        start_ns = max(start_ns, self._still_ns)
        block = limb_block(self.limb, kind, start_ns, count=count, peak_velocity_dps=peak_velocity_dps)
        return Prepared(block, count, self._counts(block))

    def play(self, prepared: Prepared) -> None:
        """Play a block :meth:`prepare` made (its start is after the blocks already played)."""
        block = prepared.block
        self._starts.append(block.start_ns)
        self._blocks.append(prepared.counts)
        self._still_ns = block.still_ns
        self.orders.append({"kind": block.kind, "count": prepared.count, "start_ns": block.start_ns})
        self.trials += [asdict(trial) for trial in block.trials]

    def overlay(self, raw: Int16Array, times_ns: IntArray, *, emg: bool) -> Int16Array:
        """``raw`` (the wearable's own samples at ``times_ns``) with the limb's from its first block on.

        Parameters
        ----------
        raw : ndarray, shape (n, 6) or (n, channels)
            The IMU's (acc x, y, z, gyr x, y, z) or the EMG's raw samples; changed in place.
        times_ns : ndarray, shape (n,)
            True UTC of each sample, ns.
        emg : bool
            Whether they are EMG samples.
        """
        if not self._starts:
            return raw
        on_limb = times_ns >= self._starts[0]
        if on_limb.any():
            raw[on_limb] = self._at(times_ns[on_limb], 1 if emg else 0)
        return raw

    def _at(self, times_ns: IntArray, which: int) -> Int16Array:
        """Samples of the block playing at each time (after the first's start); after a block, the rest."""
        rest = self._rest[which]
        out = np.empty((times_ns.size, rest.shape[1]), dtype=np.int16)
        block_of = np.searchsorted(np.asarray(self._starts, dtype=np.int64), times_ns, side="right") - 1
        for b in np.unique(block_of):
            here = block_of == b
            start_ns, counts = self._starts[b], self._blocks[b][which]
            index = np.round((times_ns[here] - start_ns) * (LIMB_RATE_HZ / NS_PER_S)).astype(np.int64)
            inside = index < counts.shape[0]
            values = np.empty((index.size, rest.shape[1]), dtype=np.int16)
            values[inside] = counts[index[inside]]
            values[~inside] = rest[(index[~inside] - counts.shape[0]) % rest.shape[0]]
            out[here] = values
        return out

    def _counts(self, block: LimbBlock) -> tuple[Int16Array, Int16Array]:
        """A block's signals as this wearable's raw counts (its IMU's segment, the EMG)."""
        if self._proximal:
            imu = np.hstack([block.acc_prox_g, block.gyr_prox_dps])
        else:
            imu = np.hstack([block.acc_dist_g, block.gyr_dist_dps])
        channels = self._emg_lsb.size
        rng = np.random.default_rng([self.limb.seed, 6])
        emg = np.empty((block.emg_mv.size, channels))
        emg[:, 0] = block.emg_mv
        # The other channels are on no stretched muscle: electrode noise at rest.
        emg[:, 1:] = rng.standard_normal((block.emg_mv.size, channels - 1)) * REST_EMG_MV
        return _quantize(imu / self._imu_lsb), _quantize(emg / self._emg_lsb)

    def truth(self) -> dict[str, Any]:
        """The stats file's ``tardieu`` section: the limb, its blocks and its stretches."""
        return {"limb": asdict(self.limb), "blocks": self.orders, "trials": self.trials}


def _quantize(values: npt.NDArray[np.float64]) -> Int16Array:
    return np.clip(np.round(values), -32768, 32767).astype(np.int16)


async def play_order(
    order: dict[str, Any],
    player: LimbPlayer | None,
    segment: str,
    imu_lsb: npt.NDArray[np.float64],
    emg_lsb: npt.NDArray[np.float64],
) -> LimbPlayer:
    """Obey a ``"tardieu"`` order (:mod:`emulators.reference`); the player, new on the first.

    The block is made in a worker thread, so the wearable's notifications go on meanwhile.
    ValueError (the order is refused, nothing changes) for a bad order, another limb than
    the one playing, or a start that passed while the block was being made.
    """
    limb = SimulatedLimb(
        cast(Joint, str(order.get("joint", "knee"))),  # SimulatedLimb refuses other joints
        int(order["seed"]),
        float(order.get("catch_strength", 0.6)),
        cast(NoiseLevel, str(order.get("noise", "typical"))),
    )
    start_ns = int(order["start_ns"])
    if start_ns <= time.time_ns():
        raise ValueError(f"start_ns {start_ns} has passed: order a block ahead")
    speed = order.get("speed")
    if speed not in (None, "slow", "fast"):
        raise ValueError(f"a tardieu order's speed is 'slow' or 'fast' (none: held still), not {speed!r}")
    kind: BlockKind = "rest" if speed is None else speed
    velocity = order.get("peak_velocity_dps")
    if player is not None and player.limb != limb:
        raise ValueError(f"this wearable plays {player.limb}: one limb per run")
    if player is None:
        player = await asyncio.to_thread(LimbPlayer, limb, segment, imu_lsb, emg_lsb)
    prepared = await asyncio.to_thread(
        player.prepare,
        kind,
        start_ns,
        int(order.get("count", 1)),
        None if velocity is None else float(velocity),
    )
    late_ms = (time.time_ns() - prepared.block.start_ns) / 1e6
    if late_ms >= 0:  # samples from its start were sent already: the wearables would disagree
        raise ValueError(f"start_ns passed {late_ms:.0f} ms before the block was made: order it ahead")
    player.play(prepared)
    return player
