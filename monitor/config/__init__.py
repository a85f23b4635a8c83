"""``config.toml``: read once by the CLI, validated up front (``spasm-monitor config check``)."""

from monitor.config.app import (
    AppConfig,
    BleConfig,
    ClinicalConfig,
    PatientConfig,
    load_config,
    parse_config,
)
from monitor.config.devices import DeviceEntry
from monitor.config.store import GrafanaConfig, InfluxConfig, StoreConfig

__all__ = [
    "AppConfig",
    "BleConfig",
    "ClinicalConfig",
    "DeviceEntry",
    "GrafanaConfig",
    "InfluxConfig",
    "PatientConfig",
    "StoreConfig",
    "load_config",
    "parse_config",
]
