"""A resting-level baseline that follows the electrode over hours but not a spasm.

Every ``baseline_block_s`` the resting level of the block is measured as a low quantile
of the envelope (bursts shorter than most of the block barely move it). The baseline
then moves toward it in the log domain: fast when the level falls (a recording that
starts during a spasm recovers within seconds), slowly when it rises (electrode
impedance drifts over hours). A block whose level is already above the spasm threshold
is a spasm, not a new resting level, and does not move the baseline. Neither does a block
that is mostly artefact.

Beside the level, the *spread* of rest is tracked: the ratio of a high quantile (95 %) to
the resting quantile in quiet blocks. It is how far the envelope wanders above its
resting level by chance (about 1.2 at 1 kHz, 1.4 at 200 Hz where the band is narrow), and
spasm edges are placed where the envelope returns within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.dsp.params import EmgParams

Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# A block with any artefact says nothing reliable about the resting level: a block that
# is half flat line would drag the baseline down.
MAX_INVALID_SHARE = 0.0
# Tonic spasms last at most about a minute (Thomas et al. 2014). A "spasm" that holds the
# resting level up for longer is a new resting level (the electrode changed), and the
# baseline adopts it rather than lock out detection for good.
MAX_SPASM_HOLD_S = 90.0
SPREAD_QUANTILE = 0.95
SPREAD_TAU_S = 60.0


@dataclass(frozen=True)
class BlockSummary:
    """Per-block envelope summaries, for the ``emg_envelope`` records.

    Attributes
    ----------
    first_block : int
        Index (from the stream start) of the first block summarised.
    rms_mv : ndarray, shape (channels, k)
        RMS of the envelope over each block, mV.
    baseline_mv : ndarray, shape (channels, k)
        Baseline in force during each block, mV (NaN before the first one).
    """

    first_block: int
    rms_mv: Float64Array
    baseline_mv: Float64Array


class AdaptiveBaseline:
    """Streaming baseline: ``process`` returns the baseline in force at each sample."""

    def __init__(self, channels: int, rate_hz: float, params: EmgParams) -> None:
        self.block_samples = max(1, round(params.baseline_block_s * rate_hz))
        block_s = self.block_samples / rate_hz
        self._rise_alpha = 1.0 - np.exp(-block_s / params.baseline_rise_tau_s)
        self._fall_alpha = 1.0 - np.exp(-block_s / params.baseline_fall_tau_s)
        self._spasm_x = params.on_x_baseline
        self._max_hold_blocks = max(1, round(MAX_SPASM_HOLD_S / block_s))
        self._held_blocks = np.zeros(channels, dtype=np.int64)
        self._quantile_index = int(params.baseline_quantile * (self.block_samples - 1))
        self._spread_index = int(SPREAD_QUANTILE * (self.block_samples - 1))
        self._spread_alpha = 1.0 - np.exp(-block_s / SPREAD_TAU_S)
        self.level_mv = np.full(channels, np.nan)
        self.spread = np.full(channels, np.nan)
        self.blocks_done = 0
        self._pending = np.zeros((channels, 0), dtype=np.float32)
        self._pending_invalid = np.zeros((channels, 0), dtype=bool)

    def process(
        self, envelope: Float32Array, invalid: BoolArray
    ) -> tuple[Float64Array, Float64Array, BlockSummary]:
        """Advance over a chunk of envelope samples.

        Parameters
        ----------
        envelope : ndarray, shape (channels, m)
            RMS envelope, mV.
        invalid : ndarray of bool, shape (channels, m)
            Samples that are artefact (flat line, non-finite, motion).

        Returns
        -------
        baseline_mv : ndarray, shape (channels, m)
            Baseline in force at each sample: the level after the previous whole block.
            NaN until the first block is complete.
        spread : ndarray, shape (channels, m)
            Spread of rest in force at each sample (a ratio >= 1; NaN until known).
        summary : BlockSummary
            The blocks completed in this chunk.
        """
        channels, m = envelope.shape
        pending_before = self._pending.shape[1]
        env = np.concatenate([self._pending, envelope], axis=1)
        inv = np.concatenate([self._pending_invalid, invalid], axis=1)
        bs = self.block_samples
        n_blocks = env.shape[1] // bs
        whole = n_blocks * bs
        blocks = env[:, :whole].reshape(channels, n_blocks, bs)
        ordered = np.partition(blocks, (self._quantile_index, self._spread_index), axis=2)
        resting = ordered[:, :, self._quantile_index]
        high = ordered[:, :, self._spread_index].astype(np.float64)
        invalid_share = inv[:, :whole].reshape(channels, n_blocks, bs).mean(axis=2)
        rms = np.sqrt(np.mean(np.square(blocks, dtype=np.float64), axis=2))

        # Level in force during block j of this chunk is levels[:, j]; levels[:, -1] after all.
        levels = np.empty((channels, n_blocks + 1))
        spreads = np.empty((channels, n_blocks + 1))
        levels[:, 0] = self.level_mv
        spreads[:, 0] = self.spread
        for j in range(n_blocks):
            level = levels[:, j]
            levels[:, j + 1] = self._update(level, resting[:, j], invalid_share[:, j])
            spreads[:, j + 1] = self._update_spread(
                spreads[:, j], level, resting[:, j], high[:, j], invalid_share[:, j]
            )
        self.level_mv = levels[:, -1].copy()
        self.spread = spreads[:, -1].copy()
        self.blocks_done += n_blocks
        self._pending = env[:, whole:]
        self._pending_invalid = inv[:, whole:]

        span = slice(pending_before, pending_before + m)
        per_sample = np.repeat(levels, bs, axis=1)[:, span]
        spread_per_sample = np.repeat(spreads, bs, axis=1)[:, span]
        summary = BlockSummary(self.blocks_done - n_blocks, rms, levels[:, :-1])
        return per_sample, spread_per_sample, summary

    def _update_spread(
        self,
        spread: Float64Array,
        level: Float64Array,
        resting: Float32Array,
        high: Float64Array,
        invalid_share: Float64Array,
    ) -> Float64Array:
        # q95 >= q25, so a ratio below 1 only comes from a flat (zero) block.
        ratio = np.maximum(high / np.maximum(resting.astype(np.float64), 1e-9), 1.0)
        with np.errstate(invalid="ignore"):
            quiet = (invalid_share <= MAX_INVALID_SHARE) & (high < self._spasm_x * level)
        updated = np.exp(np.log(spread) + self._spread_alpha * (np.log(ratio) - np.log(spread)))
        result: Float64Array = np.where(quiet, np.where(np.isnan(spread), ratio, updated), spread)
        return result

    def _update(
        self, level: Float64Array, resting: Float32Array, invalid_share: Float64Array
    ) -> Float64Array:
        resting64 = np.maximum(resting.astype(np.float64), 1e-9)
        usable = invalid_share <= MAX_INVALID_SHARE
        first = np.isnan(level) & usable
        falling = resting64 < level
        in_spasm = resting64 > self._spasm_x * level
        self._held_blocks = np.where(in_spasm & usable, self._held_blocks + 1, 0)
        stuck = self._held_blocks > self._max_hold_blocks
        alpha = np.where(falling, self._fall_alpha, np.where(in_spasm, 0.0, self._rise_alpha))
        alpha = np.where(usable, np.where(stuck, 1.0, alpha), 0.0)
        updated = np.exp(np.log(level) + alpha * (np.log(resting64) - np.log(level)))
        result: Float64Array = np.where(first, resting64, np.where(np.isnan(level), level, updated))
        return result
