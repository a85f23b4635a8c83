"""Burst-level artefact checks: electrode knocks and bursts born of lost signal.

A burst that crosses the spasm thresholds is muscle only if its content looks like
muscle. Surface EMG at 1 kHz has an RMS frequency (Rice) of about 100–130 Hz; what an
electrode knock leaves after the 20 Hz high-pass sits below 50 Hz. Below 500 Hz the
band is too narrow for that measure to leave a margin, and the raw signal's power below
the EMG band (3-20 Hz, where a knock holds most of its energy) is compared with the
band-passed power instead.

Both are read from the signal that made the burst, not from where the smoothed envelope
stands above threshold (it lags by tens of ms), and both count only what the burst adds
to the rest before it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from monitor.dsp.envelope import MOTION_RMS_FREQUENCY_MIN_RATE_HZ
from monitor.dsp.history import EnvelopeHistory
from monitor.dsp.params import EmgParams

# A burst at least this much covered by (guarded) flat line or non-finite samples is spurious.
LOST_SIGNAL_SHARE = 0.5
# The low band's resting level is read over this long before a burst (the history keeps
# about a second before any open burst).
REST_BEFORE_S = 1.0
# One-sided bound on the rest's variation credited to a burst: 2 sigma, a 2.3 % chance
# that rest noise alone makes a knock look like muscle.
REST_NOISE_Z = 2.0
MOTION_BAND_REST_QUANTILE = 0.25


def is_motion(
    history: EnvelopeHistory,
    channel: int,
    start: int,
    stop: int,
    sample_rate_hz: float,
    envelope_rate_hz: float,
    params: EmgParams,
    continues: bool = False,
    content_lag: tuple[int, int] = (0, 0),
) -> bool:
    """Whether the burst ``[start, stop)`` is an electrode knock rather than muscle.

    ``[start, stop)`` is where the smoothed envelope stands above threshold; that envelope
    lags the signal, by ``content_lag = (rise, fall)`` envelope samples at a rising and a
    falling edge. What is judged is the signal that made the burst, ``[start - fall,
    stop - rise)``: judged where the envelope stands, a short knock would be read mostly
    from the rest after it, whose broadband noise looks like muscle.

    A burst that would continue a spasm (``continues``) is judged like any other, since
    heel strikes within a second of each other would otherwise chain into one endless
    "spasm", except by its low band where the spasm itself stands before it: the low
    band then holds the spasm's own movement, and what the burst adds cannot be told
    from a knock's.
    """
    rise, fall = content_lag
    edge_index = start
    start, stop = max(start - fall, history.start), stop - rise
    power = float(history.window("power", channel, start, stop).sum(dtype=np.float64))
    if power <= 0:
        return False
    rate = envelope_rate_hz
    # Only what the burst adds counts: the rest under it (broadband amplifier noise,
    # slow wander in the low band) was there before, and would otherwise make a weak
    # knock look like muscle at high rates, or a weak burst like a knock at low ones.
    before = slice(start - round(REST_BEFORE_S * rate), start - round(0.1 * rate))
    n = stop - start
    if sample_rate_hz >= MOTION_RMS_FREQUENCY_MIN_RATE_HZ:
        steps = float(history.window("diff_power", channel, start, stop).sum(dtype=np.float64))
        added_power, added_steps = power, steps
        rest_power = _rest_level(history, "power", channel, before)
        # Only rest counts as rest: before a burst inside a spasm stands the spasm itself.
        if _at_rest(history, channel, edge_index, rest_power) and power > 2 * n * rest_power:
            added_power = power - n * rest_power
            # The rest's own steps (broadband noise, mostly high-frequency) vary from one
            # stretch to the next; what a weak knock adds is smaller than that variation,
            # so a burst that would start a spasm is credited with high-frequency content
            # only beyond it. One that continues a spasm (a weak clonic beat) is muscle
            # unless its own estimate says otherwise.
            rest_steps, rest_steps_spread = _rest_level_and_spread(history, "diff_power", channel, before)
            margin = 0.0 if continues else REST_NOISE_Z * rest_steps_spread * math.sqrt(n)
            added_steps = steps - n * rest_steps - margin
        # What it adds has no high-frequency content at all: a slow swing.
        rms_frequency_hz = sample_rate_hz / (2 * math.pi) * math.sqrt(max(added_steps, 0.0) / added_power)
        return bool(rms_frequency_hz < params.motion_max_hz)
    # Knocks are brief; a long burst is muscle whatever drift rides under it.
    if n / rate >= params.myoclonic_max_s:
        return False
    if continues and not _at_rest(
        history, channel, edge_index, _rest_level(history, "power", channel, before)
    ):
        return False
    lowband = float(history.window("lowband", channel, start, stop).sum(dtype=np.float64))
    added = max(lowband - n * _motion_band_rest(history, channel, before), 0.0)
    return bool(np.sqrt(added / power) > params.motion_lowband_ratio)


def _at_rest(history: EnvelopeHistory, channel: int, start: int, rest_power: float) -> bool:
    # At rest: within the resting envelope's own spread of the floor (the level to which
    # the detector moves a spasm's edges), not inside a spasm.
    edge = history.window("edge", channel, start, start + 1)
    return bool(edge.size) and rest_power <= float(edge[0]) ** 2


def _rest_level_and_spread(
    history: EnvelopeHistory, series: str, channel: int, before: slice
) -> tuple[float, float]:
    """Median and robust spread (1.4826 x MAD) of ``series`` over ``before``."""
    values = history.window(series, channel, before.start, before.stop)
    if not values.size:
        return 0.0, 0.0
    median = _median(values)
    return median, 1.4826 * _median(np.abs(values - median))


def _rest_level(history: EnvelopeHistory, series: str, channel: int, before: slice) -> float:
    """Median of ``series`` over ``before``: other knocks in a dense rest do not move it."""
    values = history.window(series, channel, before.start, before.stop)
    return _median(values) if values.size else 0.0


def _median(values: npt.NDArray[np.floating]) -> float:
    """``float(np.median(values))`` of a non-empty 1-D array, the same value to the bit.

    ``np.median`` spends tens of µs a call in checks and dispatch, and is called for
    each burst. Like it, this partitions, averages the two middle values in the array's
    own precision, and returns NaN if any value is NaN (partitioned last).
    """
    half = values.size // 2
    if values.size % 2:
        part = np.partition(values, (half, -1))
        middle = part[half]
    else:
        part = np.partition(values, (half - 1, half, -1))
        middle = (part[half - 1] + part[half]) / 2
    return math.nan if math.isnan(part[-1]) else float(middle)


def _motion_band_rest(history: EnvelopeHistory, channel: int, before: slice) -> float:
    """The motion band's rest level over ``before``: its lower quartile.

    A knock's energy in the motion band, with the band-pass's ringing after it (about
    0.2 s), fills up to half of the second before a burst in a dense rest, and would read
    as rest at the median. The lower quartile, like the resting floor's
    (``EmgParams.floor_quantile``), ignores what covers up to three quarters of it.
    """
    values = history.window("lowband", channel, before.start, before.stop)
    return float(np.quantile(values, MOTION_BAND_REST_QUANTILE)) if values.size else 0.0


def lost_signal(history: EnvelopeHistory, channel: int, start: int, stop: int, guard: int) -> bool:
    """Whether the burst lies mostly within, or just after, a flat line or non-finite run.

    Flags are widened by ``guard`` samples each way: reconnecting an electrode or resuming
    after NaNs leaves a filter transient that must not count as a spasm.
    """
    lo = max(start - 2 * guard, history.start)
    flags = history.window("lost", channel, lo, stop + 2 * guard)
    if not flags.any():
        return False
    if guard:
        flags = np.convolve(flags, np.ones(2 * guard + 1), mode="same") > 0
    inside = flags[start - lo : stop - lo]
    return bool(inside.size) and float(inside.mean()) >= LOST_SIGNAL_SHARE
