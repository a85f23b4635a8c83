"""IMU half of the DSP core: orientation, joint angle, range of motion, movement spasms.

Conventions used throughout: accelerometers in g (specific force, +1 g up at rest),
gyroscopes in deg/s, quaternions (w, x, y, z) Hamilton rotating sensor-frame vectors
into an earth frame with z up, times as UTC integer ns.
"""

from monitor.dsp.imu.calibration import JointCalibration, calibrate_joint
from monitor.dsp.imu.joint_angle import HingeAngle, joint_angle_deg, joint_angle_from_orientations
from monitor.dsp.imu.joints import JOINTS, JointSpec
from monitor.dsp.imu.orientation import OrientationFilter, OrientationParams, orientation

__all__ = [
    "JOINTS",
    "HingeAngle",
    "JointCalibration",
    "JointSpec",
    "OrientationFilter",
    "OrientationParams",
    "calibrate_joint",
    "joint_angle_deg",
    "joint_angle_from_orientations",
    "orientation",
]
