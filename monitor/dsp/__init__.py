"""Signal processing: pure numpy/scipy (and a numba kernel), no I/O, no clock.

EMG: :func:`detect_spasms` (batch) and :class:`SpasmDetector` (streaming) turn surface
EMG into :class:`monitor.types.SpasmEvent` records. IMU: :func:`orientation`,
:func:`joint_angle_deg`, :func:`range_of_motion` and :func:`detect_movement_spasms`, with
streaming processors in :mod:`monitor.dsp.imu`. :func:`attach_imu_evidence` joins the two.
For every processor, any chunking of a stream gives the result of the batch call.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
