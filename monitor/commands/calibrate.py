"""``spasm-monitor calibrate --joint knee [--side left]``: the joint calibration, as a step of its own.

It connects to the two wearables of the joint named in config.toml (the collector ``run``
uses, over the same BLE backend), prompts the patient in plain words to hold the neutral
pose and then flex the joint a few times, follows what the IMUs see
(:class:`~monitor.dsp.imu.calibration_step.GuidedCalibration`), and stores the result in
the spool as a ``calibration`` record with ``status = "guided"`` (``docs/schema.md``).
Every later ``run`` uses the latest one (:mod:`monitor.store.calibrations`) instead of
calibrating from its own first seconds. Nothing is stored when it fails; it exits 1 and
says why.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass

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
from monitor.dsp.imu.calibration import JointCalibration, calibration_fields
from monitor.dsp.imu.calibration_step import GuidedCalibration, Phase
from monitor.dsp.imu.streaming import CALIBRATION_GUIDED
from monitor.errors import ConfigError
from monitor.store import Spool
from monitor.store.calibrations import JointPair
from monitor.store.schema import CALIBRATION
from monitor.types import FieldValue, Frame, Record, SensorKind

CALIBRATION_FAILED_EXIT = 1  # the patient can try again; a config mistake exits 2
CONNECT_TIMEOUT_S = 60.0  # wall time for both wearables to stream before giving up
PHASE_TIMEOUT_S = 60.0  # data time for the neutral pose, and then for the flexions
# The neutral pose of each joint (angle 0, docs/schema.md joint_angle), as a patient is told.
NEUTRAL_POSE = {
    "knee": "stand with your {side}knee straight",
    "elbow": "let your {side}arm hang straight at your side",
    "ankle": "stand with your {side}foot flat on the floor",
}
MOTION = {
    "knee": "bend your {side}knee as far as is comfortable and straighten it again",
    "elbow": "bend your {side}elbow as far as is comfortable and straighten it again",
    "ankle": "lift the toes of your {side}foot as far as is comfortable and lower them again",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "calibrate", help="calibrate a joint's angle (neutral pose, then a few flexions); runs use it"
    )
    add_joint_arguments(parser, "calibrate")
    parser.add_argument("--flexions", type=int, default=3, help="flexions to ask for (default 3)")
    parser.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    pair = find_pair(config, args.joint, args.side)
    if args.flexions < 1:
        raise ConfigError(f"--flexions must be >= 1, got {args.flexions}", "")
    outcome = asyncio.run(guided_calibration(config, pair, flexions=args.flexions))
    if outcome.calibration is None:
        print(
            f"calibration failed: {outcome.error}. Nothing was stored; runs keep using the previous"
            " calibration (or none). Try again.",
            file=sys.stderr,
        )
        return CALIBRATION_FAILED_EXIT
    record = calibration_record(config, pair, outcome.calibration)
    config.store.spool_path.parent.mkdir(parents=True, exist_ok=True)
    with Spool(config.store.spool_path, cap_bytes=config.store.spool_cap_bytes) as spool:
        spool.append([record])
    cal = outcome.calibration
    print(
        f"calibration of the {joint_name(pair)} stored in {config.store.spool_path}: flexion up to"
        f" {cal.flexion_deg:.0f} deg, neutral pose held within {cal.neutral_spread_deg:.1f} deg."
        " Runs use it from their next start."
    )
    return 0


@dataclass
class Outcome:
    """What the guided calibration ended with: a calibration, or why there is none."""

    calibration: JointCalibration | None
    error: str = ""


def calibration_record(config: AppConfig, pair: JointPair, calibration: JointCalibration) -> Record:
    """The ``calibration`` record runs look up, tagged as the pipeline tags joint records."""
    fields: dict[str, FieldValue] = {
        "status": CALIBRATION_GUIDED,
        "proximal": pair.proximal,
        "distal": pair.distal,
        **calibration_fields(calibration),
    }
    return Record(CALIBRATION, calibration.calibrated_ns, fields, joint_tags(config, pair))


async def guided_calibration(
    config: AppConfig,
    pair: JointPair,
    *,
    flexions: int = 3,
    say: Callable[[str], None] | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    phase_timeout_s: float = PHASE_TIMEOUT_S,
) -> Outcome:
    """Connect to the joint's two wearables, prompt, and calibrate; stops on success or failure.

    Parameters
    ----------
    config : AppConfig
        The radio settings and the wearables (only the pair's two are connected).
    pair : JointPair
        The joint and its wearables (:func:`find_pair`).
    flexions : int
        Flexions to ask for.
    say : callable, optional
        Where the prompts go (default: print to stdout, flushed).
    connect_timeout_s : float
        Wall time for the wearables to stream before giving up, s.
    phase_timeout_s : float
        Time of data allowed for the neutral pose, and then for the flexions, s.
    """
    tell = say or print_flushed
    placement = {d.device_id: d.placement for d in config.devices}
    side = "" if pair.side == "none" else f"{pair.side} "
    said: list[tuple[Phase, int, int]] = []

    def start(rate_hz: float) -> GuidedCalibration:
        return GuidedCalibration(
            segment(pair.proximal),
            segment(pair.distal),
            rate_hz,
            pair.joint,
            flexions=flexions,
            phase_timeout_s=phase_timeout_s,
        )

    def feed(step: GuidedCalibration, frame: Frame) -> bool:
        if frame.kind not in (SensorKind.ACC, SensorKind.GYR):
            return False
        before = (step.phase, step.flexions_seen, step.restarts)
        step.process(frame)
        return (step.phase, step.flexions_seen, step.restarts) != before

    def poll(step: GuidedCalibration) -> str | None:
        state = (step.phase, step.flexions_seen, step.restarts)
        if not said or state != said[-1]:
            for line in _prompts(step, said[-1] if said else None, pair, side, flexions):
                tell(line)
            said[:] = [state]
        if step.phase is Phase.FAILED:
            return step.error or "unknown"
        return "" if step.phase is Phase.DONE else None

    names = " and ".join(f"the {placement[d]} wearable" for d in (pair.proximal, pair.distal))
    tell(f"Connecting to {names} ({side}{pair.joint})...")
    ended = await follow(
        config,
        {pair.proximal, pair.distal},
        start=start,
        feed=feed,
        poll=poll,
        connect_timeout_s=connect_timeout_s,
        not_streaming=f"{names} did not stream within {connect_timeout_s:g} s (are they on and near?)",
        stopped="the collector stopped (Ctrl-C?) before the calibration was done",
        unusable="IMU frames",
    )
    return Outcome(ended.step.result if ended.step is not None else None, ended.error)


def _prompts(
    step: GuidedCalibration, said: tuple[Phase, int, int] | None, pair: JointPair, side: str, flexions: int
) -> list[str]:
    """What to tell the patient now that the step moved on from ``said``."""
    lines = []
    if said is not None and step.restarts > said[2]:
        lines.append("The wearables' signal dropped; let's start again from the start position.")
    if step.phase in (Phase.SETTLING, Phase.NEUTRAL) and (said is None or said[0] is not step.phase):
        if step.phase is Phase.SETTLING:
            lines.append(f"Connected. Please {NEUTRAL_POSE[pair.joint].format(side=side)}.")
        else:
            lines.append("Now hold still like that for a moment...")
    elif step.phase is Phase.FLEXING:
        if said is None or said[0] is not Phase.FLEXING:
            lines.append(f"Good. Now {MOTION[pair.joint].format(side=side)}, slowly, {flexions} times.")
        elif step.flexions_seen:
            lines.append(f"{step.flexions_seen} of {flexions}")
    elif step.phase is Phase.DONE:
        lines.append("Done, thank you: you can relax.")
    return lines
