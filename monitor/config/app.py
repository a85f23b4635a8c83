"""``config.toml``, validated up front into one :class:`AppConfig`.

Sections: ``[patient]``, ``[[device]]`` (one per wearable), ``[ble]`` (the radio),
``[dsp]``, ``[store]`` (with ``[store.influx]``), ``[grafana]``, ``[alerts]`` and ``[clinical]``. The
repository's ``config.toml`` is the commented reference. Any unknown key, wrong type or
impossible value raises :class:`~monitor.errors.ConfigError` with a one-line message
naming the key and the expected form. Secrets are never inline: only the name of an
environment variable or a file holding them.

Every section is read through :class:`~monitor.config.reader.TableReader`, so every one
words its errors alike and suggests the key meant for a misspelt one. A section that is a
parameter class (``[ble]``: :class:`~monitor.collect.config.BleConfig`, ``[dsp]``:
:class:`~monitor.dsp.EmgParams`, the thresholds of ``[alerts]``, ``[clinical]``) takes its
defaults and limits from that class alone.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from monitor.bounds import check_bounds
from monitor.clinical.snow import DEFAULT_MIN_WEAR_H
from monitor.collect.config import BleConfig, CollectorConfig
from monitor.config.alerts import AlertConfig, read_alerts
from monitor.config.devices import DeviceEntry, read_devices
from monitor.config.dsp import read_emg_params
from monitor.config.reader import TableReader
from monitor.config.store import GrafanaConfig, StoreConfig, read_grafana, read_store
from monitor.dsp import EmgParams
from monitor.errors import ConfigError

PATIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
T = TypeVar("T")
SECTIONS = ("patient", "device", "ble", "dsp", "store", "grafana", "alerts", "clinical")


@dataclass(frozen=True, slots=True)
class PatientConfig:
    """``[patient]``: a pseudonym (never a name) and the IANA timezone of the home."""

    id: str
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class ClinicalConfig:
    """``[clinical]``: how the clinical scores treat partly observed days.

    Attributes
    ----------
    min_wear_h : float
        Observed hours a local day needs for its 24-hour spasm count (Snow's score); days
        with less say "not scored: N h worn". Rates per observed hour need no minimum.
    """

    min_wear_h: float = DEFAULT_MIN_WEAR_H

    def __post_init__(self) -> None:
        # At most a whole day: a longer minimum would leave every day unscored.
        check_bounds(self, ("min_wear_h",), above=0, at_most=24)


@dataclass(frozen=True, slots=True)
class AppConfig:
    """Everything ``config.toml`` says; built by :func:`load_config`."""

    patient: PatientConfig
    devices: tuple[DeviceEntry, ...]
    ble: BleConfig = field(default_factory=BleConfig)
    emg_params: EmgParams = field(default_factory=EmgParams)
    store: StoreConfig = field(default_factory=StoreConfig)
    grafana: GrafanaConfig = field(default_factory=GrafanaConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    clinical: ClinicalConfig = field(default_factory=ClinicalConfig)
    source: str = "<defaults>"

    def collector_config(self, **overrides: Any) -> CollectorConfig:
        """The collector's configuration: allow-list from ``[[device]]``, radio from ``[ble]``."""
        if not self.devices:
            raise ConfigError(f"{self.source}: no [[device]] configured, nothing to collect")
        settings: dict[str, Any] = {f.name: getattr(self.ble, f.name) for f in fields(BleConfig)}
        settings["devices"] = tuple(d.collector_device() for d in self.devices)
        return CollectorConfig(**{**settings, **overrides})

    def device(self, device_id: str) -> DeviceEntry | None:
        """The ``[[device]]`` entry whose collector id is ``device_id``."""
        return next((d for d in self.devices if d.device_id == device_id), None)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> AppConfig:
    """Read and validate ``config.toml``.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a key is unknown, mistyped or impossible; the
        message starts with the file name and names the key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file", "copy the repository's config.toml") from None
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read: {error.strerror}", "check the path and its permissions"
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not a text file (byte {error.start} is not UTF-8)",
            "config.toml is UTF-8 text: check the path, or copy the repository's config.toml",
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path}: not valid TOML: {error}",
            'fix the syntax at that line: key = value, text in "quotes", [section] headers',
        ) from None
    try:
        # Relative paths in the file mean its own folder: `report --config /etc/.../config.toml`
        # must find the spool `run` writes, whatever the current directory.
        return parse_config(document, environ=environ, source=str(path), base_dir=path.absolute().parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error.args[0]}", error.advice) from None


def parse_config(
    document: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    source: str = "<config>",
    base_dir: Path | None = None,
) -> AppConfig:
    """Validate a parsed TOML document (see :func:`load_config`).

    Parameters
    ----------
    document : mapping
        The parsed TOML.
    environ : mapping, optional
        Environment for secret and URL variables; ``os.environ`` by default.
    source : str
        The file's name, for messages.
    base_dir : Path, optional
        The folder relative paths (``spool_path``, ``token_file``, ``password_file``,
        ``notify_urls_file``, and the default spool) are resolved against: the config
        file's own folder. None leaves them relative to the current directory.
    """
    top = TableReader(document, "config")
    for name in SECTIONS:
        top.has(name)
    unknown = [k for k in document if k not in SECTIONS]
    if unknown:
        top.done()  # names the first unknown section, with a suggestion
    patient = _read_patient(top.sub_table("patient") if "patient" in document else None)
    devices_raw = document.get("device", [])
    if isinstance(devices_raw, Mapping) or not isinstance(devices_raw, list):
        raise ConfigError("device must be an array of tables: write each wearable as [[device]]")
    devices = read_devices(devices_raw)
    return AppConfig(
        patient=patient,
        devices=devices,
        ble=_read_params(document, "ble", BleConfig),
        emg_params=read_emg_params(_table(document, "dsp")),
        store=read_store(_table(document, "store"), base_dir),
        grafana=read_grafana(_table(document, "grafana"), base_dir),
        alerts=read_alerts(_table(document, "alerts"), environ, base_dir),
        clinical=_read_params(document, "clinical", ClinicalConfig),
        source=source,
    )


def _table(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a table: write it as [{name}]")
    return value


def _read_params(document: Mapping[str, Any], name: str, cls: type[T]) -> T:
    """A section that is one parameter class, every key of it a field."""
    reader = TableReader(_table(document, name), name)
    params = reader.dataclass(cls)
    reader.done()
    return params


def _read_patient(table: Mapping[str, Any] | None) -> PatientConfig:
    if table is None:
        raise ConfigError('[patient] is missing: give at least id = "p01" (a pseudonym, never a name)')
    reader = TableReader(table, "patient")
    patient_id = reader.string("id")
    if not PATIENT_ID.fullmatch(patient_id):
        raise reader.error("id", "a pseudonym of 1-32 letters, digits, '-' or '_'", patient_id)
    timezone = reader.string("timezone", "UTC")
    _check_timezone(reader, timezone)
    reader.done()
    return PatientConfig(patient_id, timezone)


def _check_timezone(reader: TableReader, timezone: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise reader.error("timezone", "an IANA timezone such as 'Europe/London'", timezone) from None
