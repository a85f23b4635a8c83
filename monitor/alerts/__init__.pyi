"""Types of the names :mod:`monitor.alerts` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .alert import (
    DEVICE_OFFLINE,
    FORWARD_STALLED,
    POOR_SIGNAL,
    RULES,
    SPASM_SPIKE,
    TONIC_SPASM,
    WEARING_OFF,
    Alert,
)
from .engine import AlertEngine
from .notify import Notifier
from .service import AlertService
from .thresholds import AlertThresholds

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
