"""Types of the names :mod:`monitor.dsp.imu` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .alignment import StreamAligner
from .calibration import (
    JointCalibration,
    calibrate_joint,
)
from .joint_angle import (
    HingeAngle,
    joint_angle_deg,
    joint_angle_from_orientations,
)
from .joints import (
    JOINTS,
    JointSpec,
)
from .movement_spasm import (
    MovementSpasmDetector,
    MovementSpasmParams,
    detect_movement_spasms,
)
from .orientation import (
    OrientationFilter,
    OrientationParams,
    orientation,
)
from .repetitions import (
    ExerciseSetSummary,
    RepetitionCounter,
    RepetitionParams,
    count_repetitions,
)
from .rom import (
    RomProcessor,
    range_of_motion,
)
from .streaming import (
    JointAngleProcessor,
    MovementSpasmProcessor,
    SegmentStreams,
)
from .tardieu import (
    TardieuTrial,
    tardieu_trials,
)

__all__ = [
    "JOINTS",
    "ExerciseSetSummary",
    "HingeAngle",
    "JointAngleProcessor",
    "JointCalibration",
    "JointSpec",
    "MovementSpasmDetector",
    "MovementSpasmParams",
    "MovementSpasmProcessor",
    "OrientationFilter",
    "OrientationParams",
    "RepetitionCounter",
    "RepetitionParams",
    "RomProcessor",
    "SegmentStreams",
    "StreamAligner",
    "TardieuTrial",
    "calibrate_joint",
    "count_repetitions",
    "detect_movement_spasms",
    "joint_angle_deg",
    "joint_angle_from_orientations",
    "orientation",
    "range_of_motion",
    "tardieu_trials",
]
