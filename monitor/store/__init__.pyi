"""Types of the names :mod:`monitor.store` loads on first use (read by ``lazy_loader.attach_stub``)."""

from .forwarder import (
    Forwarder,
    ForwardStats,
)
from .influx_v1 import InfluxV1Writer
from .influx_v2 import InfluxV2Writer
from .series import NumericSeries
from .spool import (
    PENDING,
    SCHEMA_VERSION,
    SENT,
    SET_ASIDE,
    Batch,
    SetAside,
    Spool,
)
from .spool_writer import (
    AppendStats,
    SpoolWriter,
)
from .sqlite import (
    StoreBusyError,
    StoreFullError,
)
from .status import (
    StoreStatus,
    store_status,
)
from .writer import (
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
