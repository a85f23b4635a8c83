"""Types of the names :mod:`monitor.dsp` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .emg_batch import detect_spasms
from .emg_detector import SpasmDetector
from .evidence import attach_imu_evidence
from .imu import (
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
from .params import EmgParams

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
