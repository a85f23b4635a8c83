"""EMG arrays as the detector takes them: float32 of shape (n, channels), in mV."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Float32Array = npt.NDArray[np.float32]


def validate_emg(emg_mv: npt.ArrayLike, copy: bool = True) -> Float32Array:
    """Check an EMG array and return it as float32 of shape (n, channels).

    With ``copy=False`` a float32 input is returned as a view of itself.
    """
    array = np.asarray(emg_mv)
    if array.dtype.kind != "f":  # real floating point: not ints, complex or objects
        raise ValueError(
            f"emg_mv must be a floating-point array in mV, got dtype {array.dtype}"
            " (convert ADC counts to mV with the device scale first)"
        )
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"emg_mv must have shape (n,) or (n, channels) with n >= 1, got {np.shape(emg_mv)}")
    return array.astype(np.float32, copy=copy)
