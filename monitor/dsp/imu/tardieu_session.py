"""A guided Tardieu test: relax, slow stretches, fast stretches, each judged as it ends.

``spasm-monitor tardieu`` feeds the two IMUs' frames (and the stretched muscle's EMG, if
worn) to :class:`GuidedTardieu` while it tells the carer what to do. Like
:class:`~monitor.dsp.imu.calibration_step.GuidedCalibration` the step follows what the
sensors see, not a clock: it waits for the limb held still (relaxed) for ``relax_s``, then
for ``slow_trials`` slow stretches to the end of the passive range (R2), then for
``fast_trials`` scored fast stretches (R1, V3). The joint angle comes from the stored
calibration (:class:`~monitor.dsp.imu.joint_angle.HingeAngle`) at the IMUs' full rate
(the 10 Hz ``joint_angle`` records are too coarse to time a catch), and each stretch is
measured by :func:`~monitor.dsp.imu.tardieu.tardieu_trials` once the limb is still again,
so a stretch is judged whole, never half-way.

A gap in the IMU streams (a BLE drop, a corrupt frame) restarts the orientation filters:
the stretch in progress is lost (the carer is asked to repeat it) and the trials already
counted are kept. Pure: its time is the samples' time; prompts are the command's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu.calibration import JointCalibration
from monitor.dsp.imu.joint_angle import HingeAngle
from monitor.dsp.imu.joint_streams import JointAligner, SegmentStreams, plausible_runs
from monitor.dsp.imu.joints import joint_spec
from monitor.dsp.imu.orientation import OrientationFilter
from monitor.dsp.imu.tardieu import FAST_MIN_DPS, SLOW_MAX_DPS, TardieuTrial, tardieu_trials
from monitor.types import NS_PER_S, Frame, SensorKind

FloatArray = npt.NDArray[np.float64]

# The orientation filter's start-up ramp (OrientationParams.initial_s), s.
SETTLE_S = 2.0
# Stretching the muscle lowers the angle of the knee and elbow (their flexors are stretched
# by extension) and raises the ankle's (plantarflexors, by dorsiflexion); monitor.synth.tardieu.
STRETCH_SIGN = {"knee": -1, "elbow": -1, "ankle": 1}
# Below this smoothed speed the limb is still, °/s (the movement threshold of tardieu_trials).
STILL_DPS = 5.0
# A stretch is measured once the limb has been still this long after it, s.
_STILL_AFTER_S = 0.5
# The step follows the angle in pieces this long, s.
_PIECE_S = 0.1


class Step(Enum):
    """Where the test is; the command prompts on each change."""

    SETTLING = "settling"  # filters starting (first 2 s of data, or after a gap)
    RELAX = "relax"  # waiting for the limb held still
    SLOW = "slow"  # counting slow stretches
    FAST = "fast"  # counting scored fast stretches
    DONE = "done"
    FAILED = "failed"  # :attr:`GuidedTardieu.error` says why


_OVER: tuple[Step, ...] = (Step.DONE, Step.FAILED)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One stretch as the carer is told about it.

    Attributes
    ----------
    trial : TardieuTrial
        The measured stretch.
    counted : bool
        Whether it counts for the step it was done in.
    message : str
        What to tell the carer, in plain words.
    """

    trial: TardieuTrial
    counted: bool
    message: str


@dataclass(frozen=True, slots=True)
class TardieuResult:
    """The session's medians over its counted trials.

    Attributes
    ----------
    r2_deg : float
        Median passive end range of the slow stretches, degrees.
    r1_deg : float or None
        Median catch angle of the fast stretches with a catch, degrees; None without any.
    r2_minus_r1_deg : float or None
        The dynamic (spastic) component, degrees, positive when the catch comes before
        the end range (as it must): ``stretch_sign · (R2 − R1)``.
    v3_dps : float
        Median peak velocity of the counted fast stretches, °/s.
    catches : int
        Counted fast stretches with a catch.
    catch_source : {"emg", "deceleration", "none"}
        What found the catches: the EMG burst (worn), the deceleration alone, or none.
    """

    r2_deg: float
    r1_deg: float | None
    r2_minus_r1_deg: float | None
    v3_dps: float
    catches: int
    catch_source: str


class GuidedTardieu:
    """Guide and measure a Tardieu test of one calibrated joint.

    Parameters
    ----------
    proximal, distal : SegmentStreams
        Streams of the IMU on the proximal and on the distal segment.
    sample_rate_hz : float
        Processing rate, Hz (at least 50, to time a catch); the IMU streams are resampled
        onto it.
    joint : {"knee", "elbow", "ankle"}
    calibration : JointCalibration
        The joint's stored calibration (``spasm-monitor calibrate``).
    emg_device : str, optional
        The wearable whose EMG (first channel) is on the stretched muscle, when worn: it
        confirms catches.
    slow_trials, fast_trials : int
        Slow and (scored) fast stretches to count.
    relax_s : float
        How long the limb must be held still before the first stretch, s.
    step_timeout_s : float
        Data time allowed for each step (relax, slow, fast), s.

    Examples
    --------
    >>> from monitor.synth.tardieu import generate_tardieu_session
    >>> from monitor.dsp.imu import calibrate_joint, orientation
    >>> s = generate_tardieu_session("knee", seed=1)
    >>> cal = calibrate_joint(orientation(s.acc_prox_g, s.gyr_prox_dps, 100.0),
    ...     orientation(s.acc_dist_g, s.gyr_dist_dps, 100.0), 100.0,
    ...     neutral_s=s.neutral_s, calibration_s=s.calibration_s)
    >>> from monitor.types import StreamId
    >>> prox = SegmentStreams(StreamId("thigh", "acc"), StreamId("thigh", "gyr"))
    >>> dist = SegmentStreams(StreamId("shank", "acc"), StreamId("shank", "gyr"))
    >>> test = GuidedTardieu(prox, dist, 100.0, "knee", cal, slow_trials=2, fast_trials=3)
    >>> k = round(s.calibration_s * 100)  # from the rest after the calibration routine
    >>> t0 = s.t0_ns + k * 10_000_000
    >>> for stream, kind, data in [(prox.gyr, SensorKind.GYR, s.gyr_prox_dps),
    ...         (prox.acc, SensorKind.ACC, s.acc_prox_g), (dist.gyr, SensorKind.GYR, s.gyr_dist_dps),
    ...         (dist.acc, SensorKind.ACC, s.acc_dist_g)]:
    ...     _ = test.process(Frame(stream, kind, 100.0, t0, 0, data[k:].shape[0] - 1, data[k:]))
    >>> test.step, len(test.counted("slow")), len(test.counted("fast"))
    (<Step.DONE: 'done'>, 2, 3)
    """

    def __init__(
        self,
        proximal: SegmentStreams,
        distal: SegmentStreams,
        sample_rate_hz: float,
        joint: str,
        calibration: JointCalibration,
        *,
        emg_device: str | None = None,
        slow_trials: int = 3,
        fast_trials: int = 3,
        relax_s: float = 2.0,
        step_timeout_s: float = 120.0,
    ) -> None:
        joint_spec(joint)
        if not sample_rate_hz >= 50.0:
            raise ValueError(f"sample_rate_hz must be >= 50 Hz to time a catch, got {sample_rate_hz}")
        if slow_trials < 1 or fast_trials < 1 or not relax_s >= 0.5 or not step_timeout_s > 0:
            raise ValueError(
                "need slow_trials >= 1, fast_trials >= 1, relax_s >= 0.5 and step_timeout_s > 0,"
                f" got {slow_trials}, {fast_trials}, {relax_s}, {step_timeout_s}"
            )
        self._emg_device = emg_device
        self.sample_rate_hz = float(sample_rate_hz)
        self.joint = joint
        self.stretch_sign = STRETCH_SIGN[joint]
        self._calibration = calibration
        self.slow_trials, self.fast_trials = slow_trials, fast_trials
        self._n_settle = round(SETTLE_S * self.sample_rate_hz)
        self._n_relax = round(relax_s * self.sample_rate_hz)
        self._n_still_after = round(_STILL_AFTER_S * self.sample_rate_hz)
        self._n_timeout = round(step_timeout_s * self.sample_rate_hz)
        self._n_piece = max(1, round(_PIECE_S * self.sample_rate_hz))
        self._aligner = JointAligner(proximal, distal, sample_rate_hz)
        self._emg_t0_ns: int | None = None
        self._emg_rate_hz = 0.0
        self._emg: list[FloatArray] = []
        self._n_emg = 0
        self.step = Step.SETTLING
        self._resume = Step.RELAX  # the step to go on with once settled
        self.verdicts: list[Verdict] = []
        self.restarts = 0
        self.error: str | None = None
        self._restart(0)

    def process(self, frame: Frame) -> list[Verdict]:
        """Take one frame of the IMU or EMG streams (others are ignored); the stretches it ended."""
        if self.step in (Step.DONE, Step.FAILED):
            return []
        if frame.kind is SensorKind.EMG and frame.stream.device == self._emg_device:
            self._take_emg(frame)
            return self._measure()
        if not self._aligner.takes(frame):
            return []
        self._aligner.push_frame(frame)
        first_k, columns = self._aligner.pull()
        gyr_p, acc_p, gyr_d, acc_d = columns
        found: list[Verdict] = []
        for lo, hi, plausible in plausible_runs(columns):
            if self.step in _OVER:  # (not narrowed: the step moves on inside the loop)
                break
            if not plausible:
                if self.step is not Step.SETTLING:
                    self.restarts += 1
                    self._resume = self.step
                self._restart(first_k + hi)
                continue
            qp = self._filters[0].update(acc_p[lo:hi], gyr_p[lo:hi])
            qd = self._filters[1].update(acc_d[lo:hi], gyr_d[lo:hi])
            angle = self._hinge.update(qp, qd)
            # In pieces of _PIECE_S: the steps change mid-frame, at the samples' time.
            for piece in np.array_split(angle, max(1, angle.size // self._n_piece)):
                if self.step not in (Step.DONE, Step.FAILED):
                    self._take_angles(piece)
                    found += self._measure()
        return found

    def counted(self, speed: str) -> list[TardieuTrial]:
        """The counted trials of one speed ("slow" or "fast"), in time order."""
        return [v.trial for v in self.verdicts if v.counted and v.trial.speed == speed]

    @property
    def emg_worn(self) -> bool:
        """Whether EMG frames of the stretched muscle have arrived."""
        return self._emg_t0_ns is not None

    def result(self) -> TardieuResult | None:
        """The session's medians, once the test is done; None before."""
        slow, fast = self.counted("slow"), self.counted("fast")
        if self.step is not Step.DONE or not slow or not fast:
            return None
        r2 = statistics.median(t.r2_deg for t in slow if t.r2_deg is not None)
        caught = [t for t in fast if t.r1_deg is not None]
        r1 = statistics.median(t.r1_deg for t in caught if t.r1_deg is not None) if caught else None
        sources = {t.catch_source for t in caught}
        source = "none" if not caught else "emg" if sources == {"emg"} else "deceleration"
        return TardieuResult(
            r2_deg=r2,
            r1_deg=r1,
            r2_minus_r1_deg=None if r1 is None else self.stretch_sign * (r2 - r1),
            v3_dps=statistics.median(t.peak_velocity_dps for t in fast),
            catches=len(caught),
            catch_source=source,
        )

    # --- internals ----------------------------------------------------------------------

    def _restart(self, k0: int) -> None:
        """Start a new gap-free stretch of angle at grid point ``k0``, settling first."""
        self._filters = OrientationFilter(self.sample_rate_hz), OrientationFilter(self.sample_rate_hz)
        self._hinge = HingeAngle(self._calibration)
        self._k0 = k0
        self._angle: list[FloatArray] = []
        self._n = 0  # samples since k0
        self._first = 0  # first sample of the part tardieu_trials reads (after settling)
        self._step_from = 0
        self._measured_to = 0  # samples up to here have been measured
        self._last_moving = -1
        self.step = Step.SETTLING

    def _take_emg(self, frame: Frame) -> None:
        samples = np.asarray(frame.samples[:, 0], dtype=np.float64)
        if self._emg_t0_ns is None:
            self._emg_t0_ns, self._emg_rate_hz = frame.t0_ns, float(frame.sample_rate_hz)
        expected = self._emg_t0_ns + round(self._n_emg * NS_PER_S / self._emg_rate_hz)
        missing = round((frame.t0_ns - expected) * self._emg_rate_hz / NS_PER_S)
        if missing > 0:  # an EMG gap: a flat line keeps the timing (no burst is seen in it)
            self._emg.append(np.zeros(missing))
            self._n_emg += missing
        elif missing < 0:  # overlap with what was had: keep the first copy
            samples = samples[-missing:]
        self._emg.append(samples)
        self._n_emg += samples.size

    def _take_angles(self, angle: FloatArray) -> None:
        self._angle.append(angle)
        start = self._n
        self._n += angle.size
        if self.step is Step.SETTLING and self._n >= self._n_settle:
            self.step = self._resume
            self._first = self._step_from = self._n_settle
            self._measured_to = self._n_settle
        if self.step is Step.SETTLING:
            return
        all_angle = np.concatenate(self._angle)
        self._angle = [all_angle]
        # The speed over the new samples (and enough before them for the smoothing).
        width = max(1, round(0.05 * self.sample_rate_hz))
        tail_lo = max(self._first, start - 2 * width)
        tail = all_angle[tail_lo:]
        if tail.size > 2 * width:
            velocity_dps = np.gradient(tail) * self.sample_rate_hz
            speed = np.abs(np.convolve(velocity_dps, np.ones(width) / width, "valid"))
            moving = np.flatnonzero(speed > STILL_DPS)
            if moving.size:  # "valid" output j is centred on tail sample j + width // 2
                self._last_moving = max(self._last_moving, tail_lo + int(moving[-1]) + width // 2)
        if self.step is Step.RELAX:
            still_from = max(self._last_moving + 1, self._step_from)
            if self._n - still_from >= self._n_relax:
                self.step, self._step_from = Step.SLOW, self._n
                self._measured_to = self._n
            elif self._n - self._step_from >= self._n_timeout:
                self._fail(f"the {self.joint} was not held still and relaxed for a moment")

    def _measure(self) -> list[Verdict]:
        """Measure the stretches done since the last measurement, once the limb is still."""
        if self.step not in (Step.SLOW, Step.FAST) or self._last_moving < self._measured_to:
            return self._check_timeout()
        end = self._n
        if end - self._last_moving < self._n_still_after:
            return self._check_timeout()
        t0_ns = int(self._aligner.grid_time_ns(self._k0 + self._first))
        window = self._emg_window(t0_ns, end - self._first)
        if window is None:
            return []  # the EMG of this stretch has not all arrived yet
        emg, emg_rate = window
        angle = np.concatenate(self._angle)[self._first : end]
        trials = tardieu_trials(
            angle, self.sample_rate_hz, emg, emg_rate, t0_ns, stretch_sign=self.stretch_sign
        )
        since_ns = int(self._aligner.grid_time_ns(self._k0 + self._measured_to))
        self._measured_to = end
        found = []
        for trial in trials:
            if trial.onset_ns < since_ns or self.step not in (Step.SLOW, Step.FAST):
                continue
            verdict = self._judge(trial)
            self.verdicts.append(verdict)
            found.append(verdict)
            if self.step is Step.SLOW and len(self.counted("slow")) >= self.slow_trials:
                self.step, self._step_from = Step.FAST, end
            elif self.step is Step.FAST and len(self.counted("fast")) >= self.fast_trials:
                self.step = Step.DONE
        return found + self._check_timeout()

    def _emg_window(self, t0_ns: int, n_angle: int) -> tuple[FloatArray | None, float | None] | None:
        """The EMG from ``t0_ns`` over ``n_angle`` angle samples and its rate; (None, None)
        when not worn, None when it has not all arrived yet."""
        if self._emg_t0_ns is None:
            return None, None
        rate = self._emg_rate_hz
        first = round((t0_ns - self._emg_t0_ns) * rate / NS_PER_S)
        n = round(n_angle * rate / self.sample_rate_hz)
        if first + n > self._n_emg:
            return None
        emg = np.concatenate(self._emg)
        self._emg = [emg]
        if first < 0:  # the EMG started later than the angle: rest before it
            return np.concatenate([np.zeros(-first), emg[: first + n]]), rate
        return emg[first : first + n], rate

    def _judge(self, trial: TardieuTrial) -> Verdict:
        speed = trial.peak_velocity_dps
        if self.step is Step.SLOW:
            if trial.speed == "slow":
                n = len(self.counted("slow")) + 1
                return Verdict(
                    trial, True, f"slow stretch {n} of {self.slow_trials}: end of range {trial.r2_deg:.0f}°"
                )
            return Verdict(
                trial,
                False,
                f"too fast for a slow stretch: {speed:.0f} °/s, move slower (at most {SLOW_MAX_DPS:.0f})",
            )
        if trial.speed == "slow":
            return Verdict(
                trial,
                False,
                f"too slow for a fast stretch: {speed:.0f} °/s, move faster (at least {FAST_MIN_DPS:.0f})",
            )
        if not trial.scored:
            return Verdict(trial, False, trial.reason)
        n = len(self.counted("fast")) + 1
        caught = "no catch" if trial.r1_deg is None else f"catch at {trial.r1_deg:.0f}°"
        return Verdict(trial, True, f"fast stretch {n} of {self.fast_trials} at {speed:.0f} °/s: {caught}")

    def _check_timeout(self) -> list[Verdict]:
        if self.step in (Step.SLOW, Step.FAST) and self._n - self._step_from >= self._n_timeout:
            wanted = self.slow_trials if self.step is Step.SLOW else self.fast_trials
            had = len(self.counted(self.step.value))
            self._fail(f"saw {had} of {wanted} {self.step.value} stretches that counted")
        return []

    def _fail(self, reason: str) -> None:
        self.error = reason
        self.step = Step.FAILED
