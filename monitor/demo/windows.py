"""One sampled window of the simulated history: synthetic physiology through the real DSP.

An EMG window is :func:`monitor.synth.generate_emg` through a fresh
:class:`~monitor.dsp.SpasmDetector`; an exercise window is
:func:`monitor.synth.motion.generate_motion` (thigh and shank IMUs at the knee) through a
fresh :class:`~monitor.dsp.JointAngleProcessor`. Each detector gets the whole window as
one frame per stream: the DSP contract makes that equal to streaming it, and it is the
fastest way through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.dsp import JointAngleProcessor, SegmentStreams, SpasmDetector
from monitor.dsp.coverage import StreamCoverage
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import Frame, Record, SensorKind, StreamId

EMG_DEVICE = "sim-emg"
THIGH_IMU = "sim-imu-thigh"
SHANK_IMU = "sim-imu-shank"
EMG_LOCATION = "calf"
EMG_MUSCLE = "gastrocnemius"  # the one muscle of a single-channel window
SIDE = "left"
# SNR of the weakest untreated spasm (EmgScenario's definition); the injection lowers it
# by the amplitude factor. 20 dB is the generator's and the detector benchmark's default.
UNTREATED_SNR_DB = 20.0
IMU_RATE_HZ = 100.0  # the reference wearable's IMU rate
# A supervised PT session does more sets than a home session; both open with the
# calibration routine (neutral pose, three flexions) that the joint-angle processor needs.
PT_WINDOW_S, PT_SETS = 160.0, 2
HOME_WINDOW_S, HOME_SETS = 100.0, 1

_THIGH = SegmentStreams(StreamId(THIGH_IMU, "acc"), StreamId(THIGH_IMU, "gyr"))
_SHANK = SegmentStreams(StreamId(SHANK_IMU, "acc"), StreamId(SHANK_IMU, "gyr"))


@dataclass(frozen=True, slots=True)
class EmgWindowResult:
    """Records the detector produced for one EMG window, and the true spasms as records.

    ``truth`` holds one bare ``spasm_event`` record (onset, ``duration_s``, patient) per
    generated spasm; it is for comparison only and never stored.
    """

    records: list[Record]
    truth: list[Record]
    device: str


@dataclass(frozen=True, slots=True)
class ExerciseResult:
    """Records of one exercise window, with simulated and counted repetitions and ranges.

    Ranges are the largest exercise-set range, degrees (NaN when no set was found).
    """

    records: list[Record]
    true_reps: int
    detected_reps: int
    true_range_deg: float
    detected_range_deg: float


def run_emg_window(
    t0_ns: int,
    *,
    window_s: float,
    rate_hz: float,
    channels: int,
    spasms_per_h: float,
    amplitude_factor: float,
    seed: int,
    tags: dict[str, str],
    keep_envelope: bool,
) -> EmgWindowResult:
    """Generate and detect one EMG window.

    Parameters
    ----------
    t0_ns : int
        UTC start of the window, ns.
    window_s : float
        Length, s.
    rate_hz : float
        EMG sample rate, Hz.
    channels : int
        EMG channels; ``spasms_per_h`` is shared between them.
    spasms_per_h : float
        Expected spasms of the patient per hour, all channels together, 1/h.
    amplitude_factor : float
        Spasm amplitude relative to untreated (0–1].
    seed : int
    tags : dict
        Tags of every record (patient, source); device, location and side are added.
    keep_envelope : bool
        Keep the 1 Hz ``emg_envelope`` records.
    """
    scenario = EmgScenario(
        sample_rate_hz=rate_hz,
        channels=channels,
        duration_s=window_s,
        seed=seed,
        snr_db=UNTREATED_SNR_DB + 20.0 * math.log10(amplitude_factor),
        spasms_per_min=spasms_per_h / 60.0 / channels,
    )
    rec = generate_emg(scenario, t0_ns=t0_ns)
    all_tags = {**tags, "device": EMG_DEVICE, "location": EMG_LOCATION, "side": SIDE}
    if channels == 1:
        all_tags["muscle"] = EMG_MUSCLE
    detector = SpasmDetector(rate_hz, channels, tags=all_tags)
    frame = Frame(
        StreamId(EMG_DEVICE, "emg"), SensorKind.EMG, rate_hz, t0_ns, 0, rec.emg_mv.shape[0] - 1, rec.emg_mv
    )
    records = detector.process(frame) + detector.flush() + _coverage(frame, all_tags)
    if not keep_envelope:
        records = [r for r in records if r.measurement != "emg_envelope"]
    patient = {"patient": tags["patient"]} if "patient" in tags else {}
    truth = [
        Record(
            "spasm_event", rec.time_ns(s.onset_s), {"duration_s": s.duration_s}, {"kind": s.kind, **patient}
        )
        for s in rec.spasms
    ]
    return EmgWindowResult(records, truth, EMG_DEVICE)


def run_exercise_window(
    t0_ns: int,
    *,
    supervised: bool,
    range_scale: float,
    seed: int,
    tags: dict[str, str],
    keep_angle: bool,
) -> ExerciseResult:
    """Generate one knee exercise window and measure it with the IMU pipeline.

    Parameters
    ----------
    t0_ns : int
        UTC start of the window, ns.
    supervised : bool
        A PT session (longer, more sets) rather than home exercise.
    range_scale : float
        Fraction of the usual exercise excursion reached (see ``generate_motion``).
    seed : int
    tags : dict
        Tags of every record (patient, source); side is added.
    keep_angle : bool
        Keep the 10 Hz ``joint_angle`` records.

    Notes
    -----
    The processor's ``hour`` and ``day`` ROM records cover this window only, so a day
    must hold at most one exercise window for them to be that day's summary.
    """
    duration_s, n_sets = (PT_WINDOW_S, PT_SETS) if supervised else (HOME_WINDOW_S, HOME_SETS)
    motion = generate_motion(
        "knee",
        duration_s=duration_s,
        sample_rate_hz=IMU_RATE_HZ,
        n_sets=n_sets,
        n_spasms=0,
        walking=False,
        seed=seed,
        t0_ns=t0_ns,
        range_scale=range_scale,
        # Standing curls only: sitting down flexes the knee to 90° between seated sets, and
        # the window, hour and day ROM records (which the report's and the dashboards' ROM
        # trends read) would then show that posture, not the range the exercise regained.
        knee_posture="standing",
    )
    processor = JointAngleProcessor(_THIGH, _SHANK, IMU_RATE_HZ, "knee", tags={**tags, "side": SIDE})
    n = motion.n_samples
    records: list[Record] = []
    for stream, kind, samples in (
        (_THIGH.acc, SensorKind.ACC, motion.acc_prox_g),
        (_THIGH.gyr, SensorKind.GYR, motion.gyr_prox_dps),
        (_SHANK.acc, SensorKind.ACC, motion.acc_dist_g),
        (_SHANK.gyr, SensorKind.GYR, motion.gyr_dist_dps),
    ):
        frame = Frame(stream, kind, IMU_RATE_HZ, t0_ns, 0, n - 1, samples)
        location = "thigh" if stream.device == THIGH_IMU else "shank"
        device_tags = {**tags, "device": stream.device, "location": location, "side": SIDE}
        records += processor.process(frame) + _coverage(frame, device_tags)
    records += processor.flush()
    if not keep_angle:
        records = [r for r in records if r.measurement != "joint_angle"]
    sets = [r for r in records if r.measurement == "rom" and r.tags.get("period") == "set"]
    return ExerciseResult(
        records=records,
        true_reps=sum(s.n_reps for s in motion.sets),
        detected_reps=sum(int(r.fields["reps"]) for r in sets),
        true_range_deg=max((s.max_deg - s.min_deg for s in motion.sets), default=math.nan),
        detected_range_deg=max((float(r.fields["range_deg"]) for r in sets), default=math.nan),
    )


def _coverage(frame: Frame, tags: dict[str, str]) -> list[Record]:
    """The window's ``coverage`` records, as the live pipeline writes them per stream."""
    coverage = StreamCoverage(frame.stream, tags=tags)
    return coverage.process(frame) + coverage.flush()
