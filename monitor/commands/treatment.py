"""``spasm-monitor treatment add|list|import``: the Botox and physiotherapy log."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.store import Spool
from monitor.treatment import (
    BotoxInjection,
    Entry,
    PtSession,
    add_entries,
    describe,
    list_entries,
    parse_zone,
    read_treatment_csv,
)
from monitor.treatment.entries import parse_date, parse_time, split_list

DEFAULT_SPOOL = Path("spool.sqlite")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    treatment = commands.add_parser("treatment", help="log Botox injections and physiotherapy sessions")
    actions = treatment.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="add one entry")
    kinds = add.add_subparsers(dest="kind", required=True)
    botox = kinds.add_parser("botox", help="a botulinum toxin injection session")
    _common(botox)
    botox.add_argument("--muscles", required=True, help="muscles injected, comma separated")
    botox.add_argument("--side", required=True, choices=("left", "right", "both"))
    botox.add_argument("--dose-u", required=True, type=float, help="total dose, units of the product")
    botox.add_argument("--product", default="onabotulinumtoxinA", help="generic or brand name")
    pt = kinds.add_parser("pt", help="a physiotherapy session")
    _common(pt)
    pt.add_argument("--pt-kind", required=True, help="stretching, strengthening, gait, ...")
    pt.add_argument("--exercises", default="", help="exercises done, ';' separated")
    for parser in (botox, pt):
        parser.add_argument("--date", required=True, help="local date, YYYY-MM-DD")
        parser.add_argument("--time", default="", help="local time of day, HH:MM (default: midnight)")
        parser.add_argument("--note", default="")
        parser.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list the logged entries")
    _common(listing)
    listing.set_defaults(handler=run_list)

    importing = actions.add_parser("import", help="import entries from a CSV file with a header row")
    _common(importing)
    importing.add_argument("file", type=Path)
    importing.set_defaults(handler=run_import)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spool", type=Path, default=DEFAULT_SPOOL, help="the spool file")
    parser.add_argument("--patient", default="", help="patient pseudonym (never a name)")
    parser.add_argument("--tz", default="UTC", help="the patient's IANA timezone, e.g. Europe/Berlin")


def run_add(args: argparse.Namespace) -> int:
    tz = parse_zone(args.tz)
    date, time = parse_date(args.date), parse_time(args.time)
    entry: Entry
    if args.kind == "botox":
        entry = BotoxInjection(
            date, split_list(args.muscles), args.side, args.dose_u, args.product, time, args.note
        )
    else:
        entry = PtSession(date, args.pt_kind, split_list(args.exercises), time, args.note)
    with Spool(args.spool) as spool:
        (record,) = add_entries(spool, [entry], tz, args.patient)
    print(f"added: {describe(record, tz)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    tz = parse_zone(args.tz)
    with Spool(args.spool, read_only=True) as spool:  # a copy on read-only media lists too
        records = list_entries(spool, args.patient or None)
    for record in records:
        print(describe(record, tz))
    if not records:
        print("no treatment entries")
    return 0


def run_import(args: argparse.Namespace) -> int:
    tz = parse_zone(args.tz)
    entries = read_treatment_csv(args.file)
    with Spool(args.spool) as spool:
        records = add_entries(spool, entries, tz, args.patient)
    print(f"imported {len(records)} treatment entries from {args.file}")
    return 0
