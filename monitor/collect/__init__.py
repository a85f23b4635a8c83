"""BLE collection: sessions per allow-listed wearable through bleak, Frames and Records out.

``Collector(config, sink).run()`` is the entry point; ``spasm-monitor run`` and
``spasm-monitor record`` run it from config.toml.
"""

from monitor.collect.clock import DeviceClock
from monitor.collect.collector import Collector
from monitor.collect.config import CollectorConfig, DeviceConfig
from monitor.collect.gaps import SequenceTracker
from monitor.collect.queue import FrameQueue

__all__ = ["Collector", "CollectorConfig", "DeviceClock", "DeviceConfig", "FrameQueue", "SequenceTracker"]
