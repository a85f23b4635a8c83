"""The units an EMG file's numbers are in, converted to mV, and a check that the result is EMG.

Files come in mV, µV, V or raw ADC counts, and rarely say which. ``analyze`` takes the unit
from ``--units`` (mV by default; counts need ``--scale-mv``, the mV one count stands for),
and warns when the converted amplitude is implausible for surface EMG, naming the unit
that would make it plausible.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.errors import ConfigError

# mV per unit of the file's numbers.
MV_PER_UNIT = {"mV": 1.0, "uV": 1e-3, "V": 1e3}
UNITS = (*MV_PER_UNIT, "counts")
# Surface EMG stands between a resting floor of a few µV and a maximal contraction of a few mV
# (De Luca 2002, "Surface electromyography: detection and recording", Delsys: 0-10 mV peak to
# peak, 0-1.5 mV RMS). A whole recording's RMS outside these bounds, with a wide margin, is a
# unit mistake far more often than a signal: the upper bound is over ten times that maximum.
PLAUSIBLE_RMS_MV = (0.5e-3, 20.0)
# An offset no electrode gives (half-cell potentials are some hundred mV at most): a bipolar
# amplifier's output centres on 0, an ADC's counts on mid-scale.
PLAUSIBLE_OFFSET_MV = 1000.0


def to_mv(values: npt.NDArray[np.float32], units: str, scale_mv: float | None) -> npt.NDArray[np.float32]:
    """Convert ``values`` (shape (n, channels)) to mV in place and return them.

    Parameters
    ----------
    values : ndarray, shape (n, channels), float32
        The file's numbers.
    units : {"mV", "uV", "V", "counts"}
    scale_mv : float, optional
        mV per ADC count; required with ``counts`` and refused otherwise. The ADC's
        mid-scale offset (about 2048 for 12 bits) stays: the detector's band-pass removes it,
        starting in its steady state so that it does not ring.

    Raises
    ------
    ConfigError
        An unknown unit, or a scale missing, not positive, or given without ``counts``.
    """
    if units not in UNITS:
        raise ConfigError(f"--units must be one of {', '.join(UNITS)}, got {units!r}", "")
    if units != "counts":
        if scale_mv is not None:
            raise ConfigError("--scale-mv applies to --units counts only", "")
        factor = MV_PER_UNIT[units]
        if factor != 1.0:
            values *= np.float32(factor)
        return values
    if scale_mv is None:
        raise ConfigError(
            "--units counts needs --scale-mv: the mV one ADC count stands for",
            "from the device's datasheet: reference voltage / 2**bits / amplifier gain, in mV",
        )
    if not (np.isfinite(scale_mv) and scale_mv > 0):
        raise ConfigError(f"--scale-mv must be > 0, got {scale_mv:g}", "")
    values *= np.float32(scale_mv)
    return values


def amplitude_warning(emg_mv: npt.NDArray[np.float32], names: list[str], units: str) -> str | None:
    """A one-line warning if a channel's RMS (about its mean) or offset is implausible for EMG.

    Parameters
    ----------
    emg_mv : ndarray, shape (n, channels), float32
        The converted signal, mV.
    names : list of str
        Channel names, for the message.
    units : str
        The unit the file was read in, to suggest another.

    Returns
    -------
    str or None
        The warning, naming the channel, its RMS and the unit to try; None when plausible.
    """
    low_mv, high_mv = PLAUSIBLE_RMS_MV
    for channel, name in enumerate(names):
        column = emg_mv[:, channel]
        finite = column[np.isfinite(column)]
        if finite.size < 2:
            continue
        rms_mv = float(np.std(finite, dtype=np.float64))
        offset_mv = float(np.median(finite))
        if abs(offset_mv) > PLAUSIBLE_OFFSET_MV and units != "counts":
            return (
                f"channel {name!r}: centred on {offset_mv:.4g} mV, an offset no EMG amplifier gives:"
                " raw ADC counts? then --units counts --scale-mv MV_PER_COUNT"
            )
        if rms_mv > high_mv:
            hint = {"mV": "--units uV", "V": "--units mV or uV"}.get(units, "a smaller --scale-mv")
            return (
                f"channel {name!r}: RMS {rms_mv:.4g} mV is far above surface EMG (a few mV at most):"
                f" did you mean {hint}?"
            )
        if 0 < rms_mv < low_mv:
            hint = {"mV": "--units V", "uV": "--units mV"}.get(units, "a larger --scale-mv")
            return (
                f"channel {name!r}: RMS {rms_mv * 1000:.3g} µV is below any surface EMG's noise:"
                f" did you mean {hint}?"
            )
    return None
