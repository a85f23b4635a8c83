"""One configuration model (issue 16.2): each default and limit lives in one class, and every
section of config.toml words its errors alike, with a suggestion for a misspelt key."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts import AlertThresholds
from monitor.cli import main
from monitor.collect import CollectorConfig, DeviceConfig
from monitor.collect.config import BleConfig
from monitor.commands.config import CHECK_ADVICE
from monitor.config import ClinicalConfig, load_config, parse_config
from monitor.dsp import EmgParams
from monitor.dsp.imu.movement_spasm import MovementSpasmParams
from monitor.dsp.imu.orientation import OrientationParams
from monitor.dsp.imu.repetitions import RepetitionParams
from tests.test_config import EXAMPLE, MINIMAL


def test_example_config_shows_the_models_defaults() -> None:
    """The example's [ble], [dsp], [alerts] and [clinical] say "defaults shown": they must be."""
    config = load_config(EXAMPLE)
    assert config.ble == BleConfig()
    assert config.emg_params == EmgParams()
    assert config.alerts.thresholds == AlertThresholds()
    assert config.clinical == ClinicalConfig()


def test_collector_from_a_config_without_ble_has_the_collectors_own_defaults() -> None:
    """Once the config said a queue of 100,000 frames and the collector 10,000; now one value."""
    collector = parse_config(tomllib.loads(MINIMAL)).collector_config()
    assert collector == CollectorConfig(collector.devices)
    assert collector.queue_max_items == 10_000
    assert collector.mtu_bytes == 247


def test_ble_section_reaches_the_collector_whole() -> None:
    ble = '\n[ble]\nbackend = "bumble"\ntransport = "usb:1"\nmtu_bytes = 185\nqueue_max_items = 500\n'
    collector = parse_config(tomllib.loads(MINIMAL + ble)).collector_config()
    assert (collector.backend, collector.bumble_transport) == ("bumble", "usb:1")
    assert (collector.mtu_bytes, collector.queue_max_items) == (185, 500)


# (text appended to MINIMAL, the whole error after "spasm-monitor: <file>: ")
WORDED_ALIKE: list[tuple[str, str]] = [
    ("[ble]\nmtu_byte = 185", "unknown key ble.mtu_byte (did you mean 'mtu_bytes'?)"),
    ("[dsp]\nmerge_gap = 2.0", "unknown key dsp.merge_gap (did you mean 'merge_gap_s'?)"),
    ("[alerts]\ncooldown = 30", "unknown key alerts.cooldown (did you mean 'cooldown_min'?)"),
    ("[clinical]\nmin_wear = 6", "unknown key clinical.min_wear (did you mean 'min_wear_h'?)"),
    ("[store]\nspool_cap = 10", "unknown key store.spool_cap (did you mean 'spool_cap_mb'?)"),
    ('[grafana]\ntoken_evn = "X"', "unknown key grafana.token_evn (did you mean 'token_env'?)"),
    # ranges checked by the class (ble, dsp, alerts, clinical) and by the reader (store)
    ("[ble]\nscan_timeout_s = -1", "ble.scan_timeout_s must be > 0, got -1"),
    ("[ble]\nmtu_bytes = 1000", "ble.mtu_bytes must be >= 23 and <= 517, got 1000"),
    ("[ble]\nqueue_max_items = 10", "ble.queue_max_items must be >= 100, got 10"),
    ("[dsp]\nhighpass_hz = -1", "dsp.highpass_hz must be > 0, got -1"),
    ("[alerts]\ntonic_max_s = 0", "alerts.tonic_max_s must be > 0, got 0"),
    ("[alerts]\nspike_min_count = 0", "alerts.spike_min_count must be >= 1, got 0"),
    ("[clinical]\nmin_wear_h = 30", "clinical.min_wear_h must be > 0 and <= 24, got 30"),
    ("[store]\nspool_cap_mb = 0", "store.spool_cap_mb must be >= 1, got 0"),
    # types
    ('[ble]\nconnect_timeout_s = "10s"', "ble.connect_timeout_s must be a number, got '10s'"),
    ("[alerts]\nspike_min_count = 2.5", "alerts.spike_min_count must be a whole number, got 2.5"),
    ("[dsp]\nclonus_band_hz = [3.0]", "dsp.clonus_band_hz must be a list of 2 numbers, got a list"),
    (
        '[ble]\nbackend = "blek"',
        "ble.backend must be one of 'bleak', 'bumble', got 'blek' (did you mean 'bleak'?)",
    ),
    (
        '[ble]\nbackend = "bumble"',
        "ble.transport is missing: backend 'bumble' needs a transport such as 'usb:0'"
        " or 'tcp-client:127.0.0.1:9000'",
    ),
]


@pytest.mark.parametrize(("section", "message"), WORDED_ALIKE, ids=[m for _, m in WORDED_ALIKE])
def test_every_section_words_its_errors_alike(
    section: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"{MINIMAL}\n{section}\n")
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"spasm-monitor: {path}: {message} ({CHECK_ADVICE})\n"


def test_removed_grafana_folder_is_named_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[grafana] folder`` was read and never used: a config that sets it is told so."""
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + '\n[grafana]\nfolder = "Clinic A"\n')
    assert main(["config", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spasm-monitor: {path}: grafana.folder is no longer a setting")
    assert "delete the key" in err
    assert err.count("\n") == 1


# Each parameter class refuses a value out of range, NaN included, naming the field.
OUT_OF_RANGE: list[tuple[Any, dict[str, Any], str]] = [
    (EmgParams, {"smoothing_s": 0.0}, "smoothing_s must be > 0, got 0"),
    (AlertThresholds, {"cooldown_min": math.nan}, "cooldown_min must be > 0, got nan"),
    (OrientationParams, {"gain": -0.5}, "OrientationParams.gain must be > 0, got -0.5"),
    (RepetitionParams, {"set_gap_s": 0.0}, "RepetitionParams.set_gap_s must be > 0, got 0"),
    (MovementSpasmParams, {"merge_s": -1.0}, "MovementSpasmParams.merge_s must be >= 0, got -1"),
    (BleConfig, {"connect_timeout_s": math.nan}, "connect_timeout_s must be > 0, got nan"),
    (ClinicalConfig, {"min_wear_h": 25.0}, "min_wear_h must be > 0 and <= 24, got 25"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), OUT_OF_RANGE, ids=[m for _, _, m in OUT_OF_RANGE])
def test_parameter_classes_refuse_values_out_of_range(cls: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.") + "$"):
        cls(**kwargs)


def test_collector_config_refuses_a_zero_backoff_scale() -> None:
    with pytest.raises(ValueError, match=r"^backoff_scale must be > 0, got 0$"):
        CollectorConfig((DeviceConfig(address="F1:00:00:00:00:01"),), backoff_scale=0.0)
