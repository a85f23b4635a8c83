"""``config.toml``: read once by the CLI, validated up front (``spasm-monitor config check``)."""

from monitor.collect.config import BleConfig
from monitor.config.alerts import AlertConfig
from monitor.config.app import AppConfig, ClinicalConfig, PatientConfig, load_config, parse_config
from monitor.config.devices import DeviceEntry
from monitor.config.store import GrafanaConfig, InfluxConfig, StoreConfig

__all__ = [
    "AlertConfig",
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
