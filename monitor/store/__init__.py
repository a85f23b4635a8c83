"""Durable storage: the SQLite spool every Record enters first, and the forwarder to InfluxDB.

Typical use::

    spool = Spool("spool.sqlite")
    spool.append(records)                       # durable when it returns
    writer = InfluxV1Writer(url, "spasm")       # or InfluxV2Writer(url, org, bucket, token=...)
    await Forwarder("spool.sqlite", writer).run(stop_event)

With no InfluxDB configured, :meth:`Spool.query` is the embedded store.
"""

from monitor.store.forwarder import Forwarder, ForwardStats
from monitor.store.influx_v1 import InfluxV1Writer
from monitor.store.influx_v2 import InfluxV2Writer
from monitor.store.series import NumericSeries
from monitor.store.spool import PENDING, SCHEMA_VERSION, SENT, SET_ASIDE, Batch, SetAside, Spool
from monitor.store.spool_writer import AppendStats, SpoolWriter
from monitor.store.sqlite import StoreBusyError, StoreFullError
from monitor.store.status import StoreStatus, store_status
from monitor.store.writer import (
    AccessWriteError,
    RejectedWriteError,
    RetryableWriteError,
    TooLargeWriteError,
    WriteError,
    Writer,
    read_secret,
)

__all__ = [
    "PENDING",
    "SCHEMA_VERSION",
    "SENT",
    "SET_ASIDE",
    "AccessWriteError",
    "AppendStats",
    "Batch",
    "ForwardStats",
    "Forwarder",
    "InfluxV1Writer",
    "InfluxV2Writer",
    "NumericSeries",
    "RejectedWriteError",
    "RetryableWriteError",
    "SetAside",
    "Spool",
    "SpoolWriter",
    "StoreBusyError",
    "StoreFullError",
    "StoreStatus",
    "TooLargeWriteError",
    "WriteError",
    "Writer",
    "read_secret",
    "store_status",
]
