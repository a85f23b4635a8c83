"""Frame-in, record-out processors for the IMU half of the DSP.

Both obey the DSP contract: ``process(frame) -> list[Record]`` and ``flush()``; any
chunking of the same streams gives the same records as one frame per stream, and the
state they carry is bounded (filter states, a calibration window, the longest set).

A sample no IMU can measure (NaN, inf, beyond any full scale: a garbage frame after a BLE
drop) counts as missing, like a gap, so it never reaches the orientation filters.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.dsp.imu.calibration import (
    CalibrationError,
    JointCalibration,
    calibrate_joint,
    calibration_fields,
)
from monitor.dsp.imu.joint_angle import HingeAngle
from monitor.dsp.imu.joint_streams import JointAligner, SegmentStreams, plausible_imu, plausible_runs
from monitor.dsp.imu.joints import joint_spec
from monitor.dsp.imu.movement_spasm import MovementSpasmDetector, MovementSpasmParams
from monitor.dsp.imu.orientation import OrientationFilter, OrientationParams
from monitor.dsp.imu.repetitions import RepetitionParams
from monitor.dsp.imu.rom import RomProcessor
from monitor.dsp.timeline import frame_continues
from monitor.store.schema import CALIBRATION, IMU_GAP, JOINT_ANGLE, spasm_event_record
from monitor.types import NS_PER_S, FieldValue, Frame, Record, SensorKind, StreamId

FloatArray = npt.NDArray[np.float64]

# Values of the calibration record's ``status`` field (docs/schema.md).
CALIBRATION_GUIDED = "guided"  # written by `spasm-monitor calibrate`; what runs look up
CALIBRATION_STORED = "stored"  # a run uses a guided calibration stored earlier
CALIBRATION_MISSING = "missing"  # none stored: the run falls back to the implicit one
CALIBRATION_IMPLICIT = "implicit"  # the run's own first seconds calibrated it
CALIBRATION_FAILED = "failed"  # a calibration window that could not calibrate: skipped
# Joint angle is reported at 10 Hz: enough for the slowest clinical use (ROM trends)
# and the dashboards, a tenth of the raw rate.
ANGLE_STEP_NS = NS_PER_S // 10


class JointAngleProcessor:
    """Joint angle, range of motion and repetitions from the IMUs on two segments.

    Emits ``joint_angle`` records (field ``angle_deg``) stamped at every 100 ms UTC step
    with the first sample at or after it (within one sample period), the
    ``rom`` records of :class:`~monitor.dsp.imu.rom.RomProcessor`, and an ``imu_gap``
    record (field ``duration_s``) for every stretch where a stream was missing; after a
    gap the orientation filters restart from the accelerometer.

    It also says how the angle is calibrated, with ``calibration`` records (field
    ``status``) at the start of its stream: ``stored`` when given a calibration, else
    ``missing`` (a warning: the first ``calibration_s`` of the stream calibrate, whatever
    they contain), then ``implicit`` once that worked. A calibration window that cannot
    calibrate (its neutral pose lost in a BLE drop) gives a ``failed`` record and is
    skipped, counted in :attr:`calibration_failures`; the next window is tried, and every
    angle keeps the time of its own samples.

    Parameters
    ----------
    proximal, distal : SegmentStreams
        Streams of the IMU on the proximal and on the distal segment.
    sample_rate_hz : float
        Processing rate, Hz; all four streams are resampled onto it.
    joint : {"knee", "elbow", "ankle"}
    calibration : JointCalibration, optional
        Calibration from an earlier session (``spasm-monitor calibrate``); by default the
        first ``calibration_s`` of the stream (``neutral_s`` of neutral pose, then
        flexions) calibrates, and no angle is emitted before that.
    window_s : float
        ROM window, s.
    tags : dict, optional
        Further low-cardinality tags for every record (side, patient).
    """

    def __init__(
        self,
        proximal: SegmentStreams,
        distal: SegmentStreams,
        sample_rate_hz: float,
        joint: str = "knee",
        *,
        calibration: JointCalibration | None = None,
        neutral_s: float = 3.0,
        calibration_s: float = 14.0,
        window_s: float = 60.0,
        tags: dict[str, str] | None = None,
        orientation_params: OrientationParams | None = None,
        repetition_params: RepetitionParams | None = None,
        max_gap_s: float | None = None,
    ) -> None:
        joint_spec(joint)
        self.sample_rate_hz = float(sample_rate_hz)
        self.joint = joint
        self._tags = {"joint": joint} | (tags or {})
        self._aligner = JointAligner(proximal, distal, sample_rate_hz, max_gap_s)
        self._orientation_params = orientation_params
        self._filters = self._new_filters()
        self._neutral_s, self._calibration_s = neutral_s, calibration_s
        self._hinge = None if calibration is None else HingeAngle(calibration)
        self._pending_q: list[tuple[FloatArray, FloatArray]] = []
        self._n_pending = 0
        self._window_s = window_s
        self._repetition_params = repetition_params
        self._rom: RomProcessor | None = None
        self._next_step = 0  # index of the next 100 ms step to report
        self._gap_start: int | None = None
        self._k_done = 0
        self._pending_k0 = 0  # grid index of the first pending (uncalibrated) sample
        self._announced = False  # the opening calibration record is out
        self._devices = {"proximal": proximal.acc.device, "distal": distal.acc.device}
        self.calibration_failures = 0

    @property
    def calibration(self) -> JointCalibration | None:
        """The calibration in use (given, or found in the stream), None before one."""
        return None if self._hinge is None else self._hinge.calibration

    def process(self, frame: Frame) -> list[Record]:
        """Take one frame of any of the four streams; return the records now final."""
        self._aligner.push_frame(frame)
        return self._run(*self._aligner.pull())

    def flush(self) -> list[Record]:
        """End of stream: everything still pending."""
        records = self._run(*self._aligner.pull(final=True))
        records += self._end_gap(self._k_done)
        if self._hinge is None and self._n_pending:
            records += self._calibrate_and_drain()
        if self._rom is not None:
            records += self._rom.flush()
        return records

    # --- internals ----------------------------------------------------------------------

    def _new_filters(self) -> tuple[OrientationFilter, OrientationFilter]:
        p = self._orientation_params
        return OrientationFilter(self.sample_rate_hz, p), OrientationFilter(self.sample_rate_hz, p)

    def _run(self, first_k: int, columns: list[FloatArray]) -> list[Record]:
        gyr_p, acc_p, gyr_d, acc_d = columns
        n = gyr_p.shape[0]
        if n == 0:
            return []
        records = self._announce(first_k)
        for lo, hi, plausible in plausible_runs(columns):
            if plausible:
                records += self._end_gap(first_k + lo)
                qp = self._filters[0].update(acc_p[lo:hi], gyr_p[lo:hi])
                qd = self._filters[1].update(acc_d[lo:hi], gyr_d[lo:hi])
                lost = ~(np.isfinite(qp).all(axis=1) & np.isfinite(qd).all(axis=1))
                if lost.any():  # cannot happen with plausible input; a restart if it does
                    qp[lost], qd[lost] = np.nan, np.nan
                    self._filters = self._new_filters()
                records += self._angles(first_k + lo, qp, qd)
            else:
                if self._gap_start is None:
                    self._gap_start = first_k + lo
                    self._filters = self._new_filters()
                records += self._angles(first_k + lo, None, None, n_missing=hi - lo)
        self._k_done = first_k + n
        return records

    def _end_gap(self, k: int) -> list[Record]:
        if self._gap_start is None:
            return []
        start_ns, end_ns = (int(t) for t in self._aligner.grid_time_ns([self._gap_start, k]))
        self._gap_start = None
        fields: dict[str, FieldValue] = {"duration_s": (end_ns - start_ns) / NS_PER_S}
        return [Record(IMU_GAP, start_ns, fields, dict(self._tags))]

    def _angles(
        self, first_k: int, qp: FloatArray | None, qd: FloatArray | None, n_missing: int = 0
    ) -> list[Record]:
        if qp is None or qd is None:
            n = n_missing
            qp = qd = np.full((n, 4), np.nan)
        if self._hinge is None:
            if not self._n_pending:
                self._pending_k0 = first_k  # the window's first sample, stamped as such
            self._pending_q.append((qp, qd))
            self._n_pending += qp.shape[0]
            if self._n_pending < round(self._calibration_s * self.sample_rate_hz):
                return []
            return self._calibrate_and_drain()
        return self._emit_angles(first_k, qp, qd)

    def _announce(self, first_k: int) -> list[Record]:
        """The opening ``calibration`` record: the stored calibration used, or none."""
        if self._announced:
            return []
        self._announced = True
        time_ns = int(self._aligner.grid_time_ns(first_k))
        if self._hinge is not None:
            used = self._hinge.calibration
            fields = {"status": CALIBRATION_STORED, **self._devices, **calibration_fields(used)}
            if used.calibrated_ns:
                fields["calibrated_ns"] = int(used.calibrated_ns)
            return [Record(CALIBRATION, time_ns, fields, dict(self._tags))]
        message = (
            f"no stored calibration: the first {self._calibration_s:g} s calibrate, whatever they"
            f" contain (run `spasm-monitor calibrate --joint {self.joint}`)"
        )
        fields = {"status": CALIBRATION_MISSING, **self._devices, "message": message}
        return [Record(CALIBRATION, time_ns, fields, dict(self._tags))]

    def _calibrate_and_drain(self) -> list[Record]:
        qp = np.concatenate([p for p, _ in self._pending_q])
        qd = np.concatenate([d for _, d in self._pending_q])
        self._pending_q, self._n_pending = [], 0
        first_k = self._pending_k0  # where this window starts on the grid, not 0
        # Stamped when the window closes, when its outcome is known: at its start it would
        # share the opening record's time and tags, and a store keeps one point per series
        # and time.
        window = min(qp.shape[0], round(self._calibration_s * self.sample_rate_hz))
        time_ns = int(self._aligner.grid_time_ns(first_k + window - 1))
        try:
            calibration = calibrate_joint(
                qp,
                qd,
                self.sample_rate_hz,
                neutral_s=self._neutral_s,
                calibration_s=self._calibration_s,
            )
        except (CalibrationError, np.linalg.LinAlgError) as error:
            # The window is skipped (its angles cannot be had) and the next one tried: a
            # stream ending early, or a neutral pose lost in a BLE drop, never ends the run.
            self.calibration_failures += 1
            fields: dict[str, FieldValue] = {
                "status": CALIBRATION_FAILED,
                **self._devices,
                "message": f"{type(error).__name__}: {error}",
                "failures": self.calibration_failures,
            }
            return [Record(CALIBRATION, time_ns, fields, dict(self._tags))]
        self._hinge = HingeAngle(calibration)
        done = {"status": CALIBRATION_IMPLICIT, **self._devices, **calibration_fields(calibration)}
        records = [Record(CALIBRATION, time_ns, done, dict(self._tags))]
        return records + self._emit_angles(first_k, qp, qd)

    def _emit_angles(self, first_k: int, qp: FloatArray, qd: FloatArray) -> list[Record]:
        assert self._hinge is not None
        valid = ~np.isnan(qp).any(axis=1)
        angle = np.full(qp.shape[0], np.nan)
        if valid.any():
            angle[valid] = self._hinge.update(qp[valid], qd[valid])
        if self._rom is None:  # its sample 0 is the first angle: grid point first_k
            self._rom = RomProcessor(
                self.sample_rate_hz,
                int(self._aligner.grid_time_ns(first_k)),
                self._window_s,
                joint=self.joint,
                params=self._repetition_params,
                tags={k: v for k, v in self._tags.items() if k != "joint"},
            )
        records = self._rom.update(angle)
        times = self._aligner.grid_time_ns(np.arange(first_k, first_k + angle.size))
        step = times // ANGLE_STEP_NS  # a step reports its first sample at or after it
        first_of_step = np.r_[True, step[1:] != step[:-1]] & (step >= self._next_step)
        first_of_step &= np.isfinite(angle)
        for i in np.flatnonzero(first_of_step):
            records.append(
                Record(
                    JOINT_ANGLE,
                    int(step[i] * ANGLE_STEP_NS),
                    {"angle_deg": float(angle[i])},
                    dict(self._tags),
                )
            )
        if angle.size:
            self._next_step = max(self._next_step, int(step[-1]) + 1)
        return records


class MovementSpasmProcessor:
    """Movement spasms from the gyroscope frames of one IMU, as ``spasm_event`` records.

    A frame that does not continue the stream (:func:`monitor.dsp.timeline.frame_continues`:
    a break in the sequence, or a stamp off the detector's time line by more than a clock
    fit's settling) restarts the detector, so a jerk is never read into the jump between
    the samples on either side of a gap, and events after a device clock step take its
    new time line, as the EMG detector's do.

    Parameters
    ----------
    gyr : StreamId
        The gyroscope stream.
    location : str
        Body location for the events and the ``location`` tag.
    params : MovementSpasmParams, optional
    tags : dict, optional
        Further low-cardinality tags.
    """

    def __init__(
        self,
        gyr: StreamId,
        location: str = "",
        *,
        params: MovementSpasmParams | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.stream = gyr
        self.location = location
        self.params = params
        self._tags = tags or {}
        self._detector: MovementSpasmDetector | None = None
        self._next_seq: int | None = None
        self._t0_ns = 0  # the detector's time line: its first sample's UTC ...
        self._samples = 0  # ... and the samples it took since

    def process(self, frame: Frame) -> list[Record]:
        """Take one gyroscope frame; return the events now final."""
        if frame.stream != self.stream or frame.kind != SensorKind.GYR:
            raise ValueError(f"expected gyroscope frames of {self.stream}, got {frame.stream}")
        records: list[Record] = []
        expected_ns = self._t0_ns + round(self._samples * NS_PER_S / frame.sample_rate_hz)
        if self._detector is None or not frame_continues(frame, self._next_seq, expected_ns):
            records += self.flush()
            self._detector = MovementSpasmDetector(
                frame.sample_rate_hz, frame.t0_ns, location=self.location, params=self.params
            )
            self._t0_ns, self._samples = frame.t0_ns, 0
        self._next_seq = frame.seq_last + 1
        self._samples += frame.n_samples
        events = self._detector.update(frame.samples)
        return records + [spasm_event_record(e, self._tags) for e in events]

    def flush(self) -> list[Record]:
        """End of stream: the event in progress, if any."""
        if self._detector is None:
            return []
        events = self._detector.flush()
        self._detector = None
        return [spasm_event_record(e, self._tags) for e in events]


__all__ = [
    "JointAngleProcessor",
    "MovementSpasmParams",
    "MovementSpasmProcessor",
    "SegmentStreams",
    "plausible_imu",
]
