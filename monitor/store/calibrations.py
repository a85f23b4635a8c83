"""Joint calibrations kept in the spool: the latest guided one per joint, for every run.

``spasm-monitor calibrate`` stores a ``calibration`` record with ``status = "guided"``
(``docs/schema.md``). A run looks up, per configured joint, the latest such record of
its patient, side and joint, taken with the same two wearables (another pair is another
mounting), and passes it to the pipeline; a joint with none falls back to the implicit
calibration from the run's first seconds, and that is said in the log and in a
``calibration`` record with ``status = "missing"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.dsp.imu.calibration import CalibrationError, JointCalibration, calibration_from_fields
from monitor.dsp.imu.streaming import CALIBRATION_GUIDED
from monitor.store.schema import CALIBRATION
from monitor.types import Record

if TYPE_CHECKING:
    from monitor.config import AppConfig
    from monitor.store.spool import Spool

logger = logging.getLogger(__name__)

_ALL_TIME_NS = (0, 2**63 - 1)


@dataclass(frozen=True, slots=True)
class JointPair:
    """The two wearables either side of one configured joint."""

    side: str  # "left", "right" or "none"
    joint: str
    proximal: str  # device ids, as the collector names them
    distal: str


def joint_pairs(config: AppConfig) -> list[JointPair]:
    """Every joint of ``config.toml`` with its proximal and distal wearable."""
    pairs = []
    for side, joint in sorted({(d.side, d.joint) for d in config.devices if d.joint is not None}):
        members = [d for d in config.devices if (d.side, d.joint) == (side, joint)]
        proximal = next((d for d in members if d.segment == "proximal"), None)
        distal = next((d for d in members if d.segment == "distal"), None)
        if proximal is not None and distal is not None:
            pairs.append(JointPair(side, joint, proximal.device_id, distal.device_id))
    return pairs


def latest_calibration(spool: Spool, patient: str, pair: JointPair) -> JointCalibration | None:
    """The latest guided calibration of ``pair`` stored for ``patient``, or None.

    A stored record that cannot be read back (a field missing) is skipped with a warning,
    and the one before it is used.
    """
    records = spool.query(*_ALL_TIME_NS, measurement=CALIBRATION, patient=patient)
    for record in reversed(records):  # query returns them in time order
        if not _is_guided_for(record, pair):
            continue
        try:
            return calibration_from_fields(record.fields, calibrated_ns=record.time_ns)
        except CalibrationError as error:
            logger.warning("calibration record at %d skipped: %s", record.time_ns, error)
    return None


def stored_calibrations(spool: Spool, config: AppConfig) -> dict[tuple[str, str], JointCalibration]:
    """Per ``(side, joint)`` of ``config``, its latest stored calibration; warns of those without.

    This is what a run hands to :class:`~monitor.pipeline.Pipeline` (``calibrations=``).
    """
    found: dict[tuple[str, str], JointCalibration] = {}
    for pair in joint_pairs(config):
        calibration = latest_calibration(spool, config.patient.id, pair)
        if calibration is None:
            side = "" if pair.side == "none" else f" --side {pair.side}"
            logger.warning(
                "no stored calibration for the %s%s: its angle is calibrated from the first seconds"
                " of this run, whatever they contain; run `spasm-monitor calibrate --joint %s%s`",
                "" if pair.side == "none" else pair.side + " ",
                pair.joint,
                pair.joint,
                side,
            )
            continue
        found[(pair.side, pair.joint)] = calibration
    return found


def _is_guided_for(record: Record, pair: JointPair) -> bool:
    return (
        record.fields.get("status") == CALIBRATION_GUIDED
        and record.tags.get("joint") == pair.joint
        and record.tags.get("side", "none") == pair.side
        and record.fields.get("proximal") == pair.proximal
        and record.fields.get("distal") == pair.distal
    )
