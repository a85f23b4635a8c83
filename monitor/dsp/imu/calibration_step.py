"""The guided calibration of one joint: hold the neutral pose, then flex it a few times.

``spasm-monitor calibrate`` feeds the two IMUs' frames to :class:`GuidedCalibration`
while it prompts the patient. The step follows what the sensors see, not a clock: it
waits until the joint has been held still for ``hold_s`` (the neutral pose), then counts
flexions (a rotation of the joint beyond ``min_flexion_deg`` away from the neutral pose
and back), and calibrates with :func:`~monitor.dsp.imu.calibration.calibrate_joint` on
exactly that stretch. A gap in the streams (a BLE drop, a corrupt frame) restarts the
step from the neutral pose, since the orientation filters restart too.

Stillness and flexion are judged on the relative orientation of the two IMUs, which a
whole-body sway or a turn does not change. Like every DSP object it is pure: its time is
the samples' time, and the command supplies the prompts and the deadline for connecting.
"""

from __future__ import annotations

import math
from enum import Enum

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu import quaternion as quat
from monitor.dsp.imu.calibration import (
    CalibrationError,
    JointCalibration,
    calibrate_joint,
    relative_orientation,
)
from monitor.dsp.imu.joint_streams import JointAligner, SegmentStreams, plausible_runs
from monitor.dsp.imu.joints import joint_spec
from monitor.dsp.imu.orientation import OrientationFilter
from monitor.types import Frame

FloatArray = npt.NDArray[np.float64]

# The orientation filter's start-up ramp (OrientationParams.initial_s) and the 2 s that
# calibrate_joint sets aside before the neutral pose, s.
SETTLE_S = 2.0


class Phase(Enum):
    """Where the step is; the command prompts on each change."""

    SETTLING = "settling"  # filters starting (first 2 s of data, or after a gap)
    NEUTRAL = "neutral"  # waiting for the joint held still in the neutral pose
    FLEXING = "flexing"  # counting flexions
    DONE = "done"  # :attr:`GuidedCalibration.result` holds the calibration
    FAILED = "failed"  # :attr:`GuidedCalibration.error` says why


_OVER: tuple[Phase, ...] = (Phase.DONE, Phase.FAILED)


class GuidedCalibration:
    """Calibrate a two-IMU joint from a guided neutral pose and flexions.

    Parameters
    ----------
    proximal, distal : SegmentStreams
        Streams of the IMU on the proximal and on the distal segment.
    sample_rate_hz : float
        Processing rate, Hz; the four streams are resampled onto it.
    joint : {"knee", "elbow", "ankle"}
    flexions : int
        Flexions to count after the neutral pose.
    hold_s : float
        How long the neutral pose must be held still, s (at least 0.5).
    still_deg : float
        Largest rotation of the joint during the hold that still counts as still, degrees.
    min_flexion_deg : float
        A flexion takes the joint at least this far from the neutral pose, degrees (the
        calibration needs 15 to see the hinge axis).
    phase_timeout_s : float
        Data time allowed for the neutral pose, and then for the flexions, s.

    Examples
    --------
    >>> from monitor.synth.motion import generate_motion
    >>> from monitor.types import Frame, SensorKind, StreamId
    >>> rec = generate_motion("knee", duration_s=60, sample_rate_hz=50, seed=3)
    >>> prox = SegmentStreams(StreamId("thigh", "acc"), StreamId("thigh", "gyr"))
    >>> dist = SegmentStreams(StreamId("shank", "acc"), StreamId("shank", "gyr"))
    >>> step = GuidedCalibration(prox, dist, 50.0)
    >>> for stream, kind, data in [(prox.gyr, SensorKind.GYR, rec.gyr_prox_dps),
    ...         (prox.acc, SensorKind.ACC, rec.acc_prox_g), (dist.gyr, SensorKind.GYR, rec.gyr_dist_dps),
    ...         (dist.acc, SensorKind.ACC, rec.acc_dist_g)]:
    ...     _ = step.process(Frame(stream, kind, 50.0, rec.t0_ns, 0, rec.n_samples - 1, data))
    >>> step.phase, step.flexions_seen, step.result is not None
    (<Phase.DONE: 'done'>, 3, True)
    """

    def __init__(
        self,
        proximal: SegmentStreams,
        distal: SegmentStreams,
        sample_rate_hz: float,
        joint: str = "knee",
        *,
        flexions: int = 3,
        hold_s: float = 2.0,
        still_deg: float = 3.0,
        min_flexion_deg: float = 20.0,
        phase_timeout_s: float = 60.0,
    ) -> None:
        joint_spec(joint)
        if flexions < 1 or not hold_s >= 0.5 or not still_deg > 0 or not min_flexion_deg >= 15.0:
            raise ValueError(
                "need flexions >= 1, hold_s >= 0.5, still_deg > 0 and min_flexion_deg >= 15,"
                f" got {flexions}, {hold_s}, {still_deg}, {min_flexion_deg}"
            )
        self.sample_rate_hz = float(sample_rate_hz)
        self.joint = joint
        self.flexions = flexions
        self.still_deg = still_deg
        self.min_flexion_deg = min_flexion_deg
        self._n_settle = round(SETTLE_S * self.sample_rate_hz)
        self._n_hold = round(hold_s * self.sample_rate_hz)
        self._n_timeout = round(phase_timeout_s * self.sample_rate_hz)
        self._aligner = JointAligner(proximal, distal, sample_rate_hz)
        self.phase = Phase.SETTLING
        self.flexions_seen = 0
        self.restarts = 0  # gaps after settling, which sent the step back to the neutral pose
        self.result: JointCalibration | None = None
        self.error: str | None = None
        self._restart(0)

    def process(self, frame: Frame) -> Phase:
        """Take one frame of any of the four streams (others are ignored); the phase now."""
        if not self._aligner.takes(frame) or self.phase in (Phase.DONE, Phase.FAILED):
            return self.phase
        self._aligner.push_frame(frame)
        first_k, columns = self._aligner.pull()
        gyr_p, acc_p, gyr_d, acc_d = columns
        for lo, hi, plausible in plausible_runs(columns):
            if self.phase in _OVER:  # (not narrowed: the step moves on inside the loop)
                break
            if not plausible:
                # While settling (a wearable that starts later than the other, the clock fit
                # of a new connection still moving) this only delays the start, unseen by
                # the patient; after, the signal dropped and the pose must be held again.
                self.restarts += self.phase is not Phase.SETTLING
                self._restart(first_k + hi)
                continue
            qp = self._filters[0].update(acc_p[lo:hi], gyr_p[lo:hi])
            qd = self._filters[1].update(acc_d[lo:hi], gyr_d[lo:hi])
            self._take(qp, qd)
        return self.phase

    @property
    def started_ns(self) -> int | None:
        """UTC time of the neutral pose's start once found, ns."""
        if self._hold_start is None or self._aligner.origin_ns is None:
            return None
        return int(self._aligner.grid_time_ns(self._k0 + self._hold_start))

    # --- internals ----------------------------------------------------------------------

    def _restart(self, k0: int) -> None:
        """Start over from the settling phase at grid point ``k0`` (start, or after a gap)."""
        self._filters = OrientationFilter(self.sample_rate_hz), OrientationFilter(self.sample_rate_hz)
        self._k0 = k0
        self._qp: list[FloatArray] = []
        self._qd: list[FloatArray] = []
        self._rel: list[FloatArray] = []
        self._n = 0  # samples since k0
        self._anchor: FloatArray | None = None  # relative orientation the stillness is held to
        self._still_from = 0
        self._hold_start: int | None = None
        self._neutral: FloatArray | None = None
        self._phase_from = 0
        self._bent = False
        self.flexions_seen = 0
        self.phase = Phase.SETTLING

    def _take(self, qp: FloatArray, qd: FloatArray) -> None:
        rel = relative_orientation(qp, qd)
        self._qp.append(qp)
        self._qd.append(qd)
        self._rel.append(rel)
        # One sample at a time: a few thousand over the step, and phases change mid-chunk.
        for i in range(rel.shape[0]):
            n = self._n + i
            if self.phase is Phase.SETTLING and n >= self._n_settle:
                self.phase, self._phase_from = Phase.NEUTRAL, n
                self._anchor, self._still_from = rel[i], n
            if self.phase is Phase.NEUTRAL:
                self._neutral_sample(n, rel[i])
            elif self.phase is Phase.FLEXING:
                self._flexing_sample(n, rel[i])
            if self.phase in (Phase.DONE, Phase.FAILED):
                break
        self._n += rel.shape[0]

    def _neutral_sample(self, n: int, rel: FloatArray) -> None:
        assert self._anchor is not None
        if _angle_deg(rel, self._anchor) > self.still_deg:
            self._anchor, self._still_from = rel, n
        elif n + 1 - self._still_from >= self._n_hold:
            self._neutral = quat.mean(np.concatenate(self._rel)[self._still_from : n + 1])
            self._hold_start = self._still_from
            self.phase, self._phase_from = Phase.FLEXING, n + 1
        elif n - self._phase_from >= self._n_timeout:
            self._fail(f"the {self.joint} was not held still for {self._n_hold / self.sample_rate_hz:g} s")

    def _flexing_sample(self, n: int, rel: FloatArray) -> None:
        assert self._neutral is not None
        angle_deg = _angle_deg(rel, self._neutral)
        if not self._bent and angle_deg > self.min_flexion_deg:
            self._bent = True
        elif self._bent and angle_deg < 0.5 * self.min_flexion_deg:
            self._bent = False
            self.flexions_seen += 1
            if self.flexions_seen >= self.flexions:
                self._calibrate(n + 1)
                return
        if n - self._phase_from >= self._n_timeout:
            self._fail(
                f"saw {self.flexions_seen} of {self.flexions} flexions (each at least"
                f" {self.min_flexion_deg:g} deg from the neutral pose and back)"
            )

    def _calibrate(self, end: int) -> None:
        assert self._hold_start is not None
        start = self._hold_start - self._n_settle  # calibrate_joint sets 2 s aside first
        qp = np.concatenate(self._qp)[start:end]
        qd = np.concatenate(self._qd)[start:end]
        neutral_s = (self._hold_start + self._n_hold - start) / self.sample_rate_hz
        try:
            found = calibrate_joint(
                qp,
                qd,
                self.sample_rate_hz,
                neutral_s=neutral_s,
                calibration_s=(end - start) / self.sample_rate_hz,
            )
        except (CalibrationError, np.linalg.LinAlgError) as error:
            self._fail(f"the calibration failed: {error}")
            return
        if not found.functional:
            self._fail(f"the {self.joint} moved too little to find its axis ({found.flexion_deg:.0f} deg)")
            return
        started_ns = self.started_ns or 0
        self.result = JointCalibration(
            found.axis_prox,
            found.q_rel_neutral,
            functional=True,
            flexion_deg=found.flexion_deg,
            neutral_spread_deg=found.neutral_spread_deg,
            calibrated_ns=started_ns,
        )
        self.phase = Phase.DONE

    def _fail(self, reason: str) -> None:
        self.error = reason
        self.phase = Phase.FAILED


def _angle_deg(q: FloatArray, reference: FloatArray) -> float:
    """Rotation angle between two unit quaternions, degrees."""
    dot = min(1.0, abs(float(np.dot(q, reference))))
    return 2.0 * math.degrees(math.acos(dot))
