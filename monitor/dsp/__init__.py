"""Signal processing: pure numpy/scipy (and a numba kernel), no I/O, no clock.

EMG: :func:`detect_spasms` (batch) and :class:`SpasmDetector` (streaming) turn surface
EMG into :class:`monitor.types.SpasmEvent` records. IMU: :func:`orientation`,
:func:`joint_angle_deg`, :func:`range_of_motion` and :func:`detect_movement_spasms`, with
streaming processors in :mod:`monitor.dsp.imu`. :func:`attach_imu_evidence` joins the two.
For every processor, any chunking of a stream gives the result of the batch call.
"""

from monitor.dsp.emg_batch import detect_spasms
from monitor.dsp.emg_detector import SpasmDetector
from monitor.dsp.evidence import attach_imu_evidence
from monitor.dsp.imu import (
    JointAngleProcessor,
    MovementSpasmDetector,
    MovementSpasmProcessor,
    OrientationFilter,
    RomProcessor,
    SegmentStreams,
    StreamAligner,
    calibrate_joint,
    count_repetitions,
    detect_movement_spasms,
    joint_angle_deg,
    orientation,
    range_of_motion,
)
from monitor.dsp.params import EmgParams

__all__ = [
    "EmgParams",
    "JointAngleProcessor",
    "MovementSpasmDetector",
    "MovementSpasmProcessor",
    "OrientationFilter",
    "RomProcessor",
    "SegmentStreams",
    "SpasmDetector",
    "StreamAligner",
    "attach_imu_evidence",
    "calibrate_joint",
    "count_repetitions",
    "detect_movement_spasms",
    "detect_spasms",
    "joint_angle_deg",
    "orientation",
    "range_of_motion",
]
