"""``spasm-monitor treatment add|list|import|edit|remove``: the Botox and physiotherapy log.

Patient, timezone and spool come from config.toml (``--config``, or ./config.toml unless
``--spool`` is given), as for ``report``: an entry added without options lands where the
report reads, under the patient's pseudonym, at the patient's local time.

An entry removed, or edited to another time or side, leaves the spool at once. What the
forwarder already sent of it is deleted on the configured InfluxDB too
(:mod:`monitor.store.influx_delete`), or, where that fails, one line says what stays there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from monitor.commands.config import DEFAULT_CONFIG, add_spool_argument
from monitor.config import load_config
from monitor.config.store import InfluxConfig
from monitor.errors import ConfigError, StoreError
from monitor.store import Spool
from monitor.store.influx_delete import InfluxDeleter, PointSelection, influx_deleter
from monitor.store.schema import TREATMENT
from monitor.treatment import (
    BotoxInjection,
    Entry,
    PtSession,
    StoredEntry,
    add_entries,
    check_pseudonym,
    describe,
    edit_entry,
    parse_zone,
    read_treatment_rows,
    remove_entry,
    stored_entries,
)
from monitor.treatment.entries import entry_time_ns, parse_date, parse_time, split_list
from monitor.types import Record

_TIME_HELP = "local time of day, HH:MM (default: midnight); HH:MM+02:00 in the hour the clocks pass twice"
# Exit code when the spool's part is done and InfluxDB's is not (as `forget`).
NOT_DONE_EXIT = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    treatment = commands.add_parser("treatment", help="log Botox injections and physiotherapy sessions")
    actions = treatment.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="add one entry")
    kinds = add.add_subparsers(dest="kind", required=True)
    botox = kinds.add_parser("botox", help="a botulinum toxin injection session")
    botox.add_argument("--muscles", required=True, help="muscles injected, comma separated")
    botox.add_argument("--side", required=True, choices=("left", "right", "both"))
    botox.add_argument("--dose-u", required=True, type=float, help="total dose, units of the product")
    botox.add_argument("--product", default="onabotulinumtoxinA", help="generic or brand name")
    pt = kinds.add_parser("pt", help="a physiotherapy session")
    pt.add_argument("--pt-kind", required=True, help="stretching, strengthening, gait, ...")
    pt.add_argument("--exercises", default="", help="exercises done, ';' separated")
    for parser in (botox, pt):
        _common(parser)
        parser.add_argument("--date", required=True, help="local date, YYYY-MM-DD")
        parser.add_argument("--time", default="", help=_TIME_HELP)
        parser.add_argument("--note", default="")
        parser.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list the logged entries with their IDs")
    _common(listing)
    listing.set_defaults(handler=run_list)

    importing = actions.add_parser(
        "import", help="import entries from a CSV file with a header row (format: README, 'Treatment log')"
    )
    _common(importing)
    importing.add_argument("file", type=Path)
    importing.set_defaults(handler=run_import)

    edit = actions.add_parser("edit", help="change an entry (its ID from `treatment list`)")
    _common(edit)
    edit.add_argument("id", type=_entry_id, help="the entry's ID, as `treatment list` shows it (#12 or 12)")
    edit.add_argument("--date", help="local date, YYYY-MM-DD")
    edit.add_argument("--time", help=_TIME_HELP + "; '' for midnight")
    edit.add_argument("--note")
    edit.add_argument("--muscles", help="botox: muscles injected, comma separated")
    edit.add_argument("--side", choices=("left", "right", "both"), help="botox")
    edit.add_argument("--dose-u", type=float, help="botox: total dose, units of the product")
    edit.add_argument("--product", help="botox: generic or brand name")
    edit.add_argument("--pt-kind", help="pt: stretching, strengthening, gait, ...")
    edit.add_argument("--exercises", help="pt: exercises done, ';' separated")
    edit.set_defaults(handler=run_edit)

    remove = actions.add_parser("remove", help="delete an entry (its ID from `treatment list`)")
    _common(remove)
    remove.add_argument("id", type=_entry_id, help="the entry's ID, as `treatment list` shows it")
    remove.set_defaults(handler=run_remove)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"patient, timezone and spool from this config.toml (default {DEFAULT_CONFIG} unless --spool)",
    )
    add_spool_argument(parser)
    parser.add_argument("--patient", default=None, help="patient pseudonym (default: [patient] id)")
    parser.add_argument(
        "--timezone",
        "--tz",
        dest="timezone",
        default=None,
        help="the patient's IANA timezone, e.g. Europe/Berlin (default: [patient] timezone)",
    )


def _entry_id(text: str) -> int:
    try:
        return int(text.removeprefix("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an entry ID such as 12 (see `treatment list`)"
        ) from None


class _Log(NamedTuple):
    """Where the log is and how to read it: the spool, the patient's zone and pseudonym, and
    ``[store.influx]`` (None without a config file or without a server in it)."""

    spool: Path
    tz: ZoneInfo
    patient: str | None
    influx: InfluxConfig | None


def _resolve(args: argparse.Namespace, needs_patient: bool) -> _Log:
    """Spool, timezone and patient: the options given, else config.toml's (and its InfluxDB).

    Without a config file (``--spool`` given, no ``--config``), the patient must be given
    where an entry is written, and the timezone is UTC with a note on stderr.
    """
    path = args.config
    if path is None and args.spool is None:
        path = DEFAULT_CONFIG
    spool, timezone, patient, influx = args.spool, args.timezone, args.patient, None
    if path is not None:
        if args.config is None and not path.exists():
            raise ConfigError(
                f"no {path} here to take patient, timezone and spool from",
                "give --config /etc/spasm-monitor/config.toml, or --spool, --patient and --timezone",
            )
        config = load_config(path)
        spool = config.store.spool_path if spool is None else spool
        timezone = config.patient.timezone if timezone is None else timezone
        patient = config.patient.id if patient is None else patient
        influx = config.store.influx
    if timezone is None:
        print("spasm-monitor: no config file and no --timezone: times are read as UTC", file=sys.stderr)
        timezone = "UTC"
    if patient is not None:
        check_pseudonym(patient)
    elif needs_patient:
        raise ValueError("no patient: give --patient (a pseudonym such as p01) or --config config.toml")
    return _Log(spool, parse_zone(timezone), patient, influx)


def run_add(args: argparse.Namespace) -> int:
    spool_path, tz, patient, _ = _resolve(args, needs_patient=True)
    date, time = parse_date(args.date), parse_time(args.time)
    entry: Entry
    if args.kind == "botox":
        entry = BotoxInjection(
            date, split_list(args.muscles), args.side, args.dose_u, args.product, time, args.note
        )
    else:
        entry = PtSession(date, args.pt_kind, split_list(args.exercises), time, args.note)
    entry_time_ns(date, time, tz)  # a local time the clocks skip or repeat: refused before any file is made
    _creatable(spool_path)
    with Spool(spool_path) as spool:
        added = add_entries(spool, [entry], tz, patient or "", labels=["the new entry"])
        ids = [_id_of(spool, record) for record in added.records]
    for entry_id, record in zip(ids, added.records, strict=True):
        print(f"added #{entry_id}: {describe(record, tz)}")
    for _, old in added.already:
        print(f"already stored as #{old.id}, nothing added: {describe(old.record, tz)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    spool_path, tz, patient, _ = _resolve(args, needs_patient=False)
    if not Path(spool_path).exists():  # a fresh install: nothing recorded yet is not an error
        print(f"no treatment entries yet (no spool at {spool_path}: `run` or `treatment add` creates it)")
        return 0
    with Spool(spool_path, read_only=True) as spool:  # a copy on read-only media lists too
        entries = stored_entries(spool, patient)
    for entry in entries:
        print(f"#{entry.id:<4d} {describe(entry.record, tz)}")
    if not entries:
        print("no treatment entries" + (f" for patient {patient}" if patient else ""))
    return 0


def run_import(args: argparse.Namespace) -> int:
    spool_path, tz, patient, _ = _resolve(args, needs_patient=True)
    rows = read_treatment_rows(args.file, tz)
    _creatable(spool_path)
    with Spool(spool_path) as spool:
        added = add_entries(
            spool,
            [entry for _, entry in rows],
            tz,
            patient or "",
            labels=[f"{args.file} row {n}" for n, _ in rows],
        )
    print(f"imported {len(added.records)} treatment entries from {args.file}")
    if added.already:
        repeats = ", ".join(f"{label.rpartition(' ')[2]} = #{old.id}" for label, old in added.already)
        print(f"{len(added.already)} row(s) already stored, left as they are (row {repeats})")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    spool_path, tz, _, influx = _resolve(args, needs_patient=False)
    changes: dict[str, Any] = {}
    if args.date is not None:
        changes["date"] = parse_date(args.date)
    if args.time is not None:
        changes["time"] = parse_time(args.time)
    for option, name in (("note", "note"), ("side", "side"), ("dose_u", "dose_u"), ("product", "product"),
                         ("pt_kind", "pt_kind")):  # fmt: skip
        if getattr(args, option) is not None:
            changes[name] = getattr(args, option)
    if args.muscles is not None:
        changes["muscles"] = split_list(args.muscles)
    if args.exercises is not None:
        changes["exercises"] = split_list(args.exercises)
    if not changes:
        raise ValueError("nothing to change: give --date, --time, --note, --dose-u... (see --help)")
    deleter = influx_deleter(influx) if influx is not None else None  # its secret, before any change
    with Spool(spool_path) as spool:
        old, record = edit_entry(spool, args.id, changes, tz)
        new_id = _id_of(spool, record)
    print(f"was #{old.id}: {describe(old.record, tz)}")
    print(f"now #{new_id}: {describe(record, tz)}")
    if _key(record) == _key(old.record):  # the same point: InfluxDB takes the new values over the old
        return 0
    return _delete_forwarded(deleter, old, "the old entry")


def run_remove(args: argparse.Namespace) -> int:
    spool_path, tz, _, influx = _resolve(args, needs_patient=False)
    deleter = influx_deleter(influx) if influx is not None else None  # its secret, before any change
    with Spool(spool_path) as spool:
        old = remove_entry(spool, args.id)
    print(f"removed #{old.id}: {describe(old.record, tz)}")
    return _delete_forwarded(deleter, old, "it")


def _delete_forwarded(deleter: InfluxDeleter | None, old: StoredEntry, what: str) -> int:
    """Delete ``old``'s point on InfluxDB as well: 0, or NOT_DONE_EXIT and one line on what stays.

    The delete is sent even for an entry the spool had not seen acknowledged: a forwarder of a
    running ``run`` may have had it in flight. A failure matters only for an entry that was sent.
    """
    point = PointSelection(old.record.tags, TREATMENT, old.record.time_ns, old.record.time_ns)
    if deleter is None:
        if old.sent:
            print(
                f"note: #{old.id} was already sent to InfluxDB, where {what} stays ({point.describe()}):"
                " no [store.influx] in the config to delete it from"
            )
        return 0
    try:
        deleter.delete(point)
    except StoreError as error:
        if not old.sent:
            return 0
        how = f"; to delete it, {deleter.how_to(point)}" if deleter.can_delete else ""
        print(
            f"InfluxDB NOT updated: {error}; {deleter.where} still holds #{old.id} ({what}):"
            f" {point.describe()}{how}"
        )
        return NOT_DONE_EXIT
    if old.sent:
        print(f"deleted #{old.id} from {deleter.where} too")
    return 0


def _key(record: Record) -> tuple[int, tuple[tuple[str, str], ...]]:
    return record.time_ns, tuple(sorted(record.tags.items()))


def _id_of(spool: Spool, record: Record) -> int | str:
    """The ID the spool gave ``record`` ('?' if it is not there)."""
    patient = record.tags.get("patient")
    return next((s.id for s in stored_entries(spool, patient) if _key(s.record) == _key(record)), "?")


def _creatable(spool_path: Path) -> None:
    """The spool's folder, made if missing: the first entry may come before the first run."""
    if not spool_path.parent.exists():
        spool_path.parent.mkdir(parents=True, exist_ok=True)
