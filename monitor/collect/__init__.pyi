"""Types of the names :mod:`monitor.collect` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .clock import DeviceClock
from .collector import Collector
from .config import (
    CollectorConfig,
    DeviceConfig,
)
from .gaps import SequenceTracker
from .queue import FrameQueue

__all__ = [
    "Collector",
    "CollectorConfig",
    "DeviceClock",
    "DeviceConfig",
    "FrameQueue",
    "SequenceTracker",
]
