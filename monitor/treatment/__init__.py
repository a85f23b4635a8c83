"""The treatment log: botulinum toxin injections and physiotherapy sessions as ``treatment``
records, so that spasm rates, dashboards and the report can be read against them."""

from monitor.treatment.csv_import import read_treatment_csv
from monitor.treatment.entries import (
    TREATMENT,
    BotoxInjection,
    Entry,
    PtSession,
    describe,
    entry_time_ns,
    parse_zone,
)
from monitor.treatment.log import add_entries, list_entries

__all__ = [
    "TREATMENT",
    "BotoxInjection",
    "Entry",
    "PtSession",
    "add_entries",
    "describe",
    "entry_time_ns",
    "list_entries",
    "parse_zone",
    "read_treatment_csv",
]
