"""``spasm-monitor analyze FILE``: spasms in an EMG CSV file or a recording, with a summary.

A recording runs through the same pipeline and configuration as ``spasm-monitor replay``
(``--config``, else the one the recording keeps, else ``config.toml``), so both report the
same spasm events; only the output differs.

Output formats (stdout; progress goes to stderr):

- ``table`` (default): the summary, then one line per event, for a person;
- ``json``: ``{"schema": "spasm-monitor/analyze/1", "file", "start", "end", "summary",
  "events": [...]}``; keys are only ever added, under the same schema name;
- ``csv``: one row per event with the columns of :data:`EVENT_COLUMNS`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from monitor.analysis import Analysis, analyze_emg, analyze_recording, event_source
from monitor.clinical import not_scored_text
from monitor.commands.config import DEFAULT_CONFIG
from monitor.commands.progress import Progress
from monitor.commands.recorded_config import config_from_snapshot, optional_config
from monitor.config import AppConfig, load_config
from monitor.dsp import EmgParams, SpasmDetector
from monitor.emg_csv import CsvEmg, CsvError, read_emg_csv
from monitor.emg_units import UNITS, amplitude_warning
from monitor.errors import ConfigError
from monitor.recording import RecordingReader, is_recording
from monitor.types import NS_PER_S, SpasmEvent

JSON_SCHEMA = "spasm-monitor/analyze/1"
EVENT_COLUMNS = (
    "onset", "onset_s", "duration_s", "kind", "source", "device", "channel", "location",
    "peak_mv", "peak_x_baseline", "clonus_hz", "imu_peak_dps",
)  # fmt: skip


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = commands.add_parser(
        "analyze", help="find spasms in an EMG CSV file or a recording and summarise them"
    )
    analyze.add_argument(
        "file", type=Path, help="CSV (# comments, a time column, then one column per channel) or recording"
    )
    analyze.add_argument(
        "--rate-hz", type=float, default=None, help="sample rate of a CSV without a time column"
    )
    analyze.add_argument(
        "--units", choices=UNITS, default=None,
        help="unit of a CSV's EMG numbers (default mV); counts need --scale-mv",
    )  # fmt: skip
    analyze.add_argument("--scale-mv", type=float, default=None, help="mV per ADC count, with --units counts")
    analyze.add_argument(
        "--format", choices=("table", "json", "csv"), default="table",
        help="table (default), json (a stable schema) or csv (one row per event)",
    )  # fmt: skip
    analyze.add_argument(
        "--config", type=Path, default=None,
        help=f"wearables and [dsp] from this file (default: a recording's own, else {DEFAULT_CONFIG})",
    )  # fmt: skip
    analyze.set_defaults(handler=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    if is_recording(args.file):
        if args.units is not None or args.scale_mv is not None:
            raise ConfigError("--units and --scale-mv are for CSV files: a recording holds mV", "")
        with RecordingReader(args.file) as reader:
            recording_config = _recording_config(args, reader)
            total = reader.summary().n_items
            progress = Progress(f"analyze {args.file.name}", total)
            analysis = analyze_recording(reader, recording_config, progress.update)
            progress.done(f"{total} items read")
        for device in sorted(analysis.unknown_devices):  # stderr: stdout may be JSON or CSV
            print(f"spasm-monitor: {args.file}: skipped {device}: not a [[device]] of the configuration",
                  file=sys.stderr)  # fmt: skip
    else:
        config = optional_config(args)
        params = config.emg_params if config else None
        args.units = args.units or "mV"
        emg = read_emg_csv(args.file, args.rate_hz, args.units, args.scale_mv)
        _check_analysable(emg, args, params or EmgParams())
        analysis = analyze_emg(emg.emg_mv, emg.sample_rate_hz, emg.t0_ns, params, device="csv")
    try:
        _print(analysis, args)
    except BrokenPipeError:  # `analyze ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise
    return 0


def _check_analysable(emg: CsvEmg, args: argparse.Namespace, params: EmgParams) -> None:
    """Refuse what the detector cannot read; say (on stderr) what the user should know."""
    SpasmDetector(emg.sample_rate_hz, emg.emg_mv.shape[1])  # a rate it refuses, named first
    duration_s = emg.emg_mv.shape[0] / emg.sample_rate_hz
    if duration_s < params.floor_window_s:
        raise CsvError(
            f"{args.file}: {emg.emg_mv.shape[0]} sample(s), {duration_s:.3g} s, too short to analyse",
            f"the detector needs at least {params.floor_window_s:g} s to learn the resting level",
        )
    finite = np.isfinite(emg.emg_mv)
    for channel, name in enumerate(emg.channel_names):
        if not finite[:, channel].any():
            raise CsvError(
                f"{args.file}: channel {name!r} holds no numbers (every value is empty, NaN or infinite)",
                "remove the column, or export the file again",
            )
    for note in emg.notes:
        print(f"spasm-monitor: {args.file}: {note}", file=sys.stderr)
    if (missing := int(finite.size - np.count_nonzero(finite))) > 0:
        print(
            f"spasm-monitor: {args.file}: {missing} non-finite samples (empty cells, NaN or infinite),"
            " read as gaps: not observed time",
            file=sys.stderr,
        )
    if (warning := amplitude_warning(emg.emg_mv, emg.channel_names, args.units)) is not None:
        print(f"spasm-monitor: warning: {args.file}: {warning}", file=sys.stderr)


def _print(analysis: Analysis, args: argparse.Namespace) -> None:
    if args.format == "json":
        json.dump(to_json(analysis, str(args.file)), sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(EVENT_COLUMNS)
        for event in analysis.events:
            row = event_row(event, analysis.start_ns)
            writer.writerow(["" if row[c] is None else row[c] for c in EVENT_COLUMNS])
    else:
        print_table(analysis, str(args.file))


def to_json(analysis: Analysis, file: str) -> dict[str, Any]:
    """The stable JSON document of an analysis (see the module docstring)."""
    return {
        "schema": JSON_SCHEMA,
        "file": file,
        "start": _iso(analysis.start_ns),
        "end": _iso(analysis.end_ns),
        "summary": analysis.summary(),
        "events": [event_row(e, analysis.start_ns) for e in analysis.events],
    }


def event_row(event: SpasmEvent, start_ns: int) -> dict[str, Any]:
    """One event as the columns of :data:`EVENT_COLUMNS`; None where not measured."""

    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "onset": _iso(event.onset_ns),
        "onset_s": round((event.onset_ns - start_ns) / NS_PER_S, 3),
        "duration_s": round(event.duration_s, 3),
        "kind": event.kind,
        "source": event_source(event),
        "device": event.device,
        "channel": event.channel,
        "location": event.location,
        "peak_mv": rounded(event.peak_mv, 4),
        "peak_x_baseline": rounded(event.peak_x_baseline, 2),
        "clonus_hz": rounded(event.clonus_hz, 2),
        "imu_peak_dps": rounded(event.imu_peak_dps, 1),
    }


def print_table(analysis: Analysis, file: str) -> None:
    s = analysis.summary()
    durations = s["duration_s"]
    kinds = ", ".join(f"{k} {n}" for k, n in s["by_kind"].items() if n) or "none"
    rate = "n/a" if s["per_hour"] is None else f"{s['per_hour']:g}/h"
    span = f"{_iso(analysis.start_ns)} to {_iso(analysis.end_ns)}"
    print(f"{file}: {span}, {s['observed_h'] * 60:.1f} min observed")
    if s["spasms"] is None:  # no usable sample: no data, which is not "0 spasms"
        print("spasms: no data (no usable samples: nothing observed, nothing scored)")
        return
    sources = s["by_source"]
    print(
        f"spasms: {s['spasms']} episodes of the affected limbs"
        f" ({s['events']} detector events: EMG {sources['emg']}, IMU {sources['imu']})"
    )
    print(f"rate: {rate}   episodes by kind: {kinds}")
    if s["events"]:
        print(
            f"duration: min {durations['min']:g} s, median {durations['median']:g} s,"
            f" max {durations['max']:g} s, total {durations['total']:g} s"
        )
    snow = s["snow_frequency"]  # None under [clinical] min_wear_h observed: a 24-hour count needs a day
    snow_text = not_scored_text(s["observed_h"] * 3600) if snow is None else str(snow)
    print(f"Penn frequency: {_score(s['penn_frequency'])}   Snow frequency: {snow_text}   (EMG-derived)")
    if not analysis.events:
        return
    print()
    header = ("onset", "t (s)", "dur (s)", "kind", "src", "device", "ch", "peak mV", "x base", "clonus Hz")
    print("{:<24} {:>9} {:>8} {:<9} {:<4} {:<18} {:>2} {:>8} {:>7} {:>9}".format(*header))
    for event in analysis.events:
        r = event_row(event, analysis.start_ns)
        print(
            f"{r['onset']:<24} {r['onset_s']:>9.3f} {r['duration_s']:>8.3f} {r['kind']:<9} {r['source']:<4}"
            f" {r['device'][:18]:<18} {r['channel']:>2} {_cell(r['peak_mv'])}"
            f" {_cell(r['peak_x_baseline'], 7)} {_cell(r['clonus_hz'], 9)}"
        )


def _recording_config(args: argparse.Namespace, reader: RecordingReader) -> AppConfig:
    """As ``replay`` chooses it: ``--config``, else the recording's own, else the default file."""
    if args.config is not None:
        return load_config(args.config)
    return config_from_snapshot(reader.config, str(args.file)) or load_config(DEFAULT_CONFIG)


def _iso(time_ns: int) -> str:
    """UTC time to the ms, rounded as ``onset_s`` is (isoformat alone would truncate)."""
    ms = round(time_ns / 1_000_000)
    when = dt.datetime.fromtimestamp(ms // 1000, dt.UTC) + dt.timedelta(milliseconds=ms % 1000)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _score(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def _cell(value: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4g}"
