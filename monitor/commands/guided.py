"""What the guided commands (``calibrate``, ``tardieu``) share: a joint's wearables, and following them.

:func:`follow` connects to the wearables through the collector ``run`` uses, starts the
command's step at the first IMU frame (its rate is the processing rate, as in the
pipeline), feeds it every frame and asks the command, after each change and at least once
a second, whether it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from monitor.collect import Collector
from monitor.collect.queue import Item
from monitor.commands.config import add_config_argument
from monitor.config import AppConfig
from monitor.dsp.imu.joints import JOINTS
from monitor.dsp.imu.streaming import SegmentStreams
from monitor.errors import ConfigError
from monitor.store.calibrations import JointPair, joint_pairs
from monitor.types import Frame, SensorKind, StreamId

S = TypeVar("S")
POLL_S = 1.0  # wall time between looks at the step when nothing changed (the connect timeout)


def add_joint_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """``--joint``, ``--side`` and ``--config``, as every guided command takes them."""
    parser.add_argument("--joint", required=True, choices=tuple(JOINTS), help=f"the joint to {what}")
    parser.add_argument(
        "--side", choices=("left", "right"), default=None, help="which one, when config.toml has both"
    )
    add_config_argument(parser)


def find_pair(config: AppConfig, joint: str, side: str | None) -> JointPair:
    """The configured wearables of ``joint`` (on ``side``); a one-line error if not exactly one."""
    pairs = [p for p in joint_pairs(config) if p.joint == joint and (side is None or p.side == side)]
    if not pairs:
        where = f"{side} {joint}" if side else joint
        raise ConfigError(
            f"{config.source}: no two [[device]] entries with joint = {joint!r}"
            + (f" and side = {side!r}" if side else "")
            + f": nothing measures the {where}",
            "give the proximal and the distal wearable of the joint `joint` and `side` keys",
        )
    if len(pairs) > 1:
        sides = ", ".join(p.side for p in pairs)
        raise ConfigError(f"config.toml has the {joint} on several sides ({sides}): give --side", "")
    return pairs[0]


def joint_tags(config: AppConfig, pair: JointPair) -> dict[str, str]:
    """The tags of a joint's records, as the pipeline tags them (no ``side`` for ``none``)."""
    tags = {"patient": config.patient.id, "joint": pair.joint}
    if pair.side != "none":
        tags["side"] = pair.side
    return tags


def joint_name(pair: JointPair) -> str:
    """``knee`` or ``left knee``, as the user is told."""
    return pair.joint if pair.side == "none" else f"{pair.side} {pair.joint}"


def segment(device_id: str) -> SegmentStreams:
    """The accelerometer and gyroscope streams of one wearable."""
    return SegmentStreams(StreamId(device_id, "acc"), StreamId(device_id, "gyr"))


@dataclass
class Ended(Generic[S]):
    """How :func:`follow` ended: the step when it is done, else why not."""

    step: S | None
    error: str = ""


def print_flushed(line: str) -> None:
    """The default ``say``: a prompt on stdout, at once."""
    print(line, flush=True)


async def follow(
    config: AppConfig,
    wanted: set[str],
    *,
    start: Callable[[float], S],
    feed: Callable[[S, Frame], bool],
    poll: Callable[[S], str | None],
    connect_timeout_s: float,
    not_streaming: str,
    stopped: str,
    unusable: str = "frames",
) -> Ended[S]:
    """Follow the ``wanted`` wearables until ``poll`` says the step is over; stops the collector.

    Parameters
    ----------
    config : AppConfig
        The radio settings and the wearables (only the ``wanted`` ones connect).
    wanted : set of str
        Device ids to connect to and follow.
    start : callable
        Makes the step from the first IMU frame's sample rate, Hz.
    feed : callable
        Gives the step a frame of a wanted wearable; True when the user may need telling.
        A ``ValueError`` (a frame the step cannot use) ends the session.
    poll : callable
        Looks at the step after each change, and at least every :data:`POLL_S` seconds:
        None to go on, ``""`` when done, else why it failed.
    connect_timeout_s : float
        Wall time for the first IMU frame before giving up, s.
    not_streaming, stopped : str
        The errors when no IMU frame came in time, and when the collector stopped first.
    unusable : str
        What a frame the step cannot use is called in the error (``frames``).

    Returns
    -------
    Ended
        The step when ``poll`` said it is done, else None and why not.
    """
    steps: list[S] = []
    changed = asyncio.Event()
    broken: list[str] = []

    def sink(item: Item) -> None:
        if not isinstance(item, Frame) or item.stream.device not in wanted or broken:
            return
        if not steps:
            if item.kind not in (SensorKind.ACC, SensorKind.GYR):
                return
            steps.append(start(item.sample_rate_hz))
        try:
            news = feed(steps[0], item)
        except ValueError as error:
            broken.append(f"{item.stream.device} sent unusable {unusable}: {error}")
            news = True
        if news:
            changed.set()

    devices = tuple(d.collector_device() for d in config.devices if d.device_id in wanted)
    collector = Collector(config.collector_config(devices=devices), sink)
    collector.install_signal_handlers()
    started = time.monotonic()
    collecting = asyncio.create_task(collector.run())
    try:
        while not collecting.done():
            waiting = asyncio.create_task(changed.wait())
            await asyncio.wait([collecting, waiting], timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            changed.clear()
            if broken:
                return Ended(None, broken[0])
            if not steps:
                if time.monotonic() - started > connect_timeout_s:
                    return Ended(None, not_streaming)
                continue
            end = poll(steps[0])
            if end is not None:
                return Ended(None, end) if end else Ended(steps[0])
        await collecting  # re-raises a collector failure
        return Ended(None, stopped)
    finally:
        if not collecting.done():
            collector.stop()
            await asyncio.gather(collecting, return_exceptions=True)
