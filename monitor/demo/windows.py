"""One sampled window of the simulated history: synthetic physiology through the Pipeline.

An EMG window is :func:`monitor.synth.generate_emg` on the demo's calf wearable; an exercise
window is :func:`monitor.synth.motion.generate_motion` (thigh and shank IMUs at the knee).
Each window goes through a fresh :class:`~monitor.pipeline.Pipeline` configured with the
demo's wearables (:mod:`monitor.demo.wearables`), the one routing a live run, a replay and
``analyze`` use: EMG is analysed because the calf's muscle is configured, every gyroscope
feeds the movement-spasm and activity processors, the knee pair the joint-angle processor,
each processor is isolated, and the pipeline writes the ``observation`` and ``coverage``
records as it does live. The window is one frame per stream: the DSP contract makes that
equal to streaming it, and it is the fastest way through. The pipeline's own work (routing,
coverage, observation, tags) is small beside the detectors': the default history took the
same CPU time through it as driving the detectors directly (27-31 s against 29 s, measured
on a loaded 2-core machine), with the high-rate features skipped unless they are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.config import AppConfig, DeviceEntry
from monitor.pipeline import Pipeline
from monitor.store.schema import EMG_ENVELOPE, JOINT_ANGLE, ROM, SPASM_EVENT
from monitor.synth import EmgScenario, generate_emg
from monitor.synth.motion import generate_motion
from monitor.types import Frame, Record, SensorKind, StreamId

# SNR of the weakest untreated spasm (EmgScenario's definition); the injection lowers it
# by the amplitude factor. 20 dB is the generator's and the detector benchmark's default.
UNTREATED_SNR_DB = 20.0
IMU_RATE_HZ = 100.0  # the reference wearable's IMU rate
# A supervised PT session does more sets than a home session; both open with the
# calibration routine (neutral pose, three flexions) that the joint-angle processor needs.
PT_WINDOW_S, PT_SETS = 160.0, 2
HOME_WINDOW_S, HOME_SETS = 100.0, 1
# The high-rate feature series, kept only on request (nothing over weeks needs them).
FEATURE_SERIES = frozenset({EMG_ENVELOPE, JOINT_ANGLE})


@dataclass(frozen=True, slots=True)
class EmgWindowResult:
    """Records the pipeline produced for one EMG window, and the true spasms as records.

    ``truth`` holds one bare ``spasm_event`` record (onset, ``duration_s``, patient) per
    generated spasm; it is for comparison only and never stored.
    """

    records: list[Record]
    truth: list[Record]


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


def emg_device(config: AppConfig) -> DeviceEntry:
    """The wearable whose EMG the history simulates: the first with a ``muscle``."""
    for device in config.devices:
        if device.muscle:
            return device
    raise ValueError("the simulated history needs a [[device]] with a muscle (its EMG is analysed)")


def knee_pair(config: AppConfig) -> tuple[DeviceEntry, DeviceEntry]:
    """The thigh (proximal) and shank (distal) IMUs of the first configured knee."""
    knee = [d for d in config.devices if d.joint == "knee"]
    proximal = [d for d in knee if d.segment == "proximal"]
    distal = [d for d in knee if d.segment == "distal" and proximal and d.side == proximal[0].side]
    if not (proximal and distal):
        raise ValueError("the simulated history's exercise needs a knee: IMUs on the thigh and the shank")
    return proximal[0], distal[0]


def run_emg_window(
    config: AppConfig,
    t0_ns: int,
    *,
    window_s: float,
    rate_hz: float,
    channels: int,
    spasms_per_h: float,
    amplitude_factor: float,
    seed: int,
    extra_tags: dict[str, str],
    keep_envelope: bool,
) -> EmgWindowResult:
    """Generate one EMG window on the configured EMG wearable and run it through the pipeline.

    Parameters
    ----------
    config : AppConfig
        The home (:func:`monitor.demo.wearables.demo_config`): patient and wearables.
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
    extra_tags : dict
        Tags of every record besides the pipeline's (``source=simulated``).
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
    stream = StreamId(emg_device(config).device_id, "emg")
    emg = [(stream, SensorKind.EMG, rate_hz, t0_ns, rec.emg_mv)]
    records = _through_pipeline(config, extra_tags, emg, keep_envelope)
    truth = [
        Record(
            SPASM_EVENT,
            rec.time_ns(s.onset_s),
            {"duration_s": s.duration_s},
            {"kind": s.kind, "patient": config.patient.id},
        )
        for s in rec.spasms
    ]
    return EmgWindowResult(records, truth)


def run_exercise_window(
    config: AppConfig,
    t0_ns: int,
    *,
    supervised: bool,
    range_scale: float,
    seed: int,
    extra_tags: dict[str, str],
    keep_angle: bool,
) -> ExerciseResult:
    """Generate one knee exercise window and run both IMUs through the pipeline.

    Parameters
    ----------
    config : AppConfig
        The home: its knee pair (thigh and shank IMUs) wears the exercise.
    t0_ns : int
        UTC start of the window, ns.
    supervised : bool
        A PT session (longer, more sets) rather than home exercise.
    range_scale : float
        Fraction of the usual exercise excursion reached (see ``generate_motion``).
    seed : int
    extra_tags : dict
        Tags of every record besides the pipeline's (``source=simulated``).
    keep_angle : bool
        Keep the 10 Hz ``joint_angle`` records.

    Notes
    -----
    The joint processor's ``hour`` and ``day`` ROM records cover this window only (each
    window has a pipeline of its own), so a day must hold at most one exercise window for
    them to be that day's summary.
    """
    thigh, shank = knee_pair(config)
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
    streams = [
        (StreamId(thigh.device_id, "acc"), SensorKind.ACC, IMU_RATE_HZ, t0_ns, motion.acc_prox_g),
        (StreamId(thigh.device_id, "gyr"), SensorKind.GYR, IMU_RATE_HZ, t0_ns, motion.gyr_prox_dps),
        (StreamId(shank.device_id, "acc"), SensorKind.ACC, IMU_RATE_HZ, t0_ns, motion.acc_dist_g),
        (StreamId(shank.device_id, "gyr"), SensorKind.GYR, IMU_RATE_HZ, t0_ns, motion.gyr_dist_dps),
    ]
    records = _through_pipeline(config, extra_tags, streams, keep_angle)
    sets = [r for r in records if r.measurement == ROM and r.tags.get("period") == "set"]
    return ExerciseResult(
        records=records,
        true_reps=sum(s.n_reps for s in motion.sets),
        detected_reps=sum(int(r.fields["reps"]) for r in sets),
        true_range_deg=max((s.max_deg - s.min_deg for s in motion.sets), default=math.nan),
        detected_range_deg=max((float(r.fields["range_deg"]) for r in sets), default=math.nan),
    )


Stream = tuple[StreamId, SensorKind, float, int, npt.NDArray[np.floating]]


def _through_pipeline(
    config: AppConfig, extra_tags: dict[str, str], streams: Sequence[Stream], keep_features: bool
) -> list[Record]:
    """Each stream as one frame (sequence numbers from 0) through a fresh pipeline, then its flush."""
    pipeline = Pipeline(config, extra_tags, skip_measurements=() if keep_features else FEATURE_SERIES)
    records: list[Record] = []
    for stream, kind, rate_hz, t0_ns, samples in streams:
        records += pipeline.process(Frame(stream, kind, rate_hz, t0_ns, 0, samples.shape[0] - 1, samples))
    return records + pipeline.flush()
