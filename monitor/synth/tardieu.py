"""Synthetic Tardieu test with ground truth: slow and fast passive stretches of a spastic joint.

A carer moves the patient's relaxed limb from the muscle's shortened position to the end
of its passive range, slowly (V1, about 10-30 °/s) and fast (V3, as fast as they can,
≥ about 180 °/s), as the Modified Tardieu Scale asks (Boyd & Graham 1999, Eur J Neurol
6:S23). The two segments carry one IMU each (the sensors and errors of
:func:`monitor.synth.motion.strap_imus`), and an sEMG electrode sits on the stretched
muscle (the spectrum of :func:`monitor.synth.emg.semg_noise`).

The physiology, in the order of events of one fast stretch:

1. **Threshold.** The stretch reflex fires when the muscle is stretched beyond a
   threshold that falls with velocity (the λ model of Levin & Feldman 1994, Brain Res
   657:23; Calota et al. 2008, Clin Neurophysiol 119:2329 measured it in elbow flexors):
   the stretch past the start must exceed ``p_λ - μ·v``, and only above a threshold
   velocity (a slow stretch never fires it, which is why V1 measures the passive range).
2. **EMG.** The reflex burst starts 30-50 ms later (the latency of the monosynaptic
   stretch reflex of a limb muscle).
3. **Catch.** The muscle's torque, and so the deceleration the carer feels, starts
   30-60 ms after the EMG onset (the electromechanical delay; Cavanagh & Komi 1979, Eur
   J Appl Physiol 42:159). The limb is a driven segment: the carer's planned path
   ``p_plan`` is followed in a time ``τ`` that slows while the reflex torque acts,
   ``dτ/dt = 1 - c·g(t)``: the velocity drops by the catch strength ``c`` (a fraction)
   within 20-30 ms, stays down for 50-150 ms, then the carer continues (catch and
   release) or, for a clasp (``c = 1``), the limb stops there.

Truth, per trial: R1 is the angle at the onset of the reflex deceleration (``t`` of step
3), the EMG onset angle that of step 2, R2 the end of the slow stretch (the passive end
range, short of anatomical range by the contracture) and V3 the peak velocity.

Stretch direction: knee and elbow flexors are stretched by extending the joint (the angle
falls), the ankle plantarflexors by dorsiflexion (the angle rises); angles are in the
convention of :mod:`monitor.dsp.imu.joints`. A session opens with the calibration routine
of :mod:`monitor.synth.motion` (3 s neutral, three flexions, until 14 s), so the angle can
be measured by the real pipeline.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from monitor.demo.course import TreatmentCourse
from monitor.synth.emg import semg_noise
from monitor.synth.motion import JOINTS, NOISE_LEVELS, Joint, NoiseLevel, strap_imus
from monitor.types import NS_PER_S

FloatArray = npt.NDArray[np.float64]
Speed = Literal["slow", "fast"]

# Reflex latency of the limb stretch reflex, s (short-latency component of the biceps and
# triceps surae; e.g. Toft et al. 1991, Exp Brain Res 85:311).
REFLEX_LATENCY_S = (0.030, 0.050)
# Electromechanical delay from EMG onset to force, s (Cavanagh & Komi 1979).
ELECTROMECHANICAL_DELAY_S = (0.030, 0.060)
# How long the velocity stays down during a catch, s, and how fast it drops and recovers.
CATCH_DURATION_S = (0.050, 0.150)
CATCH_RISE_S = (0.020, 0.030)
CATCH_RELEASE_S = 0.040
# A clasp holds the limb this long before the carer lets go and returns it, s.
CLASP_HOLD_S = 0.5

# The session's opening routine (as in monitor.synth.motion): neutral pose, then flexions.
NEUTRAL_S = 3.0
CALIBRATION_S = 14.0
_CALIBRATION_FLEXION_DEG: dict[Joint, float] = {"knee": 40.0, "elbow": 45.0, "ankle": -25.0}
# Proximal segment pitch during the test, degrees: seated with the thigh horizontal for
# the hamstrings (a popliteal-angle position), upper arm and shank hanging otherwise.
_TEST_PITCH_DEG: dict[Joint, float] = {"knee": 90.0, "elbow": 0.0, "ankle": 0.0}
# The carer returns the limb to the start at about this peak speed, °/s.
_RETURN_DPS = 45.0
_INTERNAL_RATE_HZ = 1000.0
# EMG electrode and amplifier noise at rest, mV RMS, and the motion artefact a fast
# stretch shakes into the cable (low frequency, removed by a 20 Hz high-pass), mV.
_EMG_REST_MV = 0.006
_EMG_MOTION_ARTEFACT_MV = 0.05


@dataclass(frozen=True, slots=True)
class Spasticity:
    """The stretch reflex and passive range of one muscle group, in joint angles.

    Attributes
    ----------
    start_deg : float
        The shortened position each stretch starts from, degrees.
    r2_deg : float
        Passive end range (where a slow stretch ends; short of anatomical range by the
        contracture), degrees.
    threshold_deg : float
        Static stretch-reflex threshold λ: the angle beyond which the reflex would fire
        at zero velocity, degrees (may lie beyond ``r2_deg``).
    velocity_gain_s : float
        μ: the threshold moves towards the start by μ·v for a stretch at v °/s, s.
    threshold_velocity_dps : float
        Below this stretch velocity the reflex does not fire, °/s.
    catch_strength : float
        Fraction of the velocity lost during the catch, [0, 1]; 0 is no reflex at all (no
        EMG burst, no catch), 1 a clasp (the limb stops).
    emg_burst_mv : float
        RMS of the reflex EMG burst of a full-strength catch, mV.
    """

    start_deg: float
    r2_deg: float
    threshold_deg: float
    velocity_gain_s: float
    threshold_velocity_dps: float
    catch_strength: float
    emg_burst_mv: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.catch_strength <= 1.0:
            raise ValueError(f"catch_strength must be in [0, 1], got {self.catch_strength}")
        if abs(self.r2_deg - self.start_deg) < 20.0:
            raise ValueError(
                f"the stretch from start_deg {self.start_deg} to r2_deg {self.r2_deg} must span >= 20°"
            )
        if self.velocity_gain_s < 0 or self.threshold_velocity_dps < 0 or self.emg_burst_mv < 0:
            raise ValueError("velocity_gain_s, threshold_velocity_dps and emg_burst_mv must be >= 0")

    @property
    def direction(self) -> float:
        """+1 when the stretch raises the joint angle, -1 when it lowers it."""
        return 1.0 if self.r2_deg > self.start_deg else -1.0

    def treated(self, effect: float) -> Spasticity:
        """The same muscle at a fraction ``effect`` (0-1) of a botulinum toxin's full effect.

        The toxin weakens the reflex's muscular response: the threshold moves towards the
        end range (by up to 60 % of the way), the threshold velocity rises by up to
        60 °/s, the EMG burst shrinks by up to 60 % and the catch by up to 50 %. R1 then
        moves towards R2, and R2 - R1 shrinks, as after injection (Lin et al. 2016, J
        NeuroEng Rehabil 13:25).
        """
        if not 0.0 <= effect <= 1.0:
            raise ValueError(f"effect must be in [0, 1], got {effect}")
        if self.catch_strength >= 1.0:
            strength = 1.0 - 0.5 * effect  # a clasp becomes a catch and release
        else:
            strength = self.catch_strength * (1.0 - 0.5 * effect)
        return dataclasses.replace(
            self,
            threshold_deg=self.threshold_deg + 0.6 * effect * (self.r2_deg - self.threshold_deg),
            threshold_velocity_dps=self.threshold_velocity_dps + 60.0 * effect,
            catch_strength=strength,
            emg_burst_mv=self.emg_burst_mv * (1.0 - 0.6 * effect),
        )


def default_spasticity(joint: Joint, catch_strength: float = 0.4) -> Spasticity:
    """A moderately spastic muscle group of ``joint``: hamstrings, elbow flexors, calf.

    Parameters
    ----------
    joint : {"knee", "elbow", "ankle"}
    catch_strength : float
        Fraction of velocity lost in a catch, [0, 1].

    Returns
    -------
    Spasticity
    """
    if joint not in JOINTS:
        raise ValueError(f"joint must be one of {JOINTS}, got {joint!r}")
    if joint == "knee":  # hamstrings: extend from 90° flexion, a 10° flexion contracture
        return Spasticity(90.0, 10.0, 20.0, 0.12, 90.0, catch_strength)
    if joint == "elbow":  # elbow flexors: extend from 130° flexion
        return Spasticity(130.0, 5.0, 35.0, 0.12, 90.0, catch_strength)
    return Spasticity(-35.0, 10.0, 0.0, 0.08, 70.0, catch_strength)  # plantarflexors


def spasticity_on_day(
    base: Spasticity, days_since_injection: float | None, course: TreatmentCourse | None = None
) -> Spasticity:
    """The muscle ``days_since_injection`` after a botulinum toxin injection.

    The effect follows :meth:`monitor.demo.course.TreatmentCourse.toxin_effect` (onset,
    peak at about 5 weeks, wearing off by week 12), so R1 moves over a cycle.
    """
    effect = (course or TreatmentCourse()).toxin_effect(days_since_injection)
    return base.treated(effect)


@dataclass(frozen=True, slots=True)
class TrialPlan:
    """One stretch the carer is asked for.

    Attributes
    ----------
    speed : {"slow", "fast"}
    peak_velocity_dps : float
        Peak velocity the carer reaches, °/s.
    catch_strength : float, optional
        This trial's catch strength in place of the muscle's (0: no reflex).
    """

    speed: Speed
    peak_velocity_dps: float
    catch_strength: float | None = None


@dataclass(frozen=True, slots=True)
class TrueTardieuTrial:
    """Ground truth of one stretch.

    Attributes
    ----------
    speed : {"slow", "fast"}
    onset_ns, end_ns : int
        UTC time the stretch starts moving and ends, ns.
    peak_velocity_dps : float
        Peak stretch velocity, °/s (V1 or V3).
    end_deg : float
        The angle farthest from the start, degrees.
    r2_deg : float or None
        Slow trials: the passive end range reached, degrees.
    r1_deg : float or None
        Fast trials with a catch: the angle at the onset of the reflex deceleration.
    emg_onset_deg : float or None
        Fast trials with a reflex: the angle when the EMG burst began.
    threshold_ns, emg_onset_ns, catch_ns : int or None
        When the threshold was crossed, the EMG burst began and the deceleration began.
    catch_strength : float
        Fraction of the velocity lost (0 when the reflex did not fire).
    clasp : bool
        The limb stopped at the catch.
    """

    speed: Speed
    onset_ns: int
    end_ns: int
    peak_velocity_dps: float
    end_deg: float
    r2_deg: float | None
    r1_deg: float | None
    emg_onset_deg: float | None
    threshold_ns: int | None
    emg_onset_ns: int | None
    catch_ns: int | None
    catch_strength: float
    clasp: bool


@dataclass(frozen=True, slots=True, eq=False)
class TardieuSession:
    """A generated Tardieu session: the calibration routine, then the stretches.

    Attributes
    ----------
    joint : {"knee", "elbow", "ankle"}
    spasticity : Spasticity
    t0_ns : int
        UTC time of the first IMU and EMG sample, ns.
    imu_rate_hz : float
    angle_deg : ndarray, shape (n,)
        True joint angle at the IMU rate, degrees.
    acc_prox_g, acc_dist_g : ndarray, shape (n, 3)
    gyr_prox_dps, gyr_dist_dps : ndarray, shape (n, 3)
    emg_rate_hz : float
    emg_mv : ndarray, shape (m,)
        sEMG of the stretched muscle, mV.
    trials : tuple of TrueTardieuTrial
    test_start_s : float
        When the test proper starts (after the calibration routine and the move to the
        start position), s from ``t0_ns``.
    neutral_s, calibration_s : float
        Length of the neutral pose and end of the calibration flexions, s.
    """

    joint: Joint
    spasticity: Spasticity
    t0_ns: int
    imu_rate_hz: float
    angle_deg: FloatArray
    acc_prox_g: FloatArray
    gyr_prox_dps: FloatArray
    acc_dist_g: FloatArray
    gyr_dist_dps: FloatArray
    emg_rate_hz: float
    emg_mv: FloatArray
    trials: tuple[TrueTardieuTrial, ...]
    test_start_s: float
    neutral_s: float = NEUTRAL_S
    calibration_s: float = CALIBRATION_S


DEFAULT_PLAN: tuple[TrialPlan, ...] = (
    TrialPlan("slow", 20.0),
    TrialPlan("slow", 20.0),
    TrialPlan("fast", 280.0),
    TrialPlan("fast", 280.0),
    TrialPlan("fast", 280.0),
)


def generate_tardieu_session(
    joint: Joint = "knee",
    spasticity: Spasticity | None = None,
    *,
    plan: Sequence[TrialPlan] = DEFAULT_PLAN,
    imu_rate_hz: float = 100.0,
    emg_rate_hz: float = 1000.0,
    noise: NoiseLevel = "typical",
    mount_misalignment_deg: float | None = None,
    seed: int = 0,
    t0_ns: int = 1_764_000_000 * NS_PER_S,
) -> TardieuSession:
    """Generate a Tardieu session of one joint with ground truth.

    Parameters
    ----------
    joint : {"knee", "elbow", "ankle"}
    spasticity : Spasticity, optional
        The muscle; :func:`default_spasticity` by default.
    plan : sequence of TrialPlan
        The stretches, in order; each peak velocity varies by ±10 % between trials,
        as a carer's does, and the velocity profile's symmetry by ±15 %.
    imu_rate_hz : float
        IMU rate, Hz, in [50, 1000].
    emg_rate_hz : float
        EMG rate, Hz, in [500, 4000].
    noise : {"low", "typical", "high"}
        IMU error model (:data:`monitor.synth.motion.NOISE_LEVELS`).
    mount_misalignment_deg : float, optional
        Largest mounting misalignment of each IMU, degrees in [0, 45]; default the noise
        level's.
    seed : int
    t0_ns : int
        UTC time of the first sample, ns.

    Returns
    -------
    TardieuSession

    Examples
    --------
    >>> s = generate_tardieu_session("elbow", seed=1)
    >>> [t.speed for t in s.trials]
    ['slow', 'slow', 'fast', 'fast', 'fast']
    """
    if joint not in JOINTS:
        raise ValueError(f"joint must be one of {JOINTS}, got {joint!r}")
    if noise not in NOISE_LEVELS:
        raise ValueError(f"noise must be one of {tuple(NOISE_LEVELS)}, got {noise!r}")
    if not 50.0 <= imu_rate_hz <= 1000.0:
        raise ValueError(f"imu_rate_hz must be in [50, 1000] Hz, got {imu_rate_hz}")
    if not 500.0 <= emg_rate_hz <= 4000.0:
        raise ValueError(f"emg_rate_hz must be in [500, 4000] Hz, got {emg_rate_hz}")
    if mount_misalignment_deg is not None and not 0.0 <= mount_misalignment_deg <= 45.0:
        raise ValueError(f"mount_misalignment_deg must be in [0, 45], got {mount_misalignment_deg}")
    for trial in plan:
        if trial.speed not in ("slow", "fast") or not 1.0 <= trial.peak_velocity_dps <= 1000.0:
            raise ValueError(f"a trial needs speed 'slow' or 'fast' and 1-1000 °/s, got {trial}")
        if trial.catch_strength is not None and not 0.0 <= trial.catch_strength <= 1.0:
            raise ValueError(f"catch_strength must be in [0, 1], got {trial.catch_strength}")
    spasticity = spasticity or default_spasticity(joint)
    rng = np.random.default_rng(seed)
    decimation = max(1, math.ceil(_INTERNAL_RATE_HZ / imu_rate_hz))
    rate_hz = imu_rate_hz * decimation
    script = _Script(joint, spasticity, rate_hz, rng)
    script.opening()
    test_start_s = script.n / rate_hz
    for trial in plan:
        script.trial(trial)
    script.hold(2.0)
    theta = np.concatenate(script.theta)
    phi = np.concatenate(script.phi)

    error_model = NOISE_LEVELS[noise]
    if mount_misalignment_deg is not None:
        error_model = dataclasses.replace(error_model, misalignment_deg=float(mount_misalignment_deg))
    imu_rng = np.random.default_rng([seed, 1])
    prox, dist = strap_imus(joint, theta, phi, rate_hz, decimation, error_model, imu_rng)

    def ns(index: float) -> int:
        return t0_ns + round(index * NS_PER_S / rate_hz)

    trials = tuple(_true_trial(t, theta, ns) for t in script.trials)
    duration_s = len(theta) / rate_hz
    emg = _emg(trials, duration_s, emg_rate_hz, t0_ns, np.random.default_rng([seed, 2]), spasticity)
    return TardieuSession(
        joint=joint,
        spasticity=spasticity,
        t0_ns=t0_ns,
        imu_rate_hz=float(imu_rate_hz),
        angle_deg=theta[::decimation].copy(),
        acc_prox_g=prox.acc_g,
        gyr_prox_dps=prox.gyr_dps,
        acc_dist_g=dist.acc_g,
        gyr_dist_dps=dist.gyr_dps,
        emg_rate_hz=float(emg_rate_hz),
        emg_mv=emg,
        trials=trials,
        test_start_s=test_start_s,
    )


@dataclass(slots=True)
class _Trial:
    speed: Speed
    onset_i: int
    end_i: int
    peak_dps: float
    end_deg: float
    threshold_i: int | None
    emg_i: int | None
    catch_i: int | None
    strength: float
    clasp: bool


class _Script:
    """Writes the joint angle (theta) and proximal pitch (phi) at the internal rate."""

    def __init__(self, joint: Joint, spasticity: Spasticity, rate_hz: float, rng: np.random.Generator):
        self.joint = joint
        self.sp = spasticity
        self.rate_hz = rate_hz
        self.rng = rng
        self.theta: list[FloatArray] = []
        self.phi: list[FloatArray] = []
        self.trials: list[_Trial] = []
        self.n = 0
        self._theta_now = 0.0
        self._phi_now = 0.0

    def _append(self, theta: FloatArray, phi: FloatArray | None = None) -> None:
        self.theta.append(theta)
        self.phi.append(np.full(len(theta), self._phi_now) if phi is None else phi)
        self.n += len(theta)
        self._theta_now = float(theta[-1])
        if phi is not None:
            self._phi_now = float(phi[-1])

    def _samples(self, seconds: float) -> int:
        return max(1, round(seconds * self.rate_hz))

    def hold(self, seconds: float) -> None:
        self._append(np.full(self._samples(seconds), self._theta_now))

    def move(self, theta_deg: float, seconds: float, phi_deg: float | None = None) -> None:
        n = self._samples(seconds)
        phi = None if phi_deg is None else _min_jerk(self._phi_now, phi_deg, n)
        self._append(_min_jerk(self._theta_now, theta_deg, n), phi)

    def at_test_start(self) -> None:
        """Begin held at the start of the stretch, in the test posture (without the opening)."""
        self._theta_now, self._phi_now = self.sp.start_deg, _TEST_PITCH_DEG[self.joint]

    def opening(self) -> None:
        """The calibration routine, then the test posture at the start position."""
        self.hold(NEUTRAL_S)
        flexion = _CALIBRATION_FLEXION_DEG[self.joint]
        for _ in range(3):
            self.move(flexion, 1.5)
            self.move(0.0, 1.5)
            self.hold(0.3)
        self.hold(CALIBRATION_S - self.n / self.rate_hz)
        self.move(self.sp.start_deg, 2.5, _TEST_PITCH_DEG[self.joint])
        self.hold(2.0)

    def trial(self, plan: TrialPlan) -> None:
        rng = self.rng
        sp = self.sp
        self.hold(rng.uniform(1.5, 2.5))  # "relax"
        peak_dps = plan.peak_velocity_dps * rng.uniform(0.9, 1.1)
        skew = rng.uniform(0.85, 1.15)  # a carer's bell is not quite symmetric
        strength = sp.catch_strength if plan.catch_strength is None else plan.catch_strength
        excursion = abs(sp.r2_deg - sp.start_deg)
        # Duration for the wanted peak: 1.875 × mean velocity for a minimum-jerk bell,
        # corrected numerically for the skew below.
        u: FloatArray = np.linspace(0.0, 1.0, 2001, dtype=np.float64)
        shape_peak = float(np.max(np.gradient(_warped_min_jerk(u, skew), u)))
        duration_s = shape_peak * excursion / peak_dps
        rise_s = rng.uniform(*CATCH_RISE_S)
        latency_s = rng.uniform(*REFLEX_LATENCY_S)
        emd_s = rng.uniform(*ELECTROMECHANICAL_DELAY_S)
        catch_s = rng.uniform(*CATCH_DURATION_S)
        path, threshold_i, emg_i, catch_i, fired = self._stretch(
            excursion, duration_s, skew, strength, latency_s, emd_s, rise_s, catch_s
        )
        onset = self.n
        theta = sp.start_deg + sp.direction * path
        velocity = np.abs(np.gradient(theta)) * self.rate_hz
        self._append(theta)
        clasp = fired and strength >= 1.0
        self.trials.append(
            _Trial(
                speed=plan.speed,
                onset_i=onset,
                end_i=onset + len(theta) - 1,
                peak_dps=float(velocity.max()),
                end_deg=float(theta[np.argmax(path)]),
                threshold_i=None if threshold_i is None else onset + threshold_i,
                emg_i=None if emg_i is None else onset + emg_i,
                catch_i=None if catch_i is None else onset + catch_i,
                strength=strength if fired else 0.0,
                clasp=clasp,
            )
        )
        self.hold(CLASP_HOLD_S if clasp else rng.uniform(0.4, 0.8))
        back_s = 1.875 * abs(self._theta_now - sp.start_deg) / _RETURN_DPS
        self.move(sp.start_deg, max(back_s, 0.5))

    def _stretch(
        self,
        excursion_deg: float,
        duration_s: float,
        skew: float,
        strength: float,
        latency_s: float,
        emd_s: float,
        rise_s: float,
        catch_s: float,
    ) -> tuple[FloatArray, int | None, int | None, int | None, bool]:
        """The stretch (distance from the start, degrees) and its reflex event indices."""
        dt = 1.0 / self.rate_hz
        n_plan = max(2, round(duration_s * self.rate_hz))
        t: FloatArray = np.arange(n_plan, dtype=np.float64) * dt
        p_plan = excursion_deg * _warped_min_jerk(t / duration_s, skew)
        v_plan = np.gradient(p_plan, dt)
        sp = self.sp
        lambda_p = sp.direction * (sp.threshold_deg - sp.start_deg)
        over = (v_plan >= sp.threshold_velocity_dps) & (p_plan >= lambda_p - sp.velocity_gain_s * v_plan)
        crossed = np.flatnonzero(over)
        if strength <= 0.0 or crossed.size == 0:
            return p_plan, None, None, None, False
        threshold_i = int(crossed[0])
        emg_i = threshold_i + round(latency_s * self.rate_hz)
        catch_i = emg_i + round(emd_s * self.rate_hz)
        if catch_i >= n_plan - 1:  # the stretch was over before the torque came
            return p_plan, threshold_i, emg_i, None, True
        # Slowed time: dτ/dt = 1 - c·g, g a smoothstep up over rise_s, held, then down
        # over the release (a clasp never releases).
        clasp = strength >= 1.0
        n_rise = max(1, round(rise_s * self.rate_hz))
        n_hold = round(catch_s * self.rate_hz)
        n_release = max(1, round(CATCH_RELEASE_S * self.rate_hz))
        up = _smoothstep(np.arange(1, n_rise + 1) / n_rise)
        if clasp:
            g = np.concatenate([up, np.ones(n_hold)])
        else:
            g = np.concatenate(
                [up, np.ones(n_hold), 1.0 - _smoothstep(np.arange(1, n_release + 1) / n_release)]
            )
        rate = np.ones(catch_i + len(g) + n_plan)
        rate[catch_i + 1 : catch_i + 1 + len(g)] = 1.0 - strength * g
        tau = np.concatenate([[0.0], np.cumsum(rate[1:]) * dt])
        tau = tau[: catch_i + 1 + len(g)] if clasp else tau[: int(np.searchsorted(tau, duration_s)) + 1]
        tau = np.minimum(tau, duration_s)
        path = excursion_deg * _warped_min_jerk(tau / duration_s, skew)
        return path, threshold_i, emg_i, catch_i, True


def _true_trial(t: _Trial, theta: FloatArray, ns: Callable[[int], int]) -> TrueTardieuTrial:
    """The truth of a scripted trial: its indices into ``theta`` made UTC times by ``ns``."""
    return TrueTardieuTrial(
        speed=t.speed,
        onset_ns=ns(t.onset_i),
        end_ns=ns(t.end_i),
        peak_velocity_dps=t.peak_dps,
        end_deg=t.end_deg,
        r2_deg=t.end_deg if t.speed == "slow" else None,
        r1_deg=None if t.catch_i is None else float(theta[t.catch_i]),
        emg_onset_deg=None if t.emg_i is None else float(theta[t.emg_i]),
        threshold_ns=None if t.threshold_i is None else ns(t.threshold_i),
        emg_onset_ns=None if t.emg_i is None else ns(t.emg_i),
        catch_ns=None if t.catch_i is None else ns(t.catch_i),
        catch_strength=t.strength,
        clasp=t.clasp,
    )


def _emg(
    trials: tuple[TrueTardieuTrial, ...],
    duration_s: float,
    rate_hz: float,
    t0_ns: int,
    rng: np.random.Generator,
    sp: Spasticity,
) -> FloatArray:
    """sEMG of the stretched muscle: rest noise, a motion artefact per fast stretch, and
    a reflex burst (the sEMG spectrum, up in 10 ms, lasting through the catch)."""
    n = round(duration_s * rate_hz)
    t_s = np.arange(n) / rate_hz
    emg = rng.standard_normal(n) * _EMG_REST_MV
    for trial in trials:
        start_s = (trial.onset_ns - t0_ns) / NS_PER_S
        if trial.speed == "fast":
            # The cable and skin shake at a few Hz while the limb is flung.
            u = (t_s - start_s) / 0.3
            bump = np.where((u > 0) & (u < 1), np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0)
            emg += _EMG_MOTION_ARTEFACT_MV * rng.uniform(0.5, 1.0) * bump
        if trial.emg_onset_ns is None:
            continue
        onset_s = (trial.emg_onset_ns - t0_ns) / NS_PER_S
        length_s = 0.12 + rng.uniform(0.05, 0.15)
        amplitude_mv = sp.emg_burst_mv * (0.3 + 0.7 * min(trial.catch_strength, 1.0))
        lo = round(onset_s * rate_hz)
        hi = min(n, round((onset_s + length_s + 0.2) * rate_hz))
        x = t_s[lo:hi] - onset_s
        envelope = _smoothstep(x / 0.010) * np.exp(-np.maximum(x - length_s, 0.0) / 0.05)
        emg[lo:hi] += amplitude_mv * envelope * semg_noise(hi - lo, rate_hz, rng)
    return emg


def _min_jerk(x0: float, x1: float, n: int) -> FloatArray:
    """Minimum-jerk path from x0 to x1 in n samples (Flash & Hogan 1985, J Neurosci 5:1688)."""
    s = np.arange(n) / max(n - 1, 1)
    return x0 + (x1 - x0) * (10 * s**3 - 15 * s**4 + 6 * s**5)


def _warped_min_jerk(u: FloatArray, skew: float) -> FloatArray:
    """A minimum-jerk fraction of the way at normalized time u in [0, 1], skewed by
    u**skew (skew < 1 peaks earlier): a carer's bell-shaped velocity profile."""
    s = np.clip(u, 0.0, 1.0) ** skew
    out: FloatArray = 10 * s**3 - 15 * s**4 + 6 * s**5
    return out


def _smoothstep(x: FloatArray) -> FloatArray:
    x = np.clip(x, 0.0, 1.0)
    out: FloatArray = x * x * (3.0 - 2.0 * x)
    return out
