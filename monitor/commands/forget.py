"""``spasm-monitor forget --patient ID``: erase one patient's data from the spool and InfluxDB.

The spool goes first, so no unsent row of the patient can be forwarded afterwards; then the
patient's series on InfluxDB 1.x (``DROP SERIES``). A server that fails leaves the spool
erased and says so: running the command again finishes the server's part.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.commands.config import add_config_argument
from monitor.config import load_config
from monitor.config.app import PATIENT_ID
from monitor.config.store import InfluxConfig
from monitor.errors import StoreError
from monitor.store import Spool
from monitor.store.influx_reader import InfluxQLReader
from monitor.store.retention import forget_patient, forget_patient_influx

# Exit code when the user did not confirm, or the server's part failed.
NOT_DONE_EXIT = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "forget", help="erase every record of one patient from the spool and InfluxDB (cannot be undone)"
    )
    add_config_argument(parser)
    parser.add_argument("--patient", required=True, help="the patient pseudonym whose data goes")
    parser.add_argument(
        "--spool", type=Path, default=None, help="the spool file (default: [store] spool_path)"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    patient = args.patient
    if not PATIENT_ID.fullmatch(patient):
        raise ValueError(
            f"--patient must be a pseudonym of 1-32 letters, digits, '-' or '_', got {patient!r}"
        )
    config = load_config(args.config)
    spool_path = Path(args.spool or config.store.spool_path)
    if not spool_path.is_file():
        raise StoreError(
            f"spool file {str(spool_path)!r} not found", "give the spool `run` writes with --spool"
        )
    influx = config.store.influx
    # The server's secret is read before anything is erased: a missing token stops here.
    reader = influx.reader() if influx is not None and influx.version == "1" else None
    where = f"the spool {spool_path}" + (f" and InfluxDB at {influx.url}" if influx else "")
    question = f"Erase every record of patient {patient} from {where}? This cannot be undone."
    if not args.yes and not _confirm(question, patient):
        print("nothing erased")
        return NOT_DONE_EXIT
    with Spool(spool_path) as spool:
        n = forget_patient(spool, patient)
    print(f"erased {n:,} rows of patient {patient} from {spool_path}")
    if influx is None:
        return 0
    return _forget_influx(influx, reader, patient)


def _forget_influx(influx: InfluxConfig, reader: InfluxQLReader | None, patient: str) -> int:
    if reader is None:
        # InfluxQL's DROP SERIES runs on 1.x only; 2.x and 3.x delete through their own tools.
        predicate = f'patient="{patient}"'  # a checked pseudonym: nothing in it needs escaping
        print(
            f"InfluxDB {influx.version}.x: not erased by this command; run"
            f" `influx delete --bucket {influx.bucket or influx.database} --start 1970-01-01T00:00:00Z"
            f" --stop 2262-01-01T00:00:00Z --predicate '{predicate}'`"
        )
        return NOT_DONE_EXIT
    try:
        forget_patient_influx(reader, patient)
    except StoreError as error:
        print(f"InfluxDB NOT erased: {error}; run `forget` again once the server answers")
        return NOT_DONE_EXIT
    print(f"erased patient {patient}'s series from InfluxDB database {influx.database!r} at {influx.url}")
    return 0


def _confirm(question: str, expected: str) -> bool:
    """Ask on stdin; confirmed only by typing ``expected`` (a stray Enter erases nothing)."""
    try:
        answer = input(f"{question}\nType the patient id to confirm: ")
    except EOFError:  # no one to ask (a script without --yes)
        return False
    return answer.strip() == expected
