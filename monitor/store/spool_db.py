"""SQLite plumbing of the spool: its errors, and the read-only connection readers use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.errors import StoreError


class SpoolBusyError(StoreError):
    """Another connection held the write lock longer than the busy timeout; try again later."""


class SpoolFullError(StoreError):
    """The disk or the spool's size limit is full and nothing is left to prune."""


def open_read_only(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when ``mode=ro`` cannot open (read-only media).

    A WAL database opened ``mode=ro`` still needs its ``-shm`` file, which a read-only
    directory cannot create; ``immutable=1`` reads the file as it is, safe because nothing
    can be writing to a read-only medium.
    """
    uri = Path(path).resolve().as_uri()
    last: sqlite3.Error | None = None
    for mode in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=busy_timeout_s, isolation_level=None)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.Error as error:
            last = error
    assert last is not None
    raise store_error(path, "open (read-only)", last) from last


def store_error(path: str, action: str, error: sqlite3.Error) -> StoreError:
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return SpoolBusyError(
            f"could not {action} spool {path}: the database is locked by another process or connection",
            "stop the other program that has the spool open (two collectors on one spool?), or point "
            "the spool path at another file",
        )
    if name.startswith("SQLITE_FULL"):
        return SpoolFullError(
            f"could not {action} spool {path}: the disk is full or the spool reached its size limit",
            "free disk space, or raise max_file_bytes; nothing of this batch was written",
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")):
        return StoreError(f"could not {action} spool {path}: {error}")
    return StoreError(f"could not {action} spool {path}: {error} ({name or 'sqlite error'})")
