"""The resting floor of the EMG envelope: where a channel sits when the muscle is quiet.

A spasm and an electrode drift both raise the envelope; what separates them is time.
A spasm rises within tens to hundreds of milliseconds; an electrode's floor (impedance,
sweat, cable motion, background tone) drifts over tens of seconds to hours. The floor is
therefore a *local* statistic over the last ``floor_window_s`` (a few seconds): long
enough to hold the rest that precedes any spasm's rise, short enough that even a
threefold drift within a minute moves it by under 10 % inside the window.

Two order statistics make it robust without any notion of "a block with artefacts":

1. each ``floor_block_s`` block is reduced to the median of its *valid* envelope
   samples (flat line and non-finite samples are excluded one by one, never the whole
   block), so a heartbeat, a heel strike or a clonic beat that covers less than half
   a block does not move it;
2. the floor in force during a block is the same low quantile of the previous
   ``floor_window_s`` of block values, so bursts covering up to three quarters of the
   window do not move it either.

It is causal and vectorized: the floor of block j depends on blocks before j only, and
any chunking of the envelope gives the same floor.

The *spread* of rest is tracked beside it: the ratio of a block's high quantile (95 %)
to the floor, averaged (in the log domain, over ``SPREAD_TAU_S``) over quiet blocks. It is
how far the envelope wanders above the floor by chance (larger at 200 Hz, where the band
is narrow) and spasm edges are placed where the envelope returns within it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.dsp.params import EmgParams

Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Each block is read by its median: the floor is where rest *sits*, so the thresholds
# above it measure a burst against typical rest, not against rest's quietest moments.
BLOCK_QUANTILE = 0.5
SPREAD_QUANTILE = 0.95
# The spread is a property of the band and the smoothing, steady over minutes.
SPREAD_TAU_S = 60.0
# A block needs this share of valid samples for its quantiles to mean anything, and the
# window this share of valid blocks (1 s of the 4 s window): at a stream's start a floor
# read from the first block or two, while the envelope still settles, would freeze a
# reference far below rest, and the first burst would latch on it.
MIN_VALID_SHARE = 0.25
MIN_VALID_WINDOW_SHARE = 0.25


def order_statistics(
    values: Float64Array, *quantiles: float
) -> tuple[npt.NDArray[np.int64], list[Float64Array]]:
    """The ``quantiles`` (lower order statistics) along the last axis, ignoring NaN.

    Returns the count of finite values along the last axis and one array per quantile,
    NaN where a row has no finite value. Each equals ``np.nanquantile(values, q, axis=-1,
    method="lower")``, which handles NaN row by row in Python: 28x slower on an hour of
    blocks, more than the whole detector's budget. One sort serves every quantile.
    """
    ordered = np.sort(values, axis=-1)  # NaN sort last
    valid: npt.NDArray[np.int64] = np.sum(np.isfinite(values), axis=-1)
    size = ordered.shape[-1]  # at least one value
    if valid.size and valid.min() == size:  # the usual case: every value finite
        return valid, [ordered[..., math.floor(q * (size - 1))].copy() for q in quantiles]
    rows = ordered.reshape(-1, size)
    row_index = np.arange(rows.shape[0])
    results = []
    for q in quantiles:
        index = np.floor(q * np.maximum(valid - 1, 0)).astype(np.int64)
        picked = rows[row_index, index.reshape(-1)].reshape(valid.shape)
        results.append(np.where(valid > 0, picked, np.nan))
    return valid, results


@dataclass(frozen=True)
class FloorEstimate:
    """Per envelope sample of one chunk; arrays have shape (channels, m).

    Attributes
    ----------
    floor_mv : the resting floor in force at each sample, mV (NaN until known).
    spread : the spread of rest in force at each sample, a ratio >= 1 (NaN until known).
    provisional : the floor was read from a window not yet full of valid blocks (a
        stream's first seconds, or just after a flat line).
    """

    floor_mv: Float64Array
    spread: Float64Array
    provisional: BoolArray


class RestingFloor:
    """Streaming resting floor; ``process`` returns the floor in force at each sample."""

    def __init__(self, channels: int, rate_hz: float, params: EmgParams) -> None:
        self.block_samples = max(1, round(params.floor_block_s * rate_hz))
        block_s = self.block_samples / rate_hz
        self.window_blocks = max(1, round(params.floor_window_s / block_s))
        self._quantile = params.floor_quantile
        self._spasm_x = params.on_x_baseline
        self._spread_alpha = 1.0 - np.exp(-block_s / SPREAD_TAU_S)
        self._min_valid = max(1, int(np.ceil(MIN_VALID_SHARE * self.block_samples)))
        self._min_valid_blocks = max(1, int(np.ceil(MIN_VALID_WINDOW_SHARE * self.window_blocks)))
        # Block values of the window before the open block, oldest first.
        self._recent = np.full((channels, self.window_blocks), np.nan)
        self._spread_log = np.full(channels, np.nan)
        self._pending = np.zeros((channels, 0), dtype=np.float64)

    def process(self, envelope: Float32Array, invalid: BoolArray) -> FloorEstimate:
        """Advance over a chunk of envelope samples.

        Parameters
        ----------
        envelope : ndarray, shape (channels, m)
            Smoothed RMS envelope, mV.
        invalid : ndarray of bool, shape (channels, m)
            Samples that say nothing about rest (flat line, non-finite).

        Returns
        -------
        FloorEstimate
        """
        m = envelope.shape[1]
        before = self._pending.shape[1]
        masked = np.where(invalid, np.nan, envelope.astype(np.float64))
        blocks, self._pending = cut_blocks(self._pending, masked, self.block_samples)

        valid, (resting, high) = order_statistics(blocks, BLOCK_QUANTILE, SPREAD_QUANTILE)
        resting = np.where((valid >= self._min_valid) & (resting > 0), resting, np.nan)

        # Floor in force during block j (and, last, during the open block): the quantile
        # of the window of blocks before it.
        history = np.concatenate([self._recent, resting], axis=1)
        # A strided view, not sliding_window_view: its checks cost more than the sort of
        # a 2 s chunk's few windows.
        channels, w = history.shape[0], self.window_blocks
        windows = np.lib.stride_tricks.as_strided(
            history,
            (channels, history.shape[1] - w + 1, w),
            (history.strides[0], *history.strides[1:] * 2),
            writeable=False,
        )
        valid_blocks, (floors,) = order_statistics(windows, self._quantile)
        floors[valid_blocks < self._min_valid_blocks] = np.nan
        self._recent = history[:, history.shape[1] - self.window_blocks :]

        spreads = self._spreads(high, floors[:, :-1])
        bs = self.block_samples
        span = slice(before, before + m)
        floor_mv = np.repeat(floors, bs, axis=1)[:, span]
        spread = np.repeat(spreads, bs, axis=1)[:, span]
        provisional = np.repeat(valid_blocks < self.window_blocks, bs, axis=1)[:, span]
        return FloorEstimate(floor_mv, spread, provisional)

    def _spreads(self, high: Float64Array, floor: Float64Array) -> Float64Array:
        """Spread in force during each completed block and after the last, (channels, k + 1).

        An exponential average in the log domain over the quiet blocks only (those whose
        high quantile stays below the spasm threshold), carried between chunks and held
        over the blocks between them. A 2 s chunk holds a few blocks: a scalar loop costs
        less than one ``lfilter`` call, and does the same operations in the same order as
        ``lfilter([a], [1, a - 1], x, zi=[(1 - a) * start])`` (transposed direct form II).
        """
        channels, k = high.shape
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.log(np.maximum(high / floor, 1.0))
            quiet = np.isfinite(ratio) & (high < self._spasm_x * floor)
        a = self._spread_alpha
        feedback = a - 1.0  # lfilter's a[1]
        out = np.empty((channels, k + 1))
        for ch, (ratios, quiets) in enumerate(zip(ratio.tolist(), quiet.tolist(), strict=True)):
            state = float(self._spread_log[ch])
            delay: float | None = None  # the filter's one delay; None until the first quiet block
            held = [state]
            for x, is_quiet in zip(ratios, quiets, strict=True):
                if is_quiet:
                    if delay is None:
                        delay = (1.0 - a) * (x if np.isnan(state) else state)
                    state = delay + a * x
                    delay = x * 0.0 - state * feedback
                held.append(state)
            out[ch] = held
            self._spread_log[ch] = state
        result: Float64Array = np.exp(out)
        return result


def cut_blocks(
    pending: Float64Array, new: Float64Array, block_samples: int
) -> tuple[Float64Array, Float64Array]:
    """Whole blocks of ``pending`` then ``new`` (both (channels, n)), and what is left over.

    Returns the blocks, shape (channels, k, block_samples), and the partial block to carry.
    """
    values = np.concatenate([pending, new], axis=1)
    channels, n = values.shape
    k = n // block_samples
    return values[:, : k * block_samples].reshape(channels, k, block_samples), values[:, k * block_samples :]


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
        Resting level in force at the start of each block, mV (NaN before it is known):
        the floor, or during a spasm the floor its onset was measured against.
    """

    first_block: int
    rms_mv: Float64Array
    baseline_mv: Float64Array


class BlockSummarizer:
    """Cuts the envelope and the baseline in force into ``summary_block_s`` blocks."""

    def __init__(self, channels: int, rate_hz: float, summary_block_s: float) -> None:
        self.block_samples = max(1, round(summary_block_s * rate_hz))
        self.blocks_done = 0
        self._pending_envelope = np.zeros((channels, 0), np.float64)
        self._pending_baseline = np.zeros((channels, 0), np.float64)

    def process(self, envelope: Float32Array, baseline_mv: Float64Array) -> BlockSummary:
        bs = self.block_samples
        blocks, self._pending_envelope = cut_blocks(self._pending_envelope, envelope.astype(np.float64), bs)
        base, self._pending_baseline = cut_blocks(self._pending_baseline, baseline_mv, bs)
        k = blocks.shape[1]
        rms = np.sqrt(np.mean(np.square(blocks), axis=2))
        self.blocks_done += k
        return BlockSummary(self.blocks_done - k, rms, base[:, :, 0])
