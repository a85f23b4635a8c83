"""A run whose consumer or forwarder died stops non-zero with one line (issue 13, point 1).

Before, the collector's drain task died inside ``gather(..., return_exceptions=True)``: BLE
went on, the queue filled, and ``run`` returned 0 at the end. Here the radio is bleak's real
BlueZ backend without a system bus (it keeps producing ``ble_status`` records to deliver).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.collect.errors import RunStoppedError
from monitor.pipeline import Pipeline
from monitor.store.forwarder import Forwarder, ForwardStats
from monitor.types import Frame, Record

ADDRESS = "F1:00:00:00:00:01"


@pytest.fixture(autouse=True)
def no_system_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")


def _write_config(tmp_path: Path, influx: bool = False) -> Path:
    config = tmp_path / "config.toml"
    text = (
        f'[patient]\nid = "p13"\n\n[[device]]\naddress = "{ADDRESS}"\n'
        'placement = "calf"\nmuscle = "soleus"\n\n'
        f'[store]\nspool_path = "{tmp_path / "spool.sqlite"}"\n'
    )
    if influx:
        text += '\n[store.influx]\nversion = "1"\nurl = "http://127.0.0.1:9"\ndatabase = "spasms"\n'
    config.write_text(text)
    return config


async def test_a_sink_that_raises_stops_the_collector_with_the_reason() -> None:
    def sink(item: Frame | Record) -> None:
        raise RuntimeError("sink bug")

    collector = Collector(CollectorConfig((DeviceConfig(address=ADDRESS),)), sink)
    with pytest.raises(RunStoppedError, match="record consumer stopped: RuntimeError: sink bug"):
        await asyncio.wait_for(collector.run(), 20.0)  # no stop() needed: it stops on its own
    assert not any(session.is_connected for session in collector.sessions)


def test_run_exits_non_zero_with_one_line_when_the_consumer_dies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Pipeline, item: Frame | Record) -> list[Record]:
        raise RuntimeError("a bug beyond the processors' guards")

    monkeypatch.setattr(Pipeline, "process", broken)
    started_s = time.monotonic()
    code = main(["run", "--config", str(_write_config(tmp_path)), "--duration-s", "60"])
    assert code == 1  # systemd's Restart=on-failure restarts it
    assert time.monotonic() - started_s < 30.0  # it stopped at once, not after the duration
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("spasm-monitor run: stopped: the record consumer stopped: RuntimeError: a bug")


def test_run_exits_non_zero_with_one_line_when_the_forwarder_dies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dies(self: Forwarder, stop: asyncio.Event) -> ForwardStats:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Forwarder, "run", dies)
    started_s = time.monotonic()
    code = main(["run", "--config", str(_write_config(tmp_path, influx=True)), "--duration-s", "60"])
    assert code == 1
    assert time.monotonic() - started_s < 30.0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("spasm-monitor run: stopped: the forwarder to InfluxDB stopped: OSError")
