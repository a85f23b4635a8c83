"""Signal processing: pure numpy/scipy, no I/O, no clock.

EMG: :func:`detect_spasms` (batch) and :class:`SpasmDetector` (streaming) turn surface
EMG into :class:`monitor.types.SpasmEvent` records. Any chunking of a stream gives the
events of the batch call.
"""

from monitor.dsp.emg_detector import SpasmDetector, detect_spasms
from monitor.dsp.params import EmgParams

__all__ = ["EmgParams", "SpasmDetector", "detect_spasms"]
