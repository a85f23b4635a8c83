"""The measurements the pipeline writes, and which of them the spool's size cap may drop.

``docs/schema.md`` is the prose version of this table; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tags every measurement may carry. All are low-cardinality: a home has a handful of each.
COMMON_TAGS = ("patient", "device", "location", "side", "muscle", "affected", "source")
# Value of the ``source`` tag on every record of the demo's simulated history (monitor/demo).
SIMULATED_SOURCE = "simulated"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement: its name, what its rows are, and whether the size cap may drop it."""

    name: str
    droppable: bool  # high-rate feature series: thinned oldest-first when the spool is full
    rate: str


MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        Measurement("spasm_event", False, "per spasm (a few per hour)"),
        Measurement("emg_envelope", True, "1 Hz per channel (one baseline block)"),
        Measurement("joint_angle", True, "10 Hz per joint"),
        Measurement("rom", False, "per window, set, hour and day"),
        Measurement("movement", True, "per minute per IMU"),
        Measurement("signal_quality", False, "per electrode issue"),
        Measurement("gap", False, "per stream interruption"),
        Measurement("imu_gap", False, "per IMU stream interruption"),
        Measurement("calibration", False, "per joint calibration and run start"),
        Measurement("tardieu", False, "per stretch and session of a guided Tardieu test"),
        Measurement("device_status", False, "per status change or minute"),
        Measurement("alert", False, "per alert"),
        Measurement("treatment", False, "per treatment entry"),
        Measurement("clinical_score", False, "per patient, local hour and local day"),
        Measurement("spasm_episode", False, "per spasm of a limb (what the dashboards count)"),
        Measurement("treatment_response", False, "per injection, re-scored with its cycle"),
        Measurement("observation", False, "per monitoring interval"),
        Measurement("coverage", False, "per minute per stream"),
        Measurement("ble_session", False, "per session end"),
        Measurement("ble_clock", False, "per clock-sync burst"),
        Measurement("ble_malformed", False, "per malformed notification"),
        Measurement("collector_stopped", False, "per collector stop"),
        Measurement("collector_overflow", False, "per queue overflow"),
        Measurement("dsp_error", False, "per failing DSP processor, at most once a minute of data"),
        Measurement("spool_drop", False, "per size-cap enforcement that dropped rows"),
    )
}

SPOOL_DROP = "spool_drop"
# The two measurements that define observed time (monitor/clinical/observed.py): the pipeline
# writes them, clinical scoring, the report and the carer screen read them. Named here, with
# the registry, so that writers need not import the clinical layer that reads them.
OBSERVATION = "observation"
COVERAGE = "coverage"


def is_droppable(measurement: str) -> bool:
    """Whether the spool's size cap may drop rows of ``measurement``.

    Unknown measurements are kept: dropping data nobody classified is never the safe choice.
    """
    entry = MEASUREMENTS.get(measurement)
    return entry is not None and entry.droppable
