"""Frames in, records out: the DSP chosen per stream from the frame's kind and rate and config.

:class:`Pipeline` is synchronous and pure (no I/O, no clock), so a live run, a replay of a
recording and a test feed it the same way. What it runs for each wearable of
``config.toml``:

- EMG frames of a wearable with a ``muscle`` → :class:`~monitor.dsp.SpasmDetector` at the
  frame's rate and channel count
  (a Myo's 200 Hz or the reference wearable's 1 kHz), tagged with the device's muscle,
  placement and side; a change of rate or channel count (an MTU-23 fallback after a
  reconnect) ends one detector and starts another;
- gyroscope frames → :class:`~monitor.dsp.MovementSpasmProcessor` (movement spasms; the
  only spasm evidence of an IMU-only set) and
  :class:`~monitor.dsp.imu.activity.MovementActivity` (``movement``: time in motion per
  minute, also the IMU's heartbeat for the offline alert);
- acc + gyr frames of the two IMUs either side of a ``joint`` →
  :class:`~monitor.dsp.JointAngleProcessor` (angle, ROM, repetitions);
- the collector's own records become the schema's (``docs/schema.md``): ``ble_gap`` →
  ``gap``, ``battery`` and ``ble_status`` → ``device_status``; its bookkeeping
  (``ble_session``, ``ble_clock``, ``ble_malformed``, ``collector_*``) passes through;
- ``observation`` records state when the patient was monitored (any wearable streaming),
  so clinical rates divide by observed time, not by the clock; ``coverage`` records
  (:mod:`monitor.dsp.coverage`) state it per stream and minute, whatever the wearable measures.

Every record leaves with the ``patient`` tag and the device's tags.

Each processor call is guarded (:mod:`monitor.pipeline_guard`): an exception is counted,
reported once per kind and minute of data (log line and ``dsp_error`` record), and that
processor alone is reset; a ``ValueError`` is a frame the processor refuses, counted and
skipped with the processor kept. A record that line protocol cannot carry (a NaN time, a
name with a newline) is dropped and counted here, so one bad record never fails a spool
batch or the run.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitor.config import AppConfig, DeviceEntry
from monitor.dsp import JointAngleProcessor, MovementSpasmProcessor, SegmentStreams, SpasmDetector
from monitor.dsp.coverage import StreamCoverage
from monitor.dsp.imu.activity import MovementActivity
from monitor.dsp.imu.calibration import JointCalibration
from monitor.pipeline_guard import ProcessorGuard
from monitor.store.line_protocol import render_records
from monitor.store.schema import DEVICE_STATUS, GAP, OBSERVATION
from monitor.types import NS_PER_S, FieldValue, Frame, Record, SensorKind, StreamId

logger = logging.getLogger(__name__)

# Streams apart by more than this end an observation interval (a reconnect of a few
# seconds is recorded as a gap, not as time off monitoring).
OBSERVATION_BREAK_NS = 5 * NS_PER_S
# Open intervals are written at least this often, so a crash loses little coverage.
OBSERVATION_MAX_NS = 300 * NS_PER_S


@dataclass
class PipelineStats:
    """What went through, for status lines and summaries."""

    frames: int = 0
    samples: Counter[str] = field(default_factory=Counter)  # per "device/sensor"
    records: Counter[str] = field(default_factory=Counter)  # per measurement
    unknown_devices: set[str] = field(default_factory=set)
    rejected_frames: int = 0  # refused by a processor (ValueError); the processor kept
    processor_errors: Counter[str] = field(default_factory=Counter)  # per "processor/ErrorType"
    unrenderable_records: int = 0  # dropped: line protocol cannot carry them


class Pipeline:
    """The DSP of one home, configured from :class:`~monitor.config.AppConfig`.

    Parameters
    ----------
    config : AppConfig
        Patient and wearables (placement, side, muscle, joint) and the EMG parameters.
    extra_tags : dict, optional
        Added to every record (``{"source": "simulated"}`` for the demo).
    calibrations : dict, optional
        Stored joint calibrations per ``(side, joint)``
        (:func:`monitor.store.calibrations.stored_calibrations`); a joint without one is
        calibrated from its first seconds, and says so in a ``calibration`` record.
    skip_measurements : iterable of str, optional
        Measurements the caller does not keep, dropped before they are tagged and checked
        (the demo's weeks of history skip the 1 Hz envelope and the 10 Hz angle: tagging
        and checking them cost as much as a fifth of the detectors' time).

    Examples
    --------
    >>> import numpy as np
    >>> from monitor.config import parse_config
    >>> config = parse_config({"patient": {"id": "p01"}, "device": [
    ...     {"address": "F1:00:00:00:00:01", "placement": "calf", "muscle": "soleus"}]})
    >>> pipeline = Pipeline(config)
    >>> frame = Frame(StreamId("F1:00:00:00:00:01", "emg"), SensorKind.EMG, 1000.0, 0, 0, 0,
    ...               np.zeros((100, 2)))
    >>> pipeline.process(frame), pipeline.stats.samples["F1:00:00:00:00:01/emg"]
    ([], 100)
    """

    def __init__(
        self,
        config: AppConfig,
        extra_tags: dict[str, str] | None = None,
        calibrations: dict[tuple[str, str], JointCalibration] | None = None,
        skip_measurements: Iterable[str] = (),
    ) -> None:
        self.config = config
        self._skipped = frozenset(skip_measurements)
        self._calibrations = dict(calibrations or {})
        self.stats = PipelineStats()
        self._base_tags = {"patient": config.patient.id} | (extra_tags or {})
        self._devices = {d.device_id: d for d in config.devices}
        self._emg: dict[str, SpasmDetector] = {}
        # Per device, the two processors of its gyroscope stream: spasms and activity.
        self._movement: dict[str, tuple[MovementSpasmProcessor, MovementActivity]] = {}
        self._coverage: dict[StreamId, StreamCoverage] = {}
        self._joints: dict[tuple[str, str], JointAngleProcessor] = {}
        self._joint_of: dict[str, tuple[str, str]] = {
            d.device_id: (d.side, d.joint) for d in config.devices if d.joint is not None
        }
        self._observed: tuple[int, int] | None = None  # open interval, UTC ns
        self._guard = ProcessorGuard()
        self.stats.processor_errors = self._guard.errors
        self._last_ns = 0  # end of the latest frame, UTC ns: the time of a failing flush
        self._unrenderable: Counter[tuple[str, str]] = Counter()

    def process(self, item: Frame | Record) -> list[Record]:
        """Take one Frame or collector Record; return the records now final."""
        if isinstance(item, Record):
            try:
                record = schema_record(item)
            except (KeyError, TypeError, ValueError) as error:  # a collector record missing a field
                logger.warning(
                    "collector record %s kept as is: %s: %s", item.measurement, type(error).__name__, error
                )
                record = item
            return self._renderable(
                [self._tagged(record, self._devices.get(str(item.tags.get("device", ""))))]
            )
        device = self._devices.get(item.stream.device)
        if device is None:  # the collector only admits configured devices; a replay may not
            if item.stream.device not in self.stats.unknown_devices:
                logger.warning("frames of %s, which config.toml does not list: ignored", item.stream.device)
                self.stats.unknown_devices.add(item.stream.device)
            return []
        self.stats.frames += 1
        self.stats.samples[f"{item.stream.device}/{item.stream.sensor}"] += item.n_samples
        self._last_ns = max(self._last_ns, item.t0_ns)
        records = self._observe(item)  # the device did send it
        records += self._guarded(
            "coverage", item, lambda: self._cover(item), lambda: self._coverage.pop(item.stream)
        )
        records += self._route(item, device)
        return self._renderable(
            [
                self._tagged(r, device if r.measurement != OBSERVATION else None)
                for r in records
                if r.measurement not in self._skipped
            ]
        )

    def flush(self) -> list[Record]:
        """End of the run: every processor's pending records (one failing flush loses only its own)."""
        records: list[Record] = []
        for device_id, detector in self._emg.items():
            done = self._flushed("emg", device_id, detector.flush)
            records += [self._tagged(r, self._devices[device_id]) for r in done]
        for device_id, (movement, activity) in self._movement.items():
            done = self._flushed("movement", device_id, movement.flush)
            done += self._flushed("activity", device_id, activity.flush)
            records += [self._tagged(r, self._devices[device_id]) for r in done]
        for (side, joint_name), joint in self._joints.items():
            done = self._flushed("joint", f"{side} {joint_name}", joint.flush)
            records += [self._tagged(r, None) for r in done]
        for stream, coverage in self._coverage.items():
            done = self._flushed("coverage", stream.device, coverage.flush)
            records += [self._tagged(r, self._devices[stream.device]) for r in done]
        if self._observed is not None:
            records.append(self._tagged(_observation(*self._observed), None))
            self._observed = None
        self._emg.clear()
        self._movement.clear()
        self._coverage.clear()
        self._joints.clear()
        return self._renderable(records)

    # -- isolation -------------------------------------------------------------------------

    def _guarded(
        self, processor: str, frame: Frame, call: Callable[[], list[Record]], reset: Callable[[], object]
    ) -> list[Record]:
        """``call()``; on failure the ``dsp_error`` record instead, and the processor reset."""
        try:
            return call()
        except ValueError as error:  # a frame this processor refuses (shape, rate): skipped
            self.stats.rejected_frames += 1
            report = self._guard.failed(processor, frame.stream.device, error, frame.t0_ns, "rejected")
        except Exception as error:  # anything else: its state cannot be trusted any more
            reset()
            report = self._guard.failed(processor, frame.stream.device, error, frame.t0_ns)
        return [report] if report is not None else []

    def _flushed(self, processor: str, device: str, flush: Callable[[], list[Record]]) -> list[Record]:
        try:
            return [r for r in flush() if r.measurement not in self._skipped]
        except Exception as error:
            report = self._guard.failed(processor, device, error, self._last_ns, "flush")
            return [report] if report is not None else []

    def _renderable(self, records: list[Record]) -> list[Record]:
        """``records`` without those line protocol cannot carry (dropped, counted, told once per kind)."""
        try:
            render_records(records)  # the common case: the whole list at once
            return records
        except (ValueError, TypeError, OverflowError):
            pass
        kept: list[Record] = []
        for record in records:
            try:
                render_records([record])
            except (ValueError, TypeError, OverflowError) as error:
                key = (record.measurement, type(error).__name__)
                self._unrenderable[key] += 1
                self.stats.unrenderable_records += 1
                count = self._unrenderable[key]
                if count & (count - 1) == 0:  # the 1st, 2nd, 4th, 8th…: told, never a flood
                    logger.warning("%s record dropped (%d so far): %s", record.measurement, count, error)
                continue
            kept.append(record)
        return kept

    def _observe(self, frame: Frame) -> list[Record]:
        start_ns = frame.t0_ns
        end_ns = frame.t0_ns + round(frame.n_samples * NS_PER_S / frame.sample_rate_hz)
        if self._observed is None:
            self._observed = (start_ns, end_ns)
            return []
        first, last = self._observed
        if start_ns > last + OBSERVATION_BREAK_NS or end_ns < first - OBSERVATION_BREAK_NS:
            self._observed = (start_ns, end_ns)
            return [_observation(first, last)]
        # Streams of several wearables interleave a little out of time order.
        first, last = min(first, start_ns), max(last, end_ns)
        if last - first >= OBSERVATION_MAX_NS:
            self._observed = (last, last)
            return [_observation(first, last)]
        self._observed = (first, last)
        return []

    def _cover(self, frame: Frame) -> list[Record]:
        coverage = self._coverage.get(frame.stream)
        if coverage is None:
            coverage = self._coverage[frame.stream] = StreamCoverage(frame.stream)
        return coverage.process(frame)

    # -- routing ---------------------------------------------------------------------------

    def _route(self, frame: Frame, device: DeviceEntry) -> list[Record]:
        records: list[Record] = []
        if frame.kind is SensorKind.EMG:
            # EMG is analysed only where config.toml names the muscle under the electrodes: a
            # wearable worn for its IMU has no electrodes on skin, and would report them off.
            if device.muscle:
                records += self._emg_frame(frame, device)
        elif frame.kind is SensorKind.GYR:
            records += self._movement_frame(frame, device)
        if frame.kind in (SensorKind.ACC, SensorKind.GYR) and device.device_id in self._joint_of:
            records += self._joint_frame(frame, device)
        return records

    def _emg_frame(self, frame: Frame, device: DeviceEntry) -> list[Record]:
        records: list[Record] = []
        detector = self._emg.get(device.device_id)
        if detector is not None and (
            detector.sample_rate_hz != frame.sample_rate_hz or detector.channels != frame.channels
        ):
            records += self._flushed("emg", device.device_id, detector.flush)
            detector = None
        if detector is None:
            params = self.config.emg_params.as_dict()
            detector = SpasmDetector(frame.sample_rate_hz, frame.channels, **params)
            self._emg[device.device_id] = detector
        process = detector.process
        return records + self._guarded(
            "emg", frame, lambda: process(frame), lambda: self._emg.pop(device.device_id)
        )

    def _movement_frame(self, frame: Frame, device: DeviceEntry) -> list[Record]:
        records: list[Record] = []
        pair = self._movement.get(device.device_id)
        if pair is None or pair[0].stream != frame.stream:
            # A wearable that now sends another gyroscope stream: close the old one's books.
            if pair is not None:
                records += self._flushed("movement", device.device_id, pair[0].flush)
                records += self._flushed("activity", device.device_id, pair[1].flush)
            pair = (MovementSpasmProcessor(frame.stream, device.placement), MovementActivity(frame.stream))
            self._movement[device.device_id] = pair
        movement, activity = pair
        device_id = device.device_id

        def reset_movement() -> None:
            self._movement[device_id] = (MovementSpasmProcessor(frame.stream, device.placement), activity)

        def reset_activity() -> None:
            self._movement[device_id] = (self._movement[device_id][0], MovementActivity(frame.stream))

        records += self._guarded("movement", frame, lambda: movement.process(frame), reset_movement)
        return records + self._guarded("activity", frame, lambda: activity.process(frame), reset_activity)

    def _joint_frame(self, frame: Frame, device: DeviceEntry) -> list[Record]:
        key = self._joint_of[device.device_id]
        processor = self._joints.get(key)
        if processor is None:
            side, joint = key
            pair = [d for d in self.config.devices if (d.side, d.joint) == key]
            proximal = next(d for d in pair if d.segment == "proximal")
            distal = next(d for d in pair if d.segment == "distal")
            tags = {"side": side} if side != "none" else {}
            processor = JointAngleProcessor(
                _segment(proximal.device_id),
                _segment(distal.device_id),
                frame.sample_rate_hz,
                joint,
                calibration=self._calibrations.get(key),
                tags=tags,
            )
            self._joints[key] = processor
        joint_processor = processor
        return self._guarded(
            "joint", frame, lambda: joint_processor.process(frame), lambda: self._joints.pop(key)
        )

    def _tagged(self, record: Record, device: DeviceEntry | None) -> Record:
        tags = dict(self._base_tags)
        if device is not None:
            tags |= device.tags()
        tags |= record.tags  # the processor's own tags (kind, channel, joint) win
        self.stats.records[record.measurement] += 1
        return Record(record.measurement, record.time_ns, record.fields, tags)


def schema_record(record: Record) -> Record:
    """A collector record in the storage schema's vocabulary (``docs/schema.md``)."""
    fields, tags = record.fields, dict(record.tags)
    if record.measurement == "ble_gap":
        gap: dict[str, FieldValue] = {
            "duration_s": float(fields["duration_s"]),
            "missing_samples": int(fields["samples"]),
            "first_counter": int(fields["first_counter"]),
        }
        if "packets" in fields:
            gap["missing_packets"] = int(fields["packets"])
        tags["sensor"] = str(tags.pop("stream", ""))
        return Record(GAP, record.time_ns, gap, tags)
    if record.measurement == "battery":
        return Record(DEVICE_STATUS, record.time_ns, {"battery_pct": int(fields["percent"])}, tags)
    if record.measurement == "ble_status":
        status: dict[str, FieldValue] = {"connected": fields["state"] == "connected", **fields}
        return Record(DEVICE_STATUS, record.time_ns, status, tags)
    return record


def _observation(start_ns: int, end_ns: int) -> Record:
    return Record(OBSERVATION, start_ns, {"duration_s": (end_ns - start_ns) / NS_PER_S, "offset_ns": end_ns})


def _segment(device_id: str) -> SegmentStreams:
    return SegmentStreams(StreamId(device_id, "acc"), StreamId(device_id, "gyr"))
