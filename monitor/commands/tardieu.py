"""``spasm-monitor tardieu --joint knee [--side left]``: a guided Modified Tardieu test.

It connects to the joint's two wearables and, when one is configured, the EMG wearable on
the stretched muscle (the collector ``run`` and ``calibrate`` use, over the same BLE
backend), tells the carer step by step what to do, follows what the sensors see
(:class:`~monitor.dsp.imu.tardieu_session.GuidedTardieu`), says after each stretch whether
it counted, and stores ``tardieu`` records (``docs/schema.md``): one per stretch and one
for the session's medians. The angle needs the joint's stored calibration
(``spasm-monitor calibrate``); ``--calibrate`` runs that first and stores it. No Tardieu
record is stored when the test fails (each step has ``--step-timeout`` seconds of data); it
exits 1 and says why. The protocol and its limits: ``docs/clinical.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.commands.calibrate import calibration_record, guided_calibration
from monitor.commands.guided import (
    add_joint_arguments,
    find_pair,
    follow,
    joint_name,
    joint_tags,
    print_flushed,
    segment,
)
from monitor.config import AppConfig, load_config
from monitor.dsp.imu.calibration import JointCalibration
from monitor.dsp.imu.tardieu_session import STRETCH_SIGN, GuidedTardieu, Step, TardieuResult, Verdict
from monitor.errors import ConfigError
from monitor.store import Spool
from monitor.store.calibrations import JointPair, latest_calibration
from monitor.types import FieldValue, Frame, Record

TARDIEU_MEASUREMENT = "tardieu"
TARDIEU_FAILED_EXIT = 1  # the carer can try again; a config mistake exits 2
CONNECT_TIMEOUT_S = 60.0  # wall time for the wearables to stream before giving up
STEP_TIMEOUT_S = 120.0  # data time for each step (relax, slow stretches, fast stretches)
# The muscles a Tardieu test of each joint stretches (the ones its catch is felt in): an
# EMG wearable on one of them, on the same side, confirms the catches.
STRETCHED_MUSCLES = {
    "knee": ("hamstrings", "biceps femoris", "semitendinosus", "semimembranosus"),
    "elbow": ("biceps", "biceps brachii", "brachialis", "brachioradialis", "elbow flexors"),
    "ankle": ("gastrocnemius", "soleus", "triceps surae", "plantarflexors"),
}
# Where the carer starts each stretch (the muscle short) and where it goes (the muscle long).
START = {
    "knee": "with the patient lying on their back, hip bent, bend the {side}knee fully",
    "elbow": "bend the {side}elbow fully, palm up",
    "ankle": "with the knee straight, point the {side}foot down fully",
}
STRETCH = {
    "knee": "straighten the {side}knee as far as it goes",
    "elbow": "straighten the {side}elbow as far as it goes",
    "ankle": "bring the {side}foot up towards the shin as far as it goes",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "tardieu", help="a guided Tardieu test of a joint (catch angle R1, passive range R2, speed V3)"
    )
    add_joint_arguments(parser, "test")
    parser.add_argument("--slow", type=int, default=3, help="slow stretches to ask for (default 3)")
    parser.add_argument("--fast", type=int, default=3, help="fast stretches to ask for (default 3)")
    parser.add_argument(
        "--calibrate", action="store_true", help="calibrate the joint first (else the stored calibration)"
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=STEP_TIMEOUT_S,
        metavar="S",
        help=f"seconds allowed for each step (relax, slow, fast stretches; default {STEP_TIMEOUT_S:g})",
    )
    parser.set_defaults(handler=run_tardieu)


def run_tardieu(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    pair = find_pair(config, args.joint, args.side)
    if args.slow < 1 or args.fast < 1:
        raise ConfigError(f"--slow and --fast must be >= 1, got {args.slow} and {args.fast}", "")
    if not args.step_timeout >= 5.0:
        raise ConfigError(f"--step-timeout must be >= 5 s, got {args.step_timeout:g}", "")
    emg_device = stretched_muscle_emg(config, pair)
    config.store.spool_path.parent.mkdir(parents=True, exist_ok=True)
    with Spool(config.store.spool_path, cap_bytes=config.store.spool_cap_bytes) as spool:
        calibration = latest_calibration(spool, config.patient.id, pair)
    name = joint_name(pair)
    if args.calibrate:
        outcome = asyncio.run(guided_calibration(config, pair))
        if outcome.calibration is None:
            print(f"calibration failed: {outcome.error}. Nothing was stored. Try again.", file=sys.stderr)
            return TARDIEU_FAILED_EXIT
        calibration = outcome.calibration
        with Spool(config.store.spool_path, cap_bytes=config.store.spool_cap_bytes) as spool:
            spool.append([calibration_record(config, pair, calibration)])
        print_flushed(
            f"Calibration of the {name} stored (flexion up to {calibration.flexion_deg:.0f}°). Now the"
            " Tardieu test."
        )
    if calibration is None:
        side = "" if pair.side == "none" else f" --side {pair.side}"
        print(
            f"no stored calibration of the {name}: the angle cannot be measured. Run"
            f" `spasm-monitor calibrate --joint {pair.joint}{side}` first, or add --calibrate.",
            file=sys.stderr,
        )
        return TARDIEU_FAILED_EXIT
    outcome_t = asyncio.run(
        guided_tardieu(
            config,
            pair,
            calibration,
            emg_device=emg_device,
            slow=args.slow,
            fast=args.fast,
            step_timeout_s=args.step_timeout,
        )
    )
    if outcome_t.result is None:
        kept = " (the new calibration is kept)" if args.calibrate else ""
        print(
            f"Tardieu test failed: {outcome_t.error}. No Tardieu result was stored{kept}; try again.",
            file=sys.stderr,
        )
        return TARDIEU_FAILED_EXIT
    with Spool(config.store.spool_path, cap_bytes=config.store.spool_cap_bytes) as spool:
        spool.append(tardieu_records(config, pair, outcome_t.verdicts, outcome_t.result))
    print(summary_line(name, outcome_t.result) + f" Stored in {config.store.spool_path}.")
    return 0


@dataclass
class TardieuOutcome:
    """What the guided test ended with: its stretches and medians, or why there are none."""

    result: TardieuResult | None
    verdicts: list[Verdict] = field(default_factory=list)
    error: str = ""


def stretched_muscle_emg(config: AppConfig, pair: JointPair) -> str | None:
    """The configured EMG wearable on a muscle the test stretches, same side; None if none."""
    for device in config.devices:
        muscle = (device.muscle or "").lower()
        if device.side == pair.side and any(m in muscle for m in STRETCHED_MUSCLES[pair.joint]):
            return device.device_id
    return None


def tardieu_records(
    config: AppConfig, pair: JointPair, verdicts: list[Verdict], result: TardieuResult
) -> list[Record]:
    """One ``tardieu`` record per stretch (``scope=trial``) and the session's (``scope=session``)."""
    tags = joint_tags(config, pair)
    records = []
    for verdict in verdicts:
        trial = verdict.trial
        fields: dict[str, FieldValue] = {
            "speed": trial.speed,
            "counted": verdict.counted,
            "peak_velocity_dps": trial.peak_velocity_dps,
            "catch_source": trial.catch_source or "none",
        }
        if trial.r2_deg is not None:
            fields["r2_deg"] = trial.r2_deg
        if trial.r1_deg is not None:
            fields["r1_deg"] = trial.r1_deg
            # Against the session's passive range: a fast stretch has no R2 of its own.
            fields["r2_minus_r1_deg"] = STRETCH_SIGN[pair.joint] * (result.r2_deg - trial.r1_deg)
        if trial.emg_onset_deg is not None:
            fields["emg_onset_deg"] = trial.emg_onset_deg
        records.append(Record(TARDIEU_MEASUREMENT, trial.onset_ns, fields, tags | {"scope": "trial"}))
    session: dict[str, FieldValue] = {
        "r2_deg": result.r2_deg,
        "v3_dps": result.v3_dps,
        "catches": result.catches,
        "catch_source": result.catch_source,
        "slow_trials": sum(v.counted and v.trial.speed == "slow" for v in verdicts),
        "fast_trials": sum(v.counted and v.trial.speed == "fast" for v in verdicts),
    }
    if result.r1_deg is not None and result.r2_minus_r1_deg is not None:
        session["r1_deg"] = result.r1_deg
        session["r2_minus_r1_deg"] = result.r2_minus_r1_deg
    start_ns = min(v.trial.onset_ns for v in verdicts)
    records.append(Record(TARDIEU_MEASUREMENT, start_ns, session, tags | {"scope": "session"}))
    return records


def summary_line(name: str, result: TardieuResult) -> str:
    """The session's result in one line, for the carer."""
    if result.r1_deg is None or result.r2_minus_r1_deg is None:
        catch = "no catch in any fast stretch"
    else:
        catch = f"catch R1 {result.r1_deg:.0f}°, R2 − R1 {result.r2_minus_r1_deg:.0f}°"
        if result.catch_source == "deceleration":
            catch += " (no EMG worn: the catch is from the angle alone, less sure)"
    return (
        f"Tardieu test of the {name}: passive range R2 {result.r2_deg:.0f}°, {catch},"
        f" V3 {result.v3_dps:.0f} °/s."
    )


async def guided_tardieu(
    config: AppConfig,
    pair: JointPair,
    calibration: JointCalibration,
    *,
    emg_device: str | None = None,
    slow: int = 3,
    fast: int = 3,
    say: Callable[[str], None] | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    step_timeout_s: float = STEP_TIMEOUT_S,
) -> TardieuOutcome:
    """Connect to the joint's wearables, guide the carer, and measure; stops when done or failed.

    Parameters
    ----------
    config : AppConfig
        The radio settings and the wearables (only the pair's and the EMG one connect).
    pair : JointPair
        The joint and its wearables (:func:`~monitor.commands.calibrate.find_pair`).
    calibration : JointCalibration
        The joint's stored calibration.
    emg_device : str, optional
        Device id of the EMG wearable on the stretched muscle (:func:`stretched_muscle_emg`).
    slow, fast : int
        Slow and fast stretches to ask for.
    say : callable, optional
        Where the prompts go (default: print to stdout, flushed).
    connect_timeout_s : float
        Wall time for the IMUs to stream before giving up, s.
    step_timeout_s : float
        Time of data allowed for each step, s.
    """
    tell = say or print_flushed
    side = "" if pair.side == "none" else f"{pair.side} "
    said: list[tuple[Step, int]] = []
    news: list[Verdict] = []

    def start(rate_hz: float) -> GuidedTardieu:
        return GuidedTardieu(
            segment(pair.proximal),
            segment(pair.distal),
            rate_hz,
            pair.joint,
            calibration,
            emg_device=emg_device,
            slow_trials=slow,
            fast_trials=fast,
            step_timeout_s=step_timeout_s,
        )

    def feed(step: GuidedTardieu, frame: Frame) -> bool:
        before = (step.step, step.restarts)
        news.extend(step.process(frame))  # a ValueError: a rate too low to time a catch, too
        return bool(news) or (step.step, step.restarts) != before

    def poll(step: GuidedTardieu) -> str | None:
        for verdict in news:
            tell(("Counted: " if verdict.counted else "Not counted: ") + verdict.message + ".")
        news.clear()
        state = (step.step, step.restarts)
        if not said or state != said[-1]:
            for line in _prompts(step, said[-1] if said else None, pair.joint, side, slow, fast):
                tell(line)
            said[:] = [state]
        if step.step is Step.FAILED:
            return step.error or "unknown"
        return "" if step.step is Step.DONE else None

    tell(
        f"Connecting to the wearables of the {side}{pair.joint}"
        + (" and its EMG..." if emg_device else "...")
    )
    ended = await follow(
        config,
        {pair.proximal, pair.distal} | ({emg_device} if emg_device else set()),
        start=start,
        feed=feed,
        poll=poll,
        connect_timeout_s=connect_timeout_s,
        not_streaming=f"the {side}{pair.joint}'s wearables did not stream within {connect_timeout_s:g} s",
        stopped="the collector stopped (Ctrl-C?) before the test was done",
    )
    if ended.step is None:
        return TardieuOutcome(None, [], ended.error)
    return TardieuOutcome(ended.step.result(), list(ended.step.verdicts))


def _prompts(
    step: GuidedTardieu, said: tuple[Step, int] | None, joint: str, side: str, slow: int, fast: int
) -> list[str]:
    """What to tell the carer now that the test moved on from ``said``."""
    lines = []
    if said is not None and step.restarts > said[1]:
        lines.append("The wearables' signal dropped; please repeat the last stretch.")
    if said is not None and said[0] is step.step:
        return lines
    start, stretch = START[joint].format(side=side), STRETCH[joint].format(side=side)
    if step.step is Step.SETTLING and said is None:
        lines.append("Connected. Please relax: let the limb rest, fully supported, and keep still.")
    elif step.step is Step.RELAX:
        lines.append("Relax: keep the limb still for a moment...")
    elif step.step is Step.SLOW:
        lines.append(
            f"Good. Now slowly, over about 3 seconds: {start}, then {stretch}, {slow} times."
            " Pause at each end."
        )
    elif step.step is Step.FAST:
        lines.append(
            f"Now quickly, as fast as you can: {start}, pause, then {stretch} in one swift movement,"
            f" {fast} times. Pause between them."
        )
    elif step.step is Step.DONE:
        lines.append("Done, thank you: you can relax.")
    return lines
