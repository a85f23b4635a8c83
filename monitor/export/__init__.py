"""Data out: the patient's tables as CSV or JSON, and a recording's raw signals as EDF+."""

from monitor.export.edf import EdfSignal, write_edf
from monitor.export.tables import TABLES, Period, export_tables, record_row, to_json, write_csv

__all__ = [
    "TABLES",
    "EdfSignal",
    "Period",
    "export_tables",
    "record_row",
    "to_json",
    "write_csv",
    "write_edf",
]
