"""``spasm-monitor replay FILE``: a recording through the live pipeline (DSP) into a spool.

Items go to :class:`monitor.pipeline.Pipeline` in the order the collector delivered them,
as fast as the DSP runs (no sleeping), so the records are the ones a live run would have
stored. The wearables' placement, muscles and joints come from the configuration kept in
the recording, unless ``--config`` names another (to replay with new ``[dsp]`` settings).
Replaying the same file twice into one spool stores its records twice.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from monitor.commands.config import DEFAULT_CONFIG
from monitor.commands.progress import Progress
from monitor.commands.recorded_config import config_from_snapshot
from monitor.config import AppConfig, load_config
from monitor.errors import StoreError
from monitor.pipeline import Pipeline
from monitor.recording import RecordingReader
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

SPOOL_BATCH_RECORDS = 5_000  # one spool transaction (one fsync) per this many records


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "replay", help="run a recording through the DSP into the spool, faster than real time"
    )
    parser.add_argument("file", type=Path, help="a recording made by `spasm-monitor record`")
    parser.add_argument(
        "--config", type=Path, default=None,
        help=f"configuration (default: the one kept in the recording, else {DEFAULT_CONFIG})",
    )  # fmt: skip
    parser.add_argument(
        "--spool", type=Path, default=None, help="spool to write (default: [store] of the config)"
    )
    parser.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    with RecordingReader(args.file) as reader:
        config = _config(args, reader)
        spool_path: Path = args.spool or config.store.spool_path
        try:
            spool_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot create the spool's folder {spool_path.parent}: {error.strerror}"
            ) from None
        summary = reader.summary()
        progress = Progress(f"replay {args.file.name}", summary.n_items)
        pipeline = Pipeline(config)
        started_s = time.monotonic()
        stored = 0
        with Spool(spool_path, cap_bytes=config.store.spool_cap_bytes) as spool:
            pending: list[Record] = []
            for done, item in enumerate(reader, 1):
                pending += pipeline.process(item)
                if len(pending) >= SPOOL_BATCH_RECORDS:
                    stored += spool.append(pending)
                    pending.clear()
                progress.update(done, f"{pipeline.stats.records['spasm_event']} spasms")
            pending += pipeline.flush()
            stored += spool.append(pending)
    elapsed_s = time.monotonic() - started_s
    span_s = (summary.last_ns - summary.first_ns) / NS_PER_S if summary.first_ns and summary.last_ns else 0.0
    speed = f", {span_s / elapsed_s:.0f}x real time" if elapsed_s > 0 and span_s > 0 else ""
    progress.done(f"{summary.n_items} items in {elapsed_s:.1f} s{speed}")
    records = pipeline.stats.records
    print(
        f"replayed {args.file} ({span_s:.0f} s recorded) into {spool_path}: {stored} records,"
        f" {records['spasm_event']} spasm events, {records['ble_gap']} gaps"
    )
    for device in sorted(pipeline.stats.unknown_devices):
        print(f"  skipped {device}: not a [[device]] of the configuration")
    if pipeline.stats.rejected_frames:
        print(f"  {pipeline.stats.rejected_frames} frames rejected by the DSP (see the log)")
    for kind, count in sorted(pipeline.stats.processor_errors.items()):
        print(f"  DSP failures {kind}: {count} (processor reset, see the log)")
    if pipeline.stats.unrenderable_records:
        print(f"  {pipeline.stats.unrenderable_records} records dropped: not storable (see the log)")
    return 0


def _config(args: argparse.Namespace, reader: RecordingReader) -> AppConfig:
    if args.config is not None:
        return load_config(args.config)
    return config_from_snapshot(reader.config, str(args.file)) or load_config(DEFAULT_CONFIG)
