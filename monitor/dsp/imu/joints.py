"""The joints the IMU pipeline measures, and the sign convention of each angle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Joint = Literal["knee", "elbow", "ankle"]


@dataclass(frozen=True, slots=True)
class JointSpec:
    """What the angle of a joint means.

    Attributes
    ----------
    name : str
        Joint name, used as the ``joint`` tag of records.
    positive_motion : str
        The motion that increases the angle (the opposite one decreases it).
    zero_pose : str
        The pose in which the angle is 0 (the neutral pose of the calibration).
    """

    name: Joint
    positive_motion: str
    zero_pose: str


# Neutral zero method of the AAOS goniometry convention (Greene & Heckman 1994, The
# Clinical Measurement of Joint Motion): 0° in anatomical position.
JOINTS: dict[str, JointSpec] = {
    "knee": JointSpec("knee", "flexion", "standing, knee straight"),
    "elbow": JointSpec("elbow", "flexion", "arm hanging, elbow straight"),
    "ankle": JointSpec("ankle", "dorsiflexion", "standing, foot at 90° to the shank"),
}


def joint_spec(joint: str) -> JointSpec:
    """The spec of ``joint``; ValueError naming the known joints otherwise."""
    try:
        return JOINTS[joint]
    except KeyError:
        raise ValueError(f"joint must be one of {tuple(JOINTS)}, got {joint!r}") from None
