"""``spasm-monitor export``: the patient's data as CSV or JSON, or a recording as EDF+.

Examples::

    spasm-monitor export --out export/                       # CSV, one file per table
    spasm-monitor export --format json --out - --from 2026-03-01 --to 2026-03-31
    spasm-monitor export --edf rec.sqlite rec.edf            # raw signals of a recording
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.clinical.events import local_midnight_ns
from monitor.commands.config import add_config_argument, add_spool_argument, existing_spool
from monitor.config import load_config
from monitor.errors import StoreError
from monitor.export import TABLES, Period, export_tables, to_json, write_csv, write_edf
from monitor.store import Spool


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export",
        help="take data out: events, episodes, scores, ROM, treatment (CSV/JSON); raw signals (EDF+)",
    )
    add_config_argument(parser)
    add_spool_argument(parser)
    parser.add_argument(
        "--out", default=None, help="CSV: a directory (one file per table); JSON: a file, - for stdout"
    )
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument(
        "--tables", default=",".join(TABLES), help=f"comma-separated, from {', '.join(TABLES)} (default all)"
    )
    parser.add_argument("--from", dest="from_date", default=None, help="first local day, YYYY-MM-DD")
    parser.add_argument("--to", dest="to_date", default=None, help="last local day (included), YYYY-MM-DD")
    parser.add_argument(
        "--patient", default=None, help="one patient (default: [patient] id; 'all' for every one)"
    )
    parser.add_argument(
        "--edf",
        nargs=2,
        metavar=("RECORDING", "OUT_EDF"),
        default=None,
        help="write a recording's raw signals (`spasm-monitor record`) as EDF+ instead",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.edf is not None:
        recording, out = args.edf
        signals = write_edf(recording, out)
        rates = sorted({s.rate_hz for s in signals})
        print(
            f"wrote {out}: {len(signals)} signals ({', '.join(f'{r} Hz' for r in rates)}),"
            f" {signals[0].samples / signals[0].rate_hz:.0f} s"
        )
        return 0
    if args.out is None:
        raise ValueError("export needs --out (a directory for CSV, a file or - for JSON), or --edf")
    config = load_config(args.config)
    spool_path = existing_spool(args.spool or config.store.spool_path)
    zone = ZoneInfo(config.patient.timezone)
    period = _period(args.from_date, args.to_date, zone)
    patient = config.patient.id if args.patient is None else (None if args.patient == "all" else args.patient)
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    with Spool(spool_path, read_only=True) as spool:
        _check_patient(spool, patient)
        data = export_tables(spool, tables, period, patient)
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in data.items())
    if args.format == "csv":
        paths = write_csv(data, Path(args.out))
        print(f"wrote {len(paths)} CSV files to {args.out}: {counts}")
        return 0
    meta = {
        "patient": patient or "all",
        "from": args.from_date,
        "to": args.to_date,
        "timezone": config.patient.timezone,
    }
    document = to_json(data, meta)
    if args.out == "-":
        sys.stdout.write(document + "\n")
    else:
        Path(args.out).write_text(document + "\n", encoding="utf-8")
        print(f"wrote {args.out}: {counts}")
    return 0


def _check_patient(spool: Spool, patient: str | None) -> None:
    """Refuse a patient of whom the spool holds nothing, naming those it holds: an export of
    "0 events" from the wrong patient's pseudonym reads as a spasm-free patient."""
    held = sorted(str(p) for (p,) in spool.rows("SELECT DISTINCT patient FROM points"))
    if patient is None or patient in held or not held:
        return
    names = ", ".join(repr(p) if p else "(untagged)" for p in held)
    raise StoreError(
        f"spool {spool.path} holds no data of patient {patient!r}; it holds {names}",
        "give --patient with one of them, or --patient all",
    )


def _period(from_date: str | None, to_date: str | None, zone: ZoneInfo) -> Period:
    """``--from``/``--to`` local days as UTC ns, ``--to`` included."""
    start = Period().start_ns if from_date is None else local_midnight_ns(_date("--from", from_date), zone)
    end = Period().end_ns
    if to_date is not None:
        end = local_midnight_ns(_date("--to", to_date) + dt.timedelta(days=1), zone)
    if end <= start:
        raise ValueError(f"--to {to_date} is before --from {from_date}")
    return Period(start, end)


def _date(option: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} must be a date like 2026-03-01, got {text!r}") from None
