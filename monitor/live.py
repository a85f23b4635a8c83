"""A live run: collector → pipeline → spool (→ InfluxDB) with alerts, until stopped.

This is what ``spasm-monitor run`` and the demo's live part execute. Records reach the
spool once a second (one transaction per batch), then the alert rules see them; the
forwarder, when ``[store.influx]`` is configured, drains the spool concurrently. SIGINT and
SIGTERM stop it cleanly: the collector flushes its queue, the DSP its pending events, and
everything is committed before :func:`run_live` returns.

Spasm episodes (``spasm_episode``, what the dashboards and the Grafana spike rule count) are
written as they close, minutes after the spasm (:mod:`monitor.clinical.closing`); the clinical
scores of each finished hour follow (:mod:`monitor.clinical.rescore`).

If the collector's consumer or the forwarder dies, the run stops the same clean way and
:func:`run_live` raises :class:`~monitor.collect.errors.RunStoppedError` with the reason, so
``run`` exits non-zero and the service manager restarts it instead of a run that collects
into nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from monitor.alerts import AlertEngine
from monitor.alerts.alert import Alert
from monitor.alerts.notify import Notifier
from monitor.alerts.service import AlertService
from monitor.clinical.affected import configured_affected, stored_affected
from monitor.clinical.closing import EpisodeCloser
from monitor.clinical.events import EpisodeCounter
from monitor.clinical.rescore import HourlyRescorer
from monitor.collect import Collector
from monitor.collect.errors import RunStoppedError
from monitor.collect.queue import Item
from monitor.collect.session import SessionStats
from monitor.config import AppConfig
from monitor.dsp import EmgParams
from monitor.dsp.emg_detector import PROCESS_BLOCK_S
from monitor.dsp.imu.calibration import JointCalibration
from monitor.pipeline import Pipeline, PipelineStats
from monitor.store import Spool, SpoolWriter
from monitor.store.calibrations import stored_calibrations
from monitor.store.forwarder import Forwarder, ForwardStats
from monitor.store.retention import RetentionPruner
from monitor.store.schema import SPASM_EVENT
from monitor.types import NS_PER_S, Frame, Record

logger = logging.getLogger(__name__)

COMMIT_EVERY_S = 1.0  # records reach the spool (and alerts) at least this often
STATUS_EVERY_S = 5.0  # on a terminal: someone is watching
# To a log (the journal): 288 lines a day plus one per change, where every 5 s made ~17,000.
LOG_STATUS_EVERY_S = 300.0
STOP_FLUSH_S = 10.0  # a spool locked at the stop gets this long, within systemd's TimeoutStopSec
# Beyond the EMG detector's own holding (episode_settle_s): its 2-s process block, its filter
# and envelope delays (under a second), and wearables' streams reaching the pipeline a few
# seconds apart.
SETTLE_MARGIN_S = 10.0


@dataclass
class LiveStatus:
    """A snapshot for the status line."""

    elapsed_s: float
    connected: dict[str, bool]
    samples: dict[str, int]
    spasms: int
    alerts: int
    store: str = ""  # spool and forwarding health, e.g. "spool ok | influx ok"
    undelivered_alerts: int = 0  # alerts that reached no one: the status line says so
    # Per device: why nothing is collected, or what is degraded (a rate the MTU lowered).
    problems: dict[str, str] = field(default_factory=dict)
    # Not connected yet, and nothing wrong so far: the first seconds of every run, not "DOWN".
    connecting: frozenset[str] = frozenset()


@dataclass
class LiveResult:
    """What a live run did."""

    duration_s: float  # collecting, until the stop was asked for (duration_s, a signal)
    pipeline: PipelineStats
    sessions: dict[str, SessionStats]
    alerts: list[Alert] = field(default_factory=list)
    records: int = 0
    spasms: int = 0  # episodes (monitor.clinical.events): one per limb, not one per channel
    episodes: int = 0  # spasm_episode records written, each as its episode closed
    scores: int = 0  # clinical_score records written (re-scored hours and days included)
    forwarded: ForwardStats | None = None
    stop_s: float = 0.0  # after it: disconnecting, the last records, the final scoring


async def run_live(
    config: AppConfig,
    spool: Spool,
    *,
    duration_s: float | None = None,
    collector_overrides: dict[str, Any] | None = None,
    extra_tags: dict[str, str] | None = None,
    on_status: Callable[[LiveStatus], None] | None = None,
    handle_signals: bool = True,
    status_every_s: float = STATUS_EVERY_S,
    calibrations: dict[tuple[str, str], JointCalibration] | None = None,
) -> LiveResult:
    """Collect, process and store until ``duration_s`` passes or SIGINT/SIGTERM arrives.

    Parameters
    ----------
    config : AppConfig
        Wearables, radio, DSP, store and alert settings.
    spool : Spool
        Where every record goes first (opened by the caller, in this thread).
    duration_s : float, optional
        Stop after this long; None runs until a signal.
    collector_overrides : dict, optional
        :class:`~monitor.collect.CollectorConfig` fields to override (the demo's transport).
    extra_tags : dict, optional
        Tags for every record (``{"source": "simulated"}``).
    on_status : callable, optional
        Called with a :class:`LiveStatus` every ``status_every_s`` and at once on a change of
        state (see :func:`status_due`).
    handle_signals : bool
        Install SIGINT/SIGTERM handlers that stop the run cleanly.
    status_every_s : float
        Longest time between two status calls when nothing changes (s).
    calibrations : dict, optional
        Joint calibrations per ``(side, joint)`` to use instead of the spool's (which warn of a
        joint without one): ``{}`` calibrates every joint from its first seconds, unannounced
        (the demo's emulated wearables).
    """
    if calibrations is None:
        calibrations = stored_calibrations(spool, config)
    pipeline = Pipeline(config, extra_tags, calibrations)
    notifier = Notifier(config.alerts.notify_urls) if config.alerts.notify_urls else None
    # Appends go through a writer thread: a locked or full spool holds records, never the loop.
    writer = SpoolWriter(spool.path, spool_options={"cap_bytes": spool.cap_bytes})
    affected = known_affected(config, spool)
    alerts = AlertService(AlertEngine(config.alerts.thresholds, affected), writer, notifier)
    closer = EpisodeCloser(episode_settle_s(config.emg_params), known_affected=affected)
    pending: list[Record] = []
    pruner = RetentionPruner(spool.path, config.store.retention_days, config.store.influx is not None)

    def sink(item: Item) -> None:
        pending.extend(pipeline.process(item))
        if isinstance(item, Frame):  # the data clock that closes episodes
            closer.advance(item.t0_ns + round(item.n_samples * NS_PER_S / item.sample_rate_hz))

    collector = Collector(config.collector_config(**(collector_overrides or {})), sink)
    if handle_signals:
        collector.install_signal_handlers()
    result = LiveResult(0.0, pipeline.stats, {s.device_id: s.stats for s in collector.sessions})
    rescorer = HourlyRescorer(
        spool.path,
        config.patient.timezone,
        time.time_ns(),
        config.clinical.min_wear_h,
        configured_affected(config.patient.id, config.devices),  # scored as the alerts count
    )
    rescoring: asyncio.Task[int] | None = None
    forward_stop = asyncio.Event()
    forwarder = forward_task = None
    if config.store.influx is not None:
        forwarder = Forwarder(spool.path, config.store.influx.writer())
        forward_task = asyncio.create_task(forwarder.run(forward_stop))

    episodes = EpisodeCounter()

    async def commit(final: bool = False) -> None:
        nonlocal rescoring
        batch, pending[:] = list(pending), []
        closer.add(batch)
        closed = closer.close_all() if final else closer.closed()
        result.episodes += len(closed)
        batch += [Record(r.measurement, r.time_ns, r.fields, r.tags | (extra_tags or {})) for r in closed]
        if batch:
            writer.append(batch)
            result.records += len(batch)
            events = sorted((r for r in batch if r.measurement == SPASM_EVENT), key=lambda r: r.time_ns)
            result.spasms += sum(episodes.add(r) for r in events)
            result.alerts += await alerts.consume(batch)
        if responses := rescorer.take_responses():  # a cycle's wearing-off, once scored
            result.alerts += await alerts.consume(responses)
        result.alerts += await alerts.tick(time.time_ns())
        if pruner.due(time.time_ns()):  # at the start, then daily; in a thread: it may take a while
            await asyncio.to_thread(pruner.prune_if_due)
        if forwarder is not None:
            result.alerts += await alerts.forwarding(time.time_ns(), forwarder.stats, config.patient.id)
        if rescoring is None or rescoring.done():  # hours that end meanwhile wait for the next
            span = rescorer.due(time.time_ns())
            if span is not None:
                rescoring = asyncio.create_task(rescorer.score(*span))

    started = time.monotonic()
    collecting = asyncio.create_task(collector.run())
    last_status = started
    told: StatusState | None = None
    forward_failure: BaseException | None = None
    try:
        while not collecting.done():
            watched = (
                [collecting] if forward_task is None or forward_task.done() else [collecting, forward_task]
            )
            timeout_s = COMMIT_EVERY_S
            if duration_s is not None and result.duration_s == 0.0:  # wake at the deadline, not after it
                timeout_s = min(timeout_s, max(duration_s - (time.monotonic() - started), 0.0))
            await asyncio.wait(watched, timeout=timeout_s)
            now = time.monotonic()
            if duration_s is not None and now - started >= duration_s and result.duration_s == 0.0:
                result.duration_s = now - started  # what was asked for, not the stop after it
                collector.stop()
            if forward_task is not None and forward_task.done() and forward_failure is None:
                # It only returns once asked to stop: done now means it died.
                forward_failure = forward_task.exception() or RuntimeError("returned on its own")
                logger.error("the forwarder stopped: %s", forward_failure, exc_info=forward_failure)
                collector.stop()
            await commit()
            if on_status is not None and not collector.stopping:  # disconnecting at a stop is no "DOWN"
                status = _status(now - started, collector, pipeline, result)
                status.store = writer.stats.health()
                status.undelivered_alerts = alerts.undelivered
                if forwarder is not None:
                    status.store += " | " + forwarder.stats.health(time.time_ns())
                state = status_state(status)  # a change is told at once, not minutes later
                if status_due(now - last_status, state, told, status_every_s):
                    last_status, told = now, state
                    on_status(status)
        await collecting  # re-raises a collector failure
    finally:
        if result.duration_s == 0.0:  # stopped by a signal or a failure
            result.duration_s = time.monotonic() - started
        if not collecting.done():
            collector.stop()
            with contextlib.suppress(Exception):
                await collecting
        pending.extend(pipeline.flush())
        await commit(final=True)
        if closer.late:
            logger.warning(
                "%d spasm event(s) reported after their episode was written: counted once, in it", closer.late
            )
        await writer.close(STOP_FLUSH_S)  # held records committed (or logged) before the scoring
        if rescoring is not None:
            await rescoring
        # The hour in progress too: the run's last data is scored before it returns.
        await rescorer.score(rescorer.first_unscored_ns, time.time_ns() + 1)
        result.scores = rescorer.written
        if forwarder is not None and forward_task is not None:
            forward_stop.set()
            if forward_failure is None:
                result.forwarded = await forward_task
            await forwarder.close()
    result.stop_s = time.monotonic() - started - result.duration_s
    if forward_failure is not None:
        raise RunStoppedError(
            f"the forwarder to InfluxDB stopped: {type(forward_failure).__name__}: {forward_failure}"
            " (what it had not sent stays in the spool)"
        ) from forward_failure
    return result


def known_affected(config: AppConfig, spool: Spool) -> dict[str, set[str]]:
    """The patients' affected sides known at the start, as the scores learn them: the spool's
    whole history (treatment log, ``affected=true`` events) and the config's ``affected = true``
    wearables (:mod:`monitor.clinical.affected`)."""
    return stored_affected(spool, configured_affected(config.patient.id, config.devices))


def episode_settle_s(params: EmgParams) -> float:
    """Longest time, in data time, the EMG detector holds a spasm before reporting it, s.

    A spasm grows up to ``max_event_s``; it is reported once the next burst cannot continue
    it, and a burst starting within ``merge_gap_s`` of its end is judged when it ends, up to
    ``max_event_s`` later; the onset may lie ``edge_search_s`` before the burst, and each
    burst is judged ``edge_search_s`` plus twice ``artefact_guard_s`` after its end. The IMU's
    movement detector holds a jerk well under a second.

    Examples
    --------
    >>> round(episode_settle_s(EmgParams()))  # 4 minutes
    255
    """
    p = params
    holding_s = 2 * p.max_event_s + p.merge_gap_s + 2 * p.edge_search_s + 2 * p.artefact_guard_s
    return holding_s + PROCESS_BLOCK_S + SETTLE_MARGIN_S


StatusState = tuple[object, ...]


def status_state(status: LiveStatus) -> StatusState:
    """What a status line must be printed for at once when it changes.

    Which wearables are up, their problems, the number of alerts, and the store's health
    in words: its running numbers (seconds failing, points held) are left out, so a spool
    locked for 3 s and for 4 s is one state, and "spool ok" after it is a change.
    """
    store_words = re.sub(r"\d[\d,.]*", "#", status.store)
    return (
        tuple(sorted(status.connected.items())),
        tuple(sorted(status.problems.items())),
        status.alerts,
        status.undelivered_alerts,
        store_words,
    )


def status_due(
    since_last_s: float, state: StatusState, last_state: StatusState | None, every_s: float
) -> bool:
    """Whether to print a status line now: the first one, on a change of state, or every ``every_s``.

    Parameters
    ----------
    since_last_s : float
        Time since the last status line (s).
    state, last_state : tuple
        :func:`status_state` now and at the last line (None: no line yet).
    every_s : float
        Longest silence when nothing changes (s).
    """
    return last_state is None or state != last_state or since_last_s >= every_s


def _status(elapsed_s: float, collector: Collector, pipeline: Pipeline, result: LiveResult) -> LiveStatus:
    samples: dict[str, int] = {}
    for key, count in pipeline.stats.samples.items():
        device = key.split("/", 1)[0]
        samples[device] = samples.get(device, 0) + count
    return LiveStatus(
        elapsed_s,
        {s.device_id: s.is_connected for s in collector.sessions},
        samples,
        result.spasms,
        len(result.alerts),
        problems=_problems(collector),
        connecting=frozenset(
            s.device_id
            for s in collector.sessions
            if s.stats.connects == 0 and not s.is_connected and s.problem is None
        ),
    )


def _problems(collector: Collector) -> dict[str, str]:
    problems = {s.device_id: s.problem or s.notice for s in collector.sessions}
    return {device: text for device, text in problems.items() if text}
