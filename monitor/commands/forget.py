"""``spasm-monitor forget --patient ID``: erase one patient's data from the spool and InfluxDB.

The spool goes first, so no unsent row of the patient can be forwarded afterwards; then what
was forwarded, on the server (:mod:`monitor.store.influx_delete`): InfluxDB 1.x drops the
patient's series (``DROP SERIES``), 2.x deletes their points through the delete API, and 3.x,
which cannot delete points, is named with what stays there. A server that fails leaves the
spool erased and says so: running the command again finishes the server's part.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.commands.config import add_config_argument, add_spool_argument, existing_spool
from monitor.config import load_config
from monitor.config.app import PATIENT_ID
from monitor.errors import StoreError
from monitor.store import Spool
from monitor.store.influx_delete import InfluxDeleter, PointSelection, influx_deleter
from monitor.store.retention import forget_patient

# Exit code when the user did not confirm, or the server's part failed.
NOT_DONE_EXIT = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "forget", help="erase every record of one patient from the spool and InfluxDB (cannot be undone)"
    )
    add_config_argument(parser)
    parser.add_argument("--patient", required=True, help="the patient pseudonym whose data goes")
    add_spool_argument(parser)
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    patient = args.patient
    if not PATIENT_ID.fullmatch(patient):
        raise ValueError(
            f"--patient must be a pseudonym of 1-32 letters, digits, '-' or '_', got {patient!r}"
        )
    config = load_config(args.config)
    spool_path = existing_spool(Path(args.spool or config.store.spool_path))
    influx = config.store.influx
    # The server's secret is read before anything is erased: a missing token stops here.
    deleter = influx_deleter(influx) if influx is not None else None
    where = f"the spool {spool_path}" + (f" and {deleter.where}" if deleter else "")
    question = f"Erase every record of patient {patient} from {where}? This cannot be undone."
    if not args.yes and not _confirm(question, patient):
        print("nothing erased")
        return NOT_DONE_EXIT
    with Spool(spool_path) as spool:
        n = forget_patient(spool, patient)
    print(f"erased {n:,} rows of patient {patient} from {spool_path}")
    if deleter is None:
        return 0
    return _forget_influx(deleter, patient)


def _forget_influx(deleter: InfluxDeleter, patient: str) -> int:
    everything = PointSelection({"patient": patient})  # every measurement, all times
    try:
        deleter.delete(everything)
    except StoreError as error:
        then = (
            f": run `forget` again once the server answers, or {deleter.how_to(everything)}"
            if deleter.can_delete
            else ""  # the error says why nothing can delete them there
        )
        print(f"InfluxDB NOT erased: {error}; {deleter.where} still holds {everything.describe()}{then}")
        return NOT_DONE_EXIT
    print(f"erased patient {patient}'s data from {deleter.where}")
    return 0


def _confirm(question: str, expected: str) -> bool:
    """Ask on stdin; confirmed only by typing ``expected`` (a stray Enter erases nothing)."""
    try:
        answer = input(f"{question}\nType the patient id to confirm: ")
    except EOFError:  # no one to ask (a script without --yes)
        return False
    return answer.strip() == expected
