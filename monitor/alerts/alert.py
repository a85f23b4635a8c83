"""One alert that fired: what it says, and how it is stored as an ``alert`` record."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.store.schema import ALERT
from monitor.types import FieldValue, Record

# Rule names: the ``rule`` tag of alert records and the first part of the dedupe key.
SPASM_SPIKE = "spasm_spike"
TONIC_SPASM = "tonic_spasm"
DEVICE_OFFLINE = "device_offline"
POOR_SIGNAL = "poor_signal"
FORWARD_STALLED = "forward_stalled"
WEARING_OFF = "wearing_off"  # a botulinum toxin cycle wears off (treatment_response records)
RULES = (SPASM_SPIKE, TONIC_SPASM, DEVICE_OFFLINE, POOR_SIGNAL, FORWARD_STALLED, WEARING_OFF)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert.

    Attributes
    ----------
    rule : str
        One of :data:`RULES`.
    time_ns : int
        UTC time the condition became true (from the records, not the wall clock), ns.
    patient, device : str
        Who and which wearable ("" when the rule is per patient, like the spasm spike).
    value, threshold : float
        What was measured and the limit it crossed, in the rule's unit (``unit``).
    unit : str
        ``spasms/h``, ``s``, ``min`` or ``h``.
    message : str
        One line for a patient or carer.
    """

    rule: str
    time_ns: int
    patient: str
    device: str
    value: float
    threshold: float
    unit: str
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Dedupe key: one rule for one patient and device shares one cooldown."""
        return (self.rule, self.patient, self.device)

    @property
    def title(self) -> str:
        who = f"patient {self.patient}" if self.patient else "unknown patient"
        return f"spasm-monitor: {self.rule.replace('_', ' ')} ({who})"

    def to_record(self, delivered: bool | None = None) -> Record:
        """The alert as an ``alert`` record (``delivered``: whether a notification went out)."""
        tags = {"rule": self.rule}
        if self.patient:
            tags["patient"] = self.patient
        if self.device:
            tags["device"] = self.device
        fields: dict[str, FieldValue] = {
            "value": float(self.value),
            "threshold": float(self.threshold),
            "message": self.message,
        }
        if delivered is not None:
            fields["delivered"] = delivered
        return Record(ALERT, self.time_ns, fields, tags)
