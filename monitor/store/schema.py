"""The measurements the pipeline writes, which of them the spool's size cap may drop, and
the stored form of a spasm.

``docs/schema.md`` is the prose version of this table; a test keeps the two in step. The
names of the measurements that more than one module writes or reads are declared here once
(:data:`SPASM_EVENT`, :data:`OBSERVATION`...); a :class:`~monitor.types.SpasmEvent` becomes
a ``spasm_event`` row through :func:`spasm_event_record` and comes back through
:func:`spasm_event_from_record`, the two places that name its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.types import NS_PER_S, FieldValue, Record, SpasmEvent

# Tags every measurement may carry. All are low-cardinality: a home has a handful of each.
COMMON_TAGS = ("patient", "device", "location", "side", "muscle", "affected", "source")
# Value of the ``source`` tag on every record of the demo's simulated history (monitor/demo).
SIMULATED_SOURCE = "simulated"

SPASM_EVENT = "spasm_event"
SPASM_EPISODE = "spasm_episode"
ROM = "rom"
MOVEMENT = "movement"
EMG_ENVELOPE = "emg_envelope"
JOINT_ANGLE = "joint_angle"
CALIBRATION = "calibration"
SIGNAL_QUALITY = "signal_quality"
GAP = "gap"
IMU_GAP = "imu_gap"
DEVICE_STATUS = "device_status"
TARDIEU = "tardieu"
ALERT = "alert"
TREATMENT = "treatment"
CLINICAL_SCORE = "clinical_score"
TREATMENT_RESPONSE = "treatment_response"
# The two measurements that define observed time (monitor/clinical/observed.py): the pipeline
# writes them, clinical scoring, the report and the carer screen read them. Named here, with
# the registry, so that writers need not import the clinical layer that reads them.
OBSERVATION = "observation"
COVERAGE = "coverage"
SPOOL_DROP = "spool_drop"
DSP_ERROR = "dsp_error"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement: its name, what its rows are, and whether the size cap may drop it."""

    name: str
    droppable: bool  # high-rate feature series: thinned oldest-first when the spool is full
    rate: str


MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        Measurement(SPASM_EVENT, False, "per spasm (a few per hour)"),
        Measurement(EMG_ENVELOPE, True, "1 Hz per channel (one baseline block)"),
        Measurement(JOINT_ANGLE, True, "10 Hz per joint"),
        Measurement(ROM, False, "per window, set, hour and day"),
        Measurement(MOVEMENT, True, "per minute per IMU"),
        Measurement(SIGNAL_QUALITY, False, "per electrode issue"),
        Measurement(GAP, False, "per stream interruption"),
        Measurement(IMU_GAP, False, "per IMU stream interruption"),
        Measurement(CALIBRATION, False, "per joint calibration and run start"),
        Measurement(TARDIEU, False, "per stretch and session of a guided Tardieu test"),
        Measurement(DEVICE_STATUS, False, "per status change or minute"),
        Measurement(ALERT, False, "per alert"),
        Measurement(TREATMENT, False, "per treatment entry"),
        Measurement(CLINICAL_SCORE, False, "per patient, local hour and local day"),
        Measurement(SPASM_EPISODE, False, "per spasm of a limb (what the dashboards count)"),
        Measurement(TREATMENT_RESPONSE, False, "per injection, re-scored with its cycle"),
        Measurement(OBSERVATION, False, "per monitoring interval"),
        Measurement(COVERAGE, False, "per minute per stream"),
        Measurement("ble_session", False, "per session end"),
        Measurement("ble_clock", False, "per clock-sync burst"),
        Measurement("ble_malformed", False, "per malformed notification"),
        Measurement("collector_stopped", False, "per collector stop"),
        Measurement("collector_overflow", False, "per queue overflow"),
        Measurement(DSP_ERROR, False, "per failing DSP processor, at most once a minute of data"),
        Measurement(SPOOL_DROP, False, "per size-cap enforcement that dropped rows"),
    )
}


# The optional fields of a ``spasm_event`` row, named as the SpasmEvent attributes they store:
# each is written only when it was measured (an IMU-only event has only imu_peak_dps).
SPASM_FEATURES = (
    "peak_mv",
    "mean_mv",
    "peak_x_baseline",
    "mean_x_baseline",
    "baseline_mv",
    "area_mv_s",
    "clonus_hz",
    "imu_peak_dps",
)
# The SpasmEvent attributes a ``spasm_event`` row keeps as tags when they are known.
SPASM_TAGS = ("location", "device", "patient", "side")


def is_droppable(measurement: str) -> bool:
    """Whether the spool's size cap may drop rows of ``measurement``.

    Unknown measurements are kept: dropping data nobody classified is never the safe choice.
    """
    entry = MEASUREMENTS.get(measurement)
    return entry is not None and entry.droppable


def spasm_event_record(event: SpasmEvent, tags: Mapping[str, str] | None = None) -> Record:
    """The stored form of ``event``: a ``spasm_event`` record stamped at its onset.

    Fields ``duration_s``, ``offset_ns`` and each feature of :data:`SPASM_FEATURES` that was
    measured; tags ``kind``, ``channel`` and, when known, ``location``, ``device``,
    ``patient`` and ``side``, then ``tags`` (which win). ``events`` and ``affected``
    describe episodes, which are stored as ``spasm_episode`` rows
    (:func:`monitor.clinical.events.episode_records`), not here.

    Examples
    --------
    >>> r = spasm_event_record(SpasmEvent(0, 2 * NS_PER_S, "tonic", 1, peak_mv=0.4), {"patient": "p"})
    >>> r.fields
    {'duration_s': 2.0, 'offset_ns': 2000000000, 'peak_mv': 0.4}
    >>> r.tags
    {'kind': 'tonic', 'channel': '1', 'patient': 'p'}
    >>> spasm_event_from_record(r) == SpasmEvent(0, 2 * NS_PER_S, "tonic", 1, peak_mv=0.4, patient="p")
    True
    """
    fields: dict[str, FieldValue] = {"duration_s": event.duration_s, "offset_ns": event.offset_ns}
    for name in SPASM_FEATURES:
        value = getattr(event, name)
        if value is not None:
            fields[name] = value
    all_tags = {"kind": event.kind, "channel": str(event.channel)}
    for name in SPASM_TAGS:
        if value := getattr(event, name):
            all_tags[name] = value
    all_tags.update(tags or {})
    return Record(SPASM_EVENT, event.onset_ns, fields, all_tags)


def spasm_event_from_record(record: Record) -> SpasmEvent:
    """A stored ``spasm_event`` row as a :class:`~monitor.types.SpasmEvent`.

    The end is the ``offset_ns`` field, else the onset plus ``duration_s`` (rows written by
    hand or by old versions may carry only the duration). The kind is kept as written
    (:func:`monitor.clinical.events.spasm_kind` reads old names); a row without a channel
    tag, or with one that is not a number, is read as channel 0.
    """
    fields, tags = record.fields, record.tags
    offset = fields.get("offset_ns")
    if offset is None:
        offset_ns = record.time_ns + round(float(fields.get("duration_s", 0.0)) * NS_PER_S)
    else:
        offset_ns = int(offset)

    def number(name: str) -> float | None:
        value = fields.get(name)
        return None if value is None else float(value)

    channel = tags.get("channel", "0")
    return SpasmEvent(
        onset_ns=record.time_ns,
        offset_ns=offset_ns,
        kind=tags.get("kind", ""),
        channel=int(channel) if channel.isdecimal() else 0,
        peak_mv=number("peak_mv"),
        mean_mv=number("mean_mv"),
        peak_x_baseline=number("peak_x_baseline"),
        mean_x_baseline=number("mean_x_baseline"),
        baseline_mv=number("baseline_mv"),
        area_mv_s=number("area_mv_s"),
        clonus_hz=number("clonus_hz"),
        imu_peak_dps=number("imu_peak_dps"),
        location=tags.get("location", ""),
        device=tags.get("device", ""),
        patient=tags.get("patient", ""),
        side=tags.get("side", ""),
    )
