"""EMG spasm detection: the streaming :class:`SpasmDetector` (batch: :mod:`monitor.dsp.emg_batch`).

Pipeline, per channel::

    raw ─► repair NaN/inf ─► mains notch ─► band-pass ─► RMS envelope (≈100 Hz)
        ─► moving average ─► hysteresis against the local resting floor, frozen from
           each onset to its end ─► bursts
        ─► artefact rejection ─► merge (gap < merge_gap_s) ─► onset/offset refinement
        ─► morphology + features ─► SpasmEvent

Every stage carries its state between chunks, and events are only emitted once no later
sample can change them, so any chunking of a recording gives exactly the events of the
batch call. Memory is bounded by ``max_event_s`` whatever the stream length.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.dsp.artefacts import is_motion, lost_signal
from monitor.dsp.baseline import BlockSummarizer, BlockSummary, RestingFloor
from monitor.dsp.classify import classify_envelope
from monitor.dsp.conditioning import Conditioner, design_conditioning
from monitor.dsp.emg_input import Float32Array, validate_emg
from monitor.dsp.envelope import EnvelopeBlock, EnvelopeStage
from monitor.dsp.extent import CoreRule, core_extent
from monitor.dsp.heartbeat import HeartbeatGate
from monitor.dsp.history import EnvelopeHistory
from monitor.dsp.hysteresis import ReferenceHysteresis, RunTracker
from monitor.dsp.params import EmgParams
from monitor.dsp.timeline import SampleTimeline, frame_continues
from monitor.store.schema import spasm_event_record
from monitor.types import NS_PER_S, Frame, Record, SensorKind, SpasmEvent

# Sees each processed chunk: (first envelope index, block, floor in force, level in force),
# the last two shape (channels, m) in mV. See monitor.dsp.trace.
EnvelopeObserver = Callable[[int, EnvelopeBlock, npt.NDArray[np.float64], npt.NDArray[np.float64]], None]

MIN_SAMPLE_RATE_HZ = 100.0
MAX_SAMPLE_RATE_HZ = 20_000.0
# Input is gathered into blocks of about this length before it is processed: per-call
# overhead then stays negligible for 100 ms frames, and results do not depend on it.
PROCESS_BLOCK_S = 2.0
MAX_PROCESS_BLOCK_S = 30.0
# A flat line shorter than this is not reported as a detached electrode.
MIN_ELECTRODE_OFF_S = 0.2
# For the baseline and for judging bursts, an envelope sample counts as flat only at the
# end of a flat run this long: a coarse ADC
# (a Myo's int8 at a 2-count resting floor) repeats values often enough that single
# envelope samples look flat, and each would void a whole baseline block. The rule is
# causal, so streaming still equals batch.
MIN_FLAT_RUN_S = 0.05
# Issues tracked sample by sample; motion artefacts are judged per burst instead.
SAMPLE_ISSUES = ("electrode_off", "clipping", "nonfinite")


@dataclass
class _Channel:
    detection: ReferenceHysteresis
    quality: dict[str, RunTracker]
    bursts: deque[tuple[int, int, bool]]  # start, stop, reached the on threshold
    heartbeats: HeartbeatGate
    event: _OpenEvent | None = None
    last_burst_mark: int = -(10**12)  # the peak of a blip, the end of a longer burst
    last_offset: int = -(10**12)


@dataclass(slots=True)
class _OpenEvent:
    """The spasm a channel is building, in envelope samples ``start <= i < stop``.

    ``solid_stop`` ends its last burst that was not an isolated blip; the isolated blips
    that continued it since (``trailing_blips``: start, stop, peak) go again if they turn
    out to keep a heart rhythm. ``only_blips``: it began with an isolated blip and only
    such blips joined it, so it goes whole.
    """

    start: int
    stop: int
    only_blips: bool
    solid_stop: int = 0
    trailing_blips: list[tuple[int, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.solid_stop = self.stop

    def extend(self, start: int, stop: int, peak: int, isolated_blip: bool) -> None:
        self.stop = max(self.stop, stop)
        if isolated_blip:
            self.trailing_blips.append((start, stop, peak))
        else:
            self.solid_stop = self.stop
            self.trailing_blips = []
            self.only_blips = False


class SpasmDetector:
    """Streaming spasm detector for one multi-channel EMG stream.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate of the stream, Hz (100 to 20,000).
    channels : int
        Number of EMG channels; each is detected independently.
    tags : mapping of str to str, optional
        Tags added to every record (patient, device, location).
    **params
        Overrides of :class:`monitor.dsp.params.EmgParams`.

    Notes
    -----
    ``process`` accepts frames of any length and returns the records that became final:
    ``spasm_event`` (one per spasm), ``emg_envelope`` (RMS and baseline per second and
    channel) and ``signal_quality`` (electrode off, clipping, non-finite samples, motion
    artefacts, as intervals). A spasm is final about ``merge_gap_s`` plus a second after
    it ends. ``flush`` ends the stream and returns the rest. A frame that does not continue
    the stream (:func:`~monitor.dsp.timeline.frame_continues`: a gap in its sequence, or a
    clock step in its stamp) ends the stream and starts a new one. A following frame
    stamped slightly off (the collector's clock fit settling) continues the stream; its
    samples take the frame's own times.

    With ``keep_records = False`` (set before the first sample; :func:`detect_spasms`
    does) only the spasms are built, for :meth:`take_events`, and no other record.
    """

    _flat_carry: npt.NDArray[np.int64]  # flat run at the end of the last block, per channel
    _timeline: SampleTimeline  # UTC of each raw sample, by the frame that brought it
    _next_seq: int | None  # sequence number the next frame of this stream has

    def __init__(
        self,
        sample_rate_hz: float,
        channels: int,
        tags: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        if not np.isfinite(sample_rate_hz) or not (
            MIN_SAMPLE_RATE_HZ <= sample_rate_hz <= MAX_SAMPLE_RATE_HZ
        ):
            raise ValueError(
                f"sample_rate_hz must be {MIN_SAMPLE_RATE_HZ:g} to {MAX_SAMPLE_RATE_HZ:g} Hz,"
                f" got {sample_rate_hz}"
            )
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        self.params = EmgParams.from_kwargs(**params)
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        self.tags = dict(tags or {})
        self.observer: EnvelopeObserver | None = None  # for inspection only; changes nothing
        # Build the per-second envelope and signal-quality records; off where only the
        # events are wanted (detect_spasms), which then need no per-second objects at all.
        self.keep_records = True
        self._design = design_conditioning(self.sample_rate_hz, self.params)
        self._samples_fed = 0
        self._pending: list[Float32Array] = []
        self._pending_samples = 0
        self._process_block = max(1, round(PROCESS_BLOCK_S * self.sample_rate_hz))
        self._max_block = max(self._process_block, round(MAX_PROCESS_BLOCK_S * self.sample_rate_hz))
        self._events: list[SpasmEvent] = []
        self._records: list[Record] = []
        self._reset_stream()

    # -- public streaming API -------------------------------------------------------------

    def process(self, frame: Frame) -> list[Record]:
        """Consume one EMG frame; return the records that became final."""
        if frame.kind != SensorKind.EMG:
            raise ValueError(f"SpasmDetector takes EMG frames, got a {frame.kind} frame")
        if frame.channels != self.channels:
            raise ValueError(f"expected frames with {self.channels} channels, got {frame.channels}")
        if abs(frame.sample_rate_hz - self.sample_rate_hz) > 1e-6 * self.sample_rate_hz:
            raise ValueError(f"expected frames at {self.sample_rate_hz} Hz, got {frame.sample_rate_hz} Hz")
        samples = validate_emg(frame.samples)
        records: list[Record] = []
        expected_ns = self._timeline.time_ns(self._samples_fed) if self._timeline else None
        if expected_ns is not None and not frame_continues(frame, self._next_seq, expected_ns):
            records.extend(self.flush())
            expected_ns = None
        self._next_seq = frame.seq_last + 1
        self._feed(samples, frame.t0_ns, expected_ns)
        if self._events or self._records:
            records.extend(self._take_records())
        return records

    def flush(self) -> list[Record]:
        """End the stream: finalise every open spasm and return the remaining records."""
        self.finish()
        records = self._take_records()
        self._reset_stream()
        return records

    # -- array API (used by detect_spasms and benchmarks) ---------------------------------

    def feed(self, samples: Float32Array, t0_ns: int) -> None:
        """Append samples of shape (n, channels) in mV, the first at UTC ``t0_ns``."""
        self._feed(samples, t0_ns, self._timeline.time_ns(self._samples_fed) if self._timeline else None)

    def _feed(self, samples: Float32Array, t0_ns: int, expected_ns: int | None) -> None:
        """:meth:`feed`, given the time line's UTC for the next sample (None for none)."""
        if expected_ns != t0_ns:
            self._timeline.anchor(self._samples_fed, t0_ns)
        # Long inputs are taken in slices: temporaries of a few MiB are recycled by the
        # allocator, where whole-recording temporaries cost a page fault per 4 KiB.
        for start in range(0, samples.shape[0], self._max_block):
            part = samples[start : start + self._max_block]
            self._pending.append(part)
            self._pending_samples += part.shape[0]
            self._samples_fed += part.shape[0]
            if self._pending_samples >= self._process_block:
                self._run_pending()

    def finish(self) -> None:
        """Process what is pending and close every open burst and spasm."""
        self._run_pending()
        for ch, state in enumerate(self._state):
            runs = state.detection.close(self._position)
            for start, stop, hit in runs.items():
                self._add_burst(state, start, stop, hit)
            for issue, tracker in state.quality.items():
                closed = tracker.close(self._position)
                self._quality_runs(ch, issue, closed.start, closed.stop)
            self._finalise(ch, final=True)

    def take_events(self) -> list[SpasmEvent]:
        events, self._events = self._events, []
        return events

    # -- internals --------------------------------------------------------------------------

    def _sustained_flat(self, flat: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Samples ending a flat run of at least ``MIN_FLAT_RUN_S``, shape (channels, m)."""
        m = flat.shape[1]
        if not self._flat_carry.any() and not flat.any():  # the usual case: nothing flat
            return flat
        index = np.arange(m)
        last_moving = np.maximum.accumulate(np.where(flat, -1, index), axis=1)
        run = index - last_moving  # flat samples ending at each sample, within this block
        carry: npt.NDArray[np.int64] = self._flat_carry
        run += np.where(last_moving < 0, carry[:, None], 0)
        self._flat_carry = np.where(flat[:, -1], run[:, -1], 0).astype(np.int64)
        return flat & (run >= self._flat_run_samples)

    def _reset_stream(self) -> None:
        p = self.params
        self._conditioner = Conditioner(self._design, self.channels)
        self._envelope = EnvelopeStage(self.sample_rate_hz, self.channels, p, self._design.band_hz)
        rate = self._envelope.rate_hz
        self._floor = RestingFloor(self.channels, rate, p)
        self._summary = BlockSummarizer(self.channels, rate, p.summary_block_s)
        self._edge_samples = max(1, round(p.edge_search_s * rate))
        self._guard_samples = round(p.artefact_guard_s * rate)
        self._merge_samples = round(p.merge_gap_s * rate)
        self._clonus_gap_samples = round(rate / p.clonus_band_hz[0])
        self._min_burst_samples = max(1, round(p.min_burst_s * rate))
        self._lookahead = self._edge_samples + 2 * self._guard_samples
        max_event = max(1, round(p.max_event_s * rate))
        self._max_event_samples = max_event
        self._flat_run_samples = max(1, round(MIN_FLAT_RUN_S * rate))
        self._flat_carry = np.zeros(self.channels, np.int64)
        envelope_spread_s = self._envelope.smoothing_samples / rate + self._envelope.delay_s
        self._content_lag = (
            round(self._envelope.delay_s * rate),
            round(self._envelope.offset_delay_s * rate),
        )
        max_blip = HeartbeatGate(rate, envelope_spread_s).max_blip_samples
        self._state = [
            _Channel(
                ReferenceHysteresis(p.on_x_baseline, p.off_x_baseline, self._merge_samples, max_event),
                {issue: RunTracker() for issue in SAMPLE_ISSUES},
                deque(),
                HeartbeatGate(rate, envelope_spread_s),
            )
            for _ in range(self.channels)
        ]
        margin = round(p.core_margin_s * rate)
        self._core_rule = CoreRule(
            share_of_peak=p.core_share_of_peak,
            clonic_gap=self._clonus_gap_samples,
            merge_gap=self._merge_samples,
            min_long=max_blip + 1,
            lead=margin,
            lag=margin,
        )
        self._timeline = SampleTimeline(self.sample_rate_hz)
        self._next_seq = None
        self._samples_fed = 0
        self._pending = []
        self._pending_samples = 0
        self._position = 0  # envelope samples processed
        self._history = EnvelopeHistory()
        self._events = []
        self._records = []

    def _take_records(self) -> list[Record]:
        tags = self.tags
        records = [spasm_event_record(e, tags) for e in self._events]
        self._events = []
        records.extend(self._records)
        self._records = []
        return records

    def _run_pending(self) -> None:
        if not self._pending:
            return
        # One copy into C-ordered (channels, n) rows, which the conditioner may repair in place.
        raw = np.empty((self.channels, self._pending_samples), np.float32)
        filled = 0
        for part in self._pending:
            raw[:, filled : filled + part.shape[0]] = part.T
            filled += part.shape[0]
        self._pending = []
        self._pending_samples = 0
        emg, nonfinite = self._conditioner.process(raw)
        block = self._envelope.process(raw, emg, nonfinite)
        self._advance(block)

    def _advance(self, block: EnvelopeBlock) -> None:
        p = self.params
        m = block.envelope_mv.shape[1]
        if m == 0:
            return
        flat = self._sustained_flat(block.flat)
        lost = flat | block.nonfinite
        invalid = lost
        if self._position < self._envelope.startup_samples:
            invalid = lost | (np.arange(self._position, self._position + m) < self._envelope.startup_samples)
        estimate = self._floor.process(block.smooth_mv, invalid)
        offset = self._position
        baseline = np.empty_like(estimate.floor_mv)
        runs = []
        for ch, state in enumerate(self._state):
            closed, baseline[ch] = state.detection.process(
                block.smooth_mv[ch], estimate.floor_mv[ch], estimate.provisional[ch], offset
            )
            runs.append(closed)
        if self.observer is not None:
            self.observer(offset, block, estimate.floor_mv, baseline)
        spread = estimate.spread
        # Reported with its exact edges; runs under MIN_ELECTRODE_OFF_S are never reported.
        issues = {"electrode_off": block.flat, "nonfinite": block.nonfinite, "clipping": block.clipped}
        edge = baseline * np.fmax(p.edge_x_baseline, spread)
        self._history.append(
            envelope=block.envelope_mv,
            smooth=block.smooth_mv,
            baseline=baseline,
            edge=edge,
            power=block.power_mv2,
            diff_power=block.diff_power_mv2,
            lowband=block.lowband_power_mv2,
            lost=lost,
        )
        self._position += m
        active = {issue: np.asarray(mask.any(axis=1)) for issue, mask in issues.items()}
        for ch, state in enumerate(self._state):
            closed = runs[ch]
            for a, b, hit in closed.items():
                self._add_burst(state, a, b, hit)
            for issue, mask in issues.items():
                tracker = state.quality[issue]
                if active[issue][ch] or tracker.open_start is not None:
                    closed = tracker.process(mask[ch], offset)
                    self._quality_runs(ch, issue, closed.start, closed.stop)
            self._finalise(ch, final=False)
        if self.keep_records:
            self._envelope_records(self._summary.process(block.envelope_mv, baseline))
        self._trim_history()

    def _add_burst(self, state: _Channel, start: int, stop: int, hit: bool) -> None:
        # A run above *off* that never reached *on* cannot start a spasm, but continues one:
        # hysteresis carried from the burst to the spasm, so a weak clonic beat does not
        # split a clonus in two.
        if stop - start >= self._min_burst_samples:
            state.bursts.append((start, stop, hit))

    def _finalise(self, ch: int, final: bool) -> None:
        state = self._state[ch]
        horizon = self._position
        while state.bursts and (final or state.bursts[0][1] + self._lookahead <= horizon):
            start, stop, strong = state.bursts.popleft()
            continues = state.event is not None and start - state.event.stop <= self._merge_samples
            # Clonic beats peak within a period of the slowest clonus of each other;
            # heartbeats (at most 140 bpm) further apart than that. After a longer burst
            # the interval counts from its end.
            blip = state.heartbeats.is_blip(start, stop)
            peak = start + int(np.argmax(self._history.window("smooth", ch, start, stop))) if blip else stop
            isolated = peak - state.last_burst_mark > self._clonus_gap_samples
            state.last_burst_mark = peak
            rate = self._envelope.rate_hz
            motion = is_motion(
                self._history, ch, start, stop, self.sample_rate_hz, rate, self.params, continues,
                self._content_lag,
            )  # fmt: skip
            # A QRS complex holds its energy below about 40 Hz, like a knock: a blip in rest
            # whose content is muscle's is a myoclonic spasm, however well it fits the
            # rhythm. (Beside a spasm, what a blip adds cannot be told apart from the spasm.)
            if blip and (continues or motion) and self._is_heartbeat(state, peak, isolated, continues):
                if continues:
                    self._drop_trailing_heartbeats(ch)
                self._quality_runs(ch, "ecg_artifact", np.array([start]), np.array([stop]))
                continue
            if not strong and not continues:
                continue
            if lost_signal(self._history, ch, start, stop, self._guard_samples):
                continue
            if motion:
                self._quality_runs(ch, "motion_artifact", np.array([start]), np.array([stop]))
                continue
            if continues and state.event is not None and stop - state.event.start <= self._max_event_samples:
                state.event.extend(start, stop, peak, blip and isolated)
                continue
            if not strong:
                continue
            if state.event is not None:
                self._emit(ch, state.event.start, state.event.stop)
            state.event = _OpenEvent(start, stop, only_blips=blip and isolated)
        event = state.event
        if event is None:
            return
        if event.stop - event.start >= self._max_event_samples:
            self._emit(ch, event.start, event.stop)  # it cannot grow: emit now and keep memory bounded
            state.event = None
            return
        open_start = state.detection.open_start
        could_merge = bool(state.bursts) or (
            open_start is not None and open_start - event.stop <= self._merge_samples
        )
        quiet = horizon - event.stop > self._merge_samples + self._lookahead
        if final or (quiet and not could_merge):
            self._emit(ch, event.start, event.stop)
            state.event = None

    def _is_heartbeat(self, state: _Channel, peak: int, isolated: bool, continues: bool) -> bool:
        if not continues or state.event is None:
            return state.heartbeats.judge(peak, isolated)
        if not isolated:  # a clonic beat of the spasm
            state.heartbeats.judge(peak, isolated)
            return False
        trailing = [p for _, _, p in state.event.trailing_blips]
        return state.heartbeats.judge_continuation(peak, state.event.start, trailing)

    def _drop_trailing_heartbeats(self, ch: int) -> None:
        """A heartbeat continued the open event: the isolated blips before it were beats too."""
        state = self._state[ch]
        event = state.event
        if event is None:
            return
        beats = [(start, stop) for start, stop, _ in event.trailing_blips]
        if event.only_blips:
            beats = [(event.start, event.solid_stop), *beats]
            state.event = None
        else:
            event.stop = event.solid_stop
            event.trailing_blips = []
        if beats:
            starts, stops = zip(*beats, strict=True)
            self._quality_runs(ch, "ecg_artifact", np.array(starts), np.array(stops))

    def _emit(self, ch: int, start: int, stop: int) -> None:
        p = self.params
        h = self._history
        lo = max(start - self._edge_samples, h.start, self._state[ch].last_offset)
        before = h.window("smooth", ch, lo, start) <= h.window("edge", ch, lo, start)
        onset = lo + int(np.flatnonzero(before)[-1]) + 1 if before.any() else lo
        hi = min(stop + self._edge_samples, self._position)
        after = h.window("smooth", ch, stop, hi) <= h.window("edge", ch, stop, hi)
        offset = stop + int(np.flatnonzero(after)[0]) if after.any() else hi
        core_start, core_stop = core_extent(h.window("smooth", ch, onset, offset), self._core_rule)
        onset, offset = onset + core_start, onset + core_stop
        self._state[ch].last_offset = offset
        envelope = h.window("envelope", ch, onset, offset).astype(np.float64)
        base = float(h.window("baseline", ch, start, start + 1)[0])
        rate = self._envelope.rate_hz
        morphology = classify_envelope(envelope, rate, p)
        peak, mean = float(envelope.max()), float(envelope.mean())
        onset_ns = self._time_of_envelope(onset, edge="onset")
        # The decay's delay in the envelope exceeds the rise's: a burst of a few envelope
        # samples would otherwise end before it starts.
        offset_ns = max(self._time_of_envelope(offset, edge="offset"), onset_ns + round(NS_PER_S / rate))
        self._events.append(
            SpasmEvent(
                onset_ns=onset_ns,
                offset_ns=offset_ns,
                kind=morphology.kind,
                channel=ch,
                peak_mv=peak,
                mean_mv=mean,
                peak_x_baseline=peak / base,
                mean_x_baseline=mean / base,
                baseline_mv=base,
                area_mv_s=float(np.sum(np.maximum(envelope - base, 0.0)) / rate),
                clonus_hz=morphology.clonus_hz,
            )
        )

    def _quality_runs(
        self, ch: int, issue: str, starts: npt.NDArray[np.int64], stops: npt.NDArray[np.int64]
    ) -> None:
        if not self.keep_records:
            return
        rate = self._envelope.rate_hz
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            duration_s = (b - a) / rate
            if issue == "electrode_off" and duration_s < MIN_ELECTRODE_OFF_S:
                continue
            fields: dict[str, float | int | str | bool] = {
                "duration_s": duration_s,
                "offset_ns": self._time_of_envelope(b),
            }
            tags = {**self.tags, "issue": issue, "channel": str(ch)}
            self._records.append(Record("signal_quality", self._time_of_envelope(a), fields, tags))

    def _envelope_records(self, summary: BlockSummary) -> None:
        block = self._summary.block_samples
        channel_tags = [{**self.tags, "channel": str(ch)} for ch in range(self.channels)]
        rms_rows, base_rows = summary.rms_mv.tolist(), summary.baseline_mv.tolist()
        for j in range(summary.rms_mv.shape[1]):
            time_ns = self._time_of_envelope((summary.first_block + j) * block)
            for ch in range(self.channels):
                fields: dict[str, float | int | str | bool] = {"rms_mv": rms_rows[ch][j]}
                base = base_rows[ch][j]
                if math.isfinite(base):
                    fields["baseline_mv"] = base
                self._records.append(Record("emg_envelope", time_ns, fields, dict(channel_tags[ch])))

    def _trim_history(self) -> None:
        keep = self._position
        for state in self._state:
            if state.bursts:
                keep = min(keep, state.bursts[0][0])
            if state.event is not None:
                keep = min(keep, state.event.start)
            if state.detection.open_start is not None:
                keep = min(keep, state.detection.open_start)
        keep -= self._edge_samples + 2 * self._guard_samples
        self._history.trim(keep)
        for state in self._state:  # a quality run is stamped at its start when it closes
            for tracker in state.quality.values():
                if tracker.open_start is not None:
                    keep = min(keep, tracker.open_start)
        self._timeline.forget_before(keep * self._envelope.decimation)

    def _time_of_envelope(self, index: int, edge: str | None = None) -> int:
        """UTC of envelope sample ``index``: the start of its block of raw samples or, for a
        spasm ``edge`` ("onset" or "offset"), the block's centre corrected for the delay of
        that edge in the envelope."""
        d = self._envelope.decimation
        if edge is None:
            return self._timeline.time_ns(index * d)
        delay_s = self._envelope.delay_s if edge == "onset" else self._envelope.offset_delay_s
        return self._timeline.time_ns(index * d + (d - 1) / 2) - round(delay_s * NS_PER_S)
