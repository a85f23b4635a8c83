"""Core types shared by every stage of the pipeline.

Data flows one way: ``devices`` decode bytes into :class:`Frame` objects, the DSP turns
frames into :class:`Record` objects (spasm events, feature summaries, signal quality),
and the store, alerts, report and dashboards consume records.

Time is always UTC as integer nanoseconds since the Unix epoch (``*_ns``). Naive
datetimes never appear in the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

NS_PER_S = 1_000_000_000

FieldValue = float | int | str | bool
# Thomas et al. 2014 (J Electromyogr Kinesiol 24:747) name five classes: unit, tonic, clonus,
# myoclonus, mixed. Surface EMG cannot see single motor units, so "unit" is never produced;
# "myoclonic" is the stored name of their myoclonus (read as "myoclonus" by monitor.clinical);
# "movement" is an IMU-only jerk, which no EMG class describes (docs/clinical.md).
SpasmKind = Literal["tonic", "clonus", "myoclonic", "mixed", "movement"]
SPASM_KINDS: tuple[SpasmKind, ...] = ("tonic", "clonus", "myoclonic", "mixed")  # the EMG classes
MOVEMENT_KIND: SpasmKind = "movement"


class SensorKind(StrEnum):
    """What a stream measures, and so the physical unit of its samples."""

    EMG = "emg"  # mV
    ACC = "acc"  # g
    GYR = "gyr"  # deg/s
    ECG = "ecg"  # mV
    QUAT = "quat"  # unit quaternion, w x y z


@dataclass(frozen=True, slots=True)
class StreamId:
    """Identifies one sensor stream of one device (for example ``("cf:12:..", "emg")``)."""

    device: str
    sensor: str


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """A block of consecutive samples from one sensor stream.

    Parameters
    ----------
    stream : StreamId
        Device and sensor the samples come from.
    kind : SensorKind
        What the samples measure; fixes their unit (mV, g, deg/s).
    sample_rate_hz : float
        Nominal sample rate of the stream, in Hz.
    t0_ns : int
        UTC time of the first sample, ns since the Unix epoch.
    seq_first, seq_last : int
        Sample counters of the first and last sample (inclusive): the device's unwrapped
        sample counter from the collector, the sample index in an array. A frame whose
        ``seq_first`` is not the previous frame's ``seq_last + 1`` follows a gap.
    samples : ndarray, shape (n, channels)
        Samples in physical units.
    """

    stream: StreamId
    kind: SensorKind
    sample_rate_hz: float
    t0_ns: int
    seq_first: int
    seq_last: int
    samples: npt.NDArray[np.floating]

    def __post_init__(self) -> None:
        if self.samples.ndim != 2:
            raise ValueError(f"Frame.samples must have shape (n, channels), got shape {self.samples.shape}")
        if not self.sample_rate_hz > 0:
            raise ValueError(f"Frame.sample_rate_hz must be > 0, got {self.sample_rate_hz}")

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    def time_ns(self, index: int) -> int:
        """UTC time of sample ``index`` of this frame, in ns."""
        return self.t0_ns + round(index * NS_PER_S / self.sample_rate_hz)


@dataclass(frozen=True, slots=True)
class Record:
    """One point leaving the DSP: what the store writes and dashboards query.

    Tags are low-cardinality labels only (patient, device, location, channel, kind).
    """

    measurement: str
    time_ns: int
    fields: dict[str, FieldValue]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpasmEvent:
    """One spasm, from detection to report: the one spasm type of the pipeline.

    A detector reports one per EMG channel (or one per IMU); the stored ``spasm_event`` row
    adds who and where (``device``, ``patient``, ``side``, read from its tags); and
    :func:`monitor.clinical.events.episodes` merges the events of one limb into episodes,
    the spasms the clinical scores count (``events`` > 1 when several were merged). Its
    stored form is :func:`monitor.store.schema.spasm_event_record` and
    :func:`monitor.store.schema.spasm_event_from_record`.

    Attributes
    ----------
    onset_ns, offset_ns : int
        UTC start and end of the spasm, ns.
    kind : str
        Morphology after Thomas et al. 2014 (J Electromyogr Kinesiol 24:747) for EMG events,
        one of :data:`SPASM_KINDS` (``myoclonic``: their myoclonus); ``movement`` for a jerk
        the IMU alone saw. A stored row's kind is kept as written (old spools included);
        :func:`monitor.clinical.events.spasm_kind` reads it in the clinic's names.
    channel : int
        EMG channel index within the stream (0 for an IMU's event).
    peak_mv, mean_mv : float or None
        Peak and mean RMS envelope over the event, mV (``None`` for IMU-only events,
        likewise the other EMG features below).
    peak_x_baseline, mean_x_baseline : float or None
        The same, as multiples of the resting baseline envelope.
    baseline_mv : float or None
        Resting baseline RMS envelope at onset, mV.
    area_mv_s : float or None
        Integral of the envelope above baseline over the event, mV·s.
    clonus_hz : float or None
        Rhythm of clonic bursts, Hz; ``None`` unless kind is clonus or mixed.
    location : str
        Muscle or body location, when known.
    imu_peak_dps : float or None
        Peak angular velocity seen by an IMU on the same limb, deg/s, when matched.
    device, patient, side : str
        Wearable, patient pseudonym and limb side ("" when not known: a detector leaves them
        to the record's tags).
    events : int
        Detector events this spasm stands for: 1, or more for an episode. An episode's
        peaks are the largest of its events'; its other features, channel, location and
        device are its first event's.
    affected : bool
        Whether its limb counts for the Penn and Snow scores (decided for episodes by
        :func:`monitor.clinical.events.episodes`; True when nothing says otherwise).
    """

    onset_ns: int
    offset_ns: int
    kind: str
    channel: int
    peak_mv: float | None = None
    mean_mv: float | None = None
    peak_x_baseline: float | None = None
    mean_x_baseline: float | None = None
    baseline_mv: float | None = None
    area_mv_s: float | None = None
    clonus_hz: float | None = None
    location: str = ""
    imu_peak_dps: float | None = None
    device: str = ""
    patient: str = ""
    side: str = ""
    events: int = 1
    affected: bool = True

    @property
    def duration_s(self) -> float:
        return (self.offset_ns - self.onset_ns) / NS_PER_S
