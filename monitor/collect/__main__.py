"""Run the collector from a TOML file and write every Frame and Record as JSON lines.

Usage: ``python -m monitor.collect --config collect.toml --out items.jsonl``. The file's
``[collect]`` table is :class:`~monitor.collect.CollectorConfig`. It prints ``collecting``
once started; SIGINT or SIGTERM stop it after every queued item is written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tomllib
from pathlib import Path
from typing import IO

from monitor.collect.collector import Collector
from monitor.collect.config import CollectorConfig
from monitor.collect.queue import Item
from monitor.errors import SpasmMonitorError
from monitor.types import Frame


def item_to_json(item: Item) -> str:
    """One JSON line: Frames as their header (stream, t0_ns, seq, n), Records in full."""
    if isinstance(item, Frame):
        return json.dumps(
            {
                "type": "frame",
                "device": item.stream.device,
                "sensor": item.stream.sensor,
                "t0_ns": item.t0_ns,
                "seq": item.seq_first,
                "n": item.n_samples,
            }
        )
    return json.dumps(
        {
            "type": "record",
            "measurement": item.measurement,
            "time_ns": item.time_ns,
            "fields": item.fields,
            "tags": item.tags,
        }
    )


async def _run(config: CollectorConfig, out: IO[str]) -> int:
    def write(item: Item) -> None:
        out.write(item_to_json(item) + "\n")

    collector = Collector(config, sink=write)
    collector.install_signal_handlers()
    print("collecting", flush=True)
    await collector.run()
    out.flush()
    return collector.delivered


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Collect allow-listed BLE wearables into JSON lines")
    parser.add_argument("--config", required=True, type=Path, help="TOML file with a [collect] table")
    parser.add_argument("--out", required=True, type=Path, help="JSON-lines output file")
    args = parser.parse_args(argv)
    try:
        config = CollectorConfig.from_dict(tomllib.loads(args.config.read_text())["collect"])
        with args.out.open("w") as out:
            delivered = asyncio.run(_run(config, out))
    except SpasmMonitorError as error:
        sys.exit(f"spasm-monitor: {error}")
    print(f"stopped: {delivered} items written", flush=True)


if __name__ == "__main__":
    main()
