"""Where the report reads: a spool file or an InfluxDB, and which patient (:func:`build_report`).

Only the measurements kept forever are read (:data:`READ_MEASUREMENTS`): spasm events,
treatment, alerts, range of motion, coverage evidence (observation windows, gaps, signal
quality, device status) and the stored hourly scores. The high-rate feature series
(``emg_envelope`` at 1 Hz, ``joint_angle`` at 10 Hz) are not read: months of them are
millions of rows, and the hours they cover are already marked by the ``clinical_score``
hour records the pipeline writes from them. :func:`~monitor.report.gather.gather` computes the
report from what is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from monitor.clinical import DEFAULT_MIN_WEAR_H, NightWindow
from monitor.clinical.affected import KnownAffected
from monitor.report.gather import DEFAULT_MAX_EVENTS, gather
from monitor.report.model import ReportData, ReportError
from monitor.store import Spool
from monitor.store.schema import (
    ALERT,
    CLINICAL_SCORE,
    COVERAGE,
    DEVICE_STATUS,
    GAP,
    IMU_GAP,
    OBSERVATION,
    ROM,
    SIGNAL_QUALITY,
    SPASM_EVENT,
    TARDIEU,
    TREATMENT,
)
from monitor.treatment import parse_zone
from monitor.types import Record

READ_MEASUREMENTS = (
    SPASM_EVENT,
    TREATMENT,
    ALERT,
    ROM,
    TARDIEU,
    OBSERVATION,
    COVERAGE,
    GAP,
    IMU_GAP,
    SIGNAL_QUALITY,
    DEVICE_STATUS,
    CLINICAL_SCORE,
)

_ALL_TIME = (0, 2**63 - 1)


class RecordSource(Protocol):
    """Where the report reads records: a :class:`~monitor.store.Spool` or an InfluxDB."""

    def query(
        self, start_ns: int, end_ns: int, *, measurement: str, patient: str | None = None
    ) -> list[Record]: ...


def build_report(
    source: str | Path | RecordSource,
    *,
    patient: str | None = None,
    timezone: str = "UTC",
    simulated: bool = False,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    max_events: int = DEFAULT_MAX_EVENTS,
    night: NightWindow | None = None,
    min_wear_h: float = DEFAULT_MIN_WEAR_H,
    affected: KnownAffected | None = None,
) -> ReportData:
    """Gather the report of one patient from a spool file or an InfluxDB.

    Parameters
    ----------
    source : str, Path or RecordSource
        An existing spool (``monitor.store.Spool`` SQLite file), or a reader of the InfluxDB
        the spool forwards to (:class:`~monitor.store.influx_reader.InfluxQLReader`).
    patient : str, optional
        Patient pseudonym. When omitted, the source must hold exactly one patient (or none).
    timezone : str
        The patient's IANA timezone (``Europe/London``); local days, hours and night use it.
    simulated : bool
        Label the report as simulated data even if no record is tagged so.
    start_date, end_date : date, optional
        First and last local date of the period (inclusive); by default the dates of the
        patient's first and last record.
    max_events : int
        Rows of the events table (the most recent detector events).
    night : NightWindow, optional
        Local night for the day/night split, 22:00–07:00 by default (as :mod:`monitor.clinical`).
    min_wear_h : float
        Observed hours a day needs for Snow's 24-hour score (``[clinical] min_wear_h``).
    affected : mapping of str to iterable of str, optional
        Affected sides the config names (``affected = true`` wearables), besides those the
        patient's records say (:mod:`monitor.clinical.affected`).

    Returns
    -------
    ReportData

    Raises
    ------
    ReportError
        The spool does not exist, the timezone is unknown, the patient is not in the spool
        (or several are and none was named), or the dates are reversed.

    Examples
    --------
    >>> import tempfile
    >>> from monitor.types import NS_PER_S
    >>> path = Path(tempfile.mkdtemp()) / "spool.sqlite"
    >>> t0 = 1_767_225_600 * NS_PER_S
    >>> with Spool(path) as spool:
    ...     _ = spool.append([Record("spasm_event", t0 + 60 * NS_PER_S, {"duration_s": 4.0},
    ...                              {"patient": "p01", "kind": "tonic"}),
    ...                       Record("observation", t0, {"duration_s": 3600.0}, {"patient": "p01"})])
    >>> data = build_report(path, timezone="Europe/London")
    >>> data.patient, data.spasms, data.coverage.observed_hours, data.penn_frequency
    ('p01', 1, 1, 3)
    """
    if isinstance(source, str | Path) and not Path(source).is_file():
        raise ReportError(
            f"spool file {str(source)!r} not found", "give the spool the pipeline writes with --spool"
        )
    try:
        zone = parse_zone(timezone)
    except ValueError as error:
        raise ReportError(str(error), "give an IANA timezone name with --timezone") from None
    if start_date and end_date and end_date < start_date:
        raise ReportError(f"end date {end_date} is before start date {start_date}", "")
    if isinstance(source, str | Path):
        with Spool(source, read_only=True) as spool:  # works on read-only media too
            read = _read(spool, patient)
            others = _patients_present(spool) if patient is not None and not read else []
    else:
        read = _read(source, patient)
        others = _patients_present(source) if patient is not None and not read else []
    who = _choose_patient(read or others, patient)
    mine = sorted((r for r in read if r.tags.get("patient", "") == who), key=lambda r: r.time_ns)
    return gather(
        mine,
        patient=who,
        zone=zone,
        simulated=simulated,
        start_date=start_date,
        end_date=end_date,
        max_events=max_events,
        night=night,
        min_wear_h=min_wear_h,
        affected=affected,
    )


def _read(source: RecordSource, patient: str | None) -> list[Record]:
    return [r for m in READ_MEASUREMENTS for r in source.query(*_ALL_TIME, measurement=m, patient=patient)]


def _patients_present(source: RecordSource) -> list[Record]:
    """Records naming the patients a source holds (for the error when the one asked for is not)."""
    return [r for m in (SPASM_EVENT, OBSERVATION) for r in source.query(*_ALL_TIME, measurement=m)]


def _choose_patient(records: Iterable[Record], patient: str | None) -> str:
    present = sorted({r.tags.get("patient", "") for r in records})
    if patient is not None:
        if present and patient not in present:
            raise ReportError(
                f"patient {patient!r} has no records in the spool",
                "patients in it: " + ", ".join(repr(p) for p in present),
            )
        return patient
    if len(present) > 1:
        raise ReportError(
            "the spool holds several patients",
            "name one with --patient: " + ", ".join(repr(p) for p in present),
        )
    return present[0] if present else ""
