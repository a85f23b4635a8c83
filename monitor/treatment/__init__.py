"""The treatment log: botulinum toxin injections and physiotherapy sessions as ``treatment``
records, so that spasm rates, dashboards and the report can be read against them."""

from monitor.treatment.csv_import import read_treatment_csv, read_treatment_rows
from monitor.treatment.entries import (
    BotoxInjection,
    Entry,
    PtSession,
    check_pseudonym,
    describe,
    entry_time_ns,
    parse_zone,
)
from monitor.treatment.log import (
    Added,
    StoredEntry,
    add_entries,
    edit_entry,
    list_entries,
    remove_entry,
    stored_entries,
)

__all__ = [
    "Added",
    "BotoxInjection",
    "Entry",
    "PtSession",
    "StoredEntry",
    "add_entries",
    "check_pseudonym",
    "describe",
    "edit_entry",
    "entry_time_ns",
    "list_entries",
    "parse_zone",
    "read_treatment_csv",
    "read_treatment_rows",
    "remove_entry",
    "stored_entries",
]
