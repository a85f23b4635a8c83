"""IMU half of the DSP core: orientation, joint angle, range of motion, movement spasms.

Conventions used throughout: accelerometers in g (specific force, +1 g up at rest),
gyroscopes in deg/s, quaternions (w, x, y, z) Hamilton rotating sensor-frame vectors
into an earth frame with z up, times as UTC integer ns.
"""

from monitor.dsp.imu.alignment import StreamAligner
from monitor.dsp.imu.calibration import JointCalibration, calibrate_joint
from monitor.dsp.imu.joint_angle import HingeAngle, joint_angle_deg, joint_angle_from_orientations
from monitor.dsp.imu.joints import JOINTS, JointSpec
from monitor.dsp.imu.movement_spasm import (
    MovementSpasmDetector,
    MovementSpasmParams,
    detect_movement_spasms,
)
from monitor.dsp.imu.orientation import OrientationFilter, OrientationParams, orientation
from monitor.dsp.imu.repetitions import (
    ExerciseSetSummary,
    RepetitionCounter,
    RepetitionParams,
    count_repetitions,
)
from monitor.dsp.imu.rom import RomProcessor, range_of_motion
from monitor.dsp.imu.streaming import (
    JointAngleProcessor,
    MovementSpasmProcessor,
    SegmentStreams,
)
from monitor.dsp.imu.tardieu import TardieuTrial, tardieu_trials

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
