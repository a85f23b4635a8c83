"""Alert rules over the record stream: spasm spikes, long tonic spasms, device offline, poor signal.

:class:`AlertEngine` is the pure rule logic (time from the records); :class:`Notifier`
sends through apprise; :class:`AlertService` stores every alert as an ``alert`` record and
notifies it. Thresholds: :class:`AlertThresholds` (``[alerts]`` in config.toml, read by
:func:`monitor.config.alerts.read_alerts`), the same definition the Grafana alert rules are
exported from.
"""

from monitor.alerts.alert import (
    DEVICE_OFFLINE,
    FORWARD_STALLED,
    POOR_SIGNAL,
    RULES,
    SPASM_SPIKE,
    TONIC_SPASM,
    WEARING_OFF,
    Alert,
)
from monitor.alerts.engine import AlertEngine
from monitor.alerts.notify import Notifier
from monitor.alerts.service import AlertService
from monitor.alerts.thresholds import AlertThresholds

__all__ = [
    "DEVICE_OFFLINE",
    "FORWARD_STALLED",
    "POOR_SIGNAL",
    "RULES",
    "SPASM_SPIKE",
    "TONIC_SPASM",
    "WEARING_OFF",
    "Alert",
    "AlertEngine",
    "AlertService",
    "AlertThresholds",
    "Notifier",
]
