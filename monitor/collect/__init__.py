"""BLE collection: sessions per allow-listed wearable through bleak, Frames and Records out.

``Collector(config, sink).run()`` is the entry point; ``python -m monitor.collect`` runs it
from a TOML file and writes JSON lines.
"""

from monitor.collect.clock import DeviceClock
from monitor.collect.collector import Collector
from monitor.collect.config import CollectorConfig, DeviceConfig
from monitor.collect.gaps import SequenceTracker
from monitor.collect.queue import FrameQueue

__all__ = ["Collector", "CollectorConfig", "DeviceClock", "DeviceConfig", "FrameQueue", "SequenceTracker"]
