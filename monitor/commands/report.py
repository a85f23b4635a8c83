"""``spasm-monitor report``: the patient report, one self-contained HTML file from the spool
(or, with ``--from-influx``, from the InfluxDB of config.toml's ``[store.influx]``)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from monitor.clinical import DEFAULT_MIN_WEAR_H, too_little_text
from monitor.clinical.affected import configured_affected
from monitor.commands.config import DEFAULT_CONFIG, add_spool_argument
from monitor.config import load_config
from monitor.report import ReportError, build_report, write_report
from monitor.report.gather import DEFAULT_MAX_EVENTS
from monitor.store.influx_reader import InfluxQLReader


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="write the patient report (one HTML file that opens offline) from the spool"
    )
    report.add_argument(
        "--config", type=Path, default=None, help="take spool, patient and timezone from this config.toml"
    )
    add_spool_argument(report)
    report.add_argument(
        "--from-influx",
        action="store_true",
        help="read the InfluxDB of config.toml's [store.influx] instead of the spool (InfluxQL)",
    )
    report.add_argument("--out", type=Path, default=Path("report.html"), help="the HTML file to write")
    report.add_argument(
        "--patient", default=None, help="patient pseudonym (needed when the spool holds several patients)"
    )
    report.add_argument(
        "--timezone", default=None, help="the patient's IANA timezone, e.g. Europe/London (default UTC)"
    )
    report.add_argument(
        "--from", dest="start", default="", help="first local date, YYYY-MM-DD (default: first data)"
    )
    report.add_argument(
        "--to", dest="end", default="", help="last local date, YYYY-MM-DD (default: last data)"
    )
    report.add_argument("--events", type=int, default=DEFAULT_MAX_EVENTS, help="rows of the events table")
    report.add_argument(
        "--simulated",
        action="store_true",
        help="label the report as simulated data (also automatic when tagged)",
    )
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    if args.events < 0:
        raise ReportError(f"--events must be >= 0, got {args.events}", "")
    source = _apply_config(args)
    data = build_report(
        source,
        patient=args.patient,
        timezone=args.timezone,
        simulated=args.simulated,
        start_date=_date(args.start, "--from"),
        end_date=_date(args.end, "--to"),
        max_events=args.events,
        min_wear_h=args.min_wear_h,
        affected=args.affected,
    )
    path = write_report(data, args.out)
    label = " (SIMULATED)" if data.simulated else ""
    # The report's own "Observed time" (monitor.clinical.observed), not its clock-hour count;
    # without observed time there is no spasm count to give (no data is never "0 spasms").
    observed_h = data.coverage.monitored_h
    observed = f"in {observed_h:.1f} h observed" if observed_h > 0 else "and no observed time (no rate)"
    counted = f"{data.spasms} spasms {observed}"
    if data.spasms_per_h is not None:  # a rate and Penn score only on enough time (monitor.clinical.enough)
        counted += (
            f", {data.spasms_per_h:.2f} per observed hour, EMG-derived Penn frequency {data.penn_frequency}"
        )
    elif observed_h > 0:
        counted += f", no rate or Penn score ({too_little_text(3600.0 * observed_h)})"
    print(f"report{label}: patient {data.patient or '(untagged)'}, {counted} -> {path}")
    return 0


def _apply_config(args: argparse.Namespace) -> Path | InfluxQLReader:
    """Unset options from config.toml (``--config``, or ./config.toml when --spool is not given);
    where to read: the spool, or the configured InfluxDB with ``--from-influx``."""
    if args.from_influx and args.spool is not None:
        raise ReportError("--from-influx and --spool name two sources", "give one of them")
    path = args.config
    if path is None and (args.spool is None or args.from_influx):
        path = DEFAULT_CONFIG
    source: Path | InfluxQLReader | None = args.spool
    args.min_wear_h = DEFAULT_MIN_WEAR_H
    args.affected = {}
    if path is not None:
        config = load_config(path)
        args.min_wear_h = config.clinical.min_wear_h
        args.affected = configured_affected(config.patient.id, config.devices)  # as `run` scores
        args.patient = args.patient or config.patient.id
        args.timezone = args.timezone or config.patient.timezone
        influx = config.store.influx
        if not args.from_influx:
            source = source or config.store.spool_path
        elif influx is None:
            raise ReportError(f"{path} has no [store.influx]", "add it, or drop --from-influx")
        else:
            source = influx.reader()
    args.timezone = args.timezone or "UTC"
    if source is None:  # unreachable: without a config file, --spool was given
        raise ReportError("no spool to read", "give --spool or --config")
    return source


def _date(text: str, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} {text!r} is not a date", "use YYYY-MM-DD") from None
