"""SQLite plumbing of the store's files, the spool and recordings: opening, transactions, errors.

Both are SQLite files in WAL mode through the stdlib ``sqlite3``. Connections are in
autocommit mode (``isolation_level=None``), so a transaction is exactly what
:meth:`SqliteFile._transaction` opens: ``BEGIN IMMEDIATE`` … ``COMMIT``. Every
``sqlite3.Error`` becomes a one-line :class:`~monitor.errors.StoreError` that says what was
being done to which file (:meth:`SqliteFile._failed`); a lock held past the busy timeout and
a full disk get classes of their own (:class:`StoreBusyError`, :class:`StoreFullError`),
which callers act on (try again later, make room). A file whose version is newer than this
release reads is refused before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, Self

from monitor.errors import StoreError

DEFAULT_BUSY_TIMEOUT_S = 5.0  # sqlite3's own default wait for another connection's lock
Synchronous = Literal["FULL", "NORMAL"]


class StoreBusyError(StoreError):
    """Another connection held the write lock longer than the busy timeout; try again later."""


class StoreFullError(StoreError):
    """The disk or the file's size limit is full (and, for the spool, nothing is left to prune)."""


class SqliteFile:
    """An open SQLite file of the store; closed by :meth:`close` or at the end of ``with``.

    Subclasses open ``_db`` (:func:`open_read_write`, :func:`open_read_only`) inside
    ``self._errors("open")`` and set ``_subject``, how messages name the file (``"spool
    PATH"``), in their ``__init__``; ``_advice`` is the advice of an error that is neither a
    lock nor a full disk (None: the :class:`StoreError` default).
    """

    _db: sqlite3.Connection
    _subject: str
    _advice: str | None = None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock up front, so a lock held elsewhere is
        # reported here (after the busy timeout) rather than half-way through a batch.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLITE_FULL has already rolled back by itself
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _failed(self, action: str) -> str:
        """What an error says failed, before its reason: ``could not read spool PATH``."""
        return f"could not {action} {self._subject}"

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Raise the :func:`store_error` of any ``sqlite3.Error`` inside the block."""
        try:
            yield
        except sqlite3.Error as error:
            advice = self._advice
            if advice is None and is_foreign_or_damaged(error):  # a file's own advice (a recording's) stays
                advice = damaged_advice(self._subject, str(getattr(self, "path", "")))
            raise store_error(self._failed(action), error, advice) from error


def open_read_write(
    path: str | Path,
    subject: str,
    *,
    synchronous: Synchronous,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    newest_version: int | None = None,
) -> sqlite3.Connection:
    """A read-write connection in WAL mode, the file created when missing.

    Parameters
    ----------
    path : str or Path
        The file (``":memory:"`` for a database in memory).
    subject : str
        How the refusal of a newer file names it, e.g. ``"spool PATH"``.
    synchronous : {"FULL", "NORMAL"}
        SQLite durability level: FULL survives a power loss, NORMAL a process crash.
    busy_timeout_s : float
        How long to wait for another connection's lock before failing, s.
    newest_version : int or None
        Refuse a file whose ``PRAGMA user_version`` is above it, before writing anything.

    Raises
    ------
    StoreError
        The file is newer than ``newest_version``.
    sqlite3.Error
        SQLite could not open it (the caller says what it was doing: :meth:`SqliteFile._errors`).
    """
    db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
    try:
        if newest_version is not None:
            check_version(subject, user_version(db), newest_version)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
    except BaseException:
        db.close()
        raise
    return db


def open_read_only(
    path: str | Path,
    subject: str,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    newest_version: int | None = None,
) -> sqlite3.Connection:
    """A read-only connection; ``immutable`` when ``mode=ro`` cannot open (read-only media).

    A WAL database opened ``mode=ro`` still needs its ``-shm`` file, which a read-only
    directory cannot create; ``immutable=1`` reads the file as it is, safe because nothing
    can be writing to a read-only medium. The file must exist. ``subject``,
    ``newest_version`` and the errors raised as in :func:`open_read_write`.
    """
    uri = Path(path).resolve().as_uri()
    last: sqlite3.Error | None = None
    for mode in ("mode=ro", "mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=busy_timeout_s, isolation_level=None)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            last = error
            continue
        if newest_version is not None:
            try:
                check_version(subject, user_version(db), newest_version)
            except StoreError:
                db.close()
                raise
        return db
    assert last is not None
    raise last


def where_clause(conditions: Iterable[tuple[str, object | None]]) -> tuple[str, list[object]]:
    """``" WHERE a AND b"`` of the conditions whose value is not None, and their parameters.

    Examples
    --------
    >>> where_clause([("time_ns >= ?", 5), ("patient = ?", None)])
    (' WHERE time_ns >= ?', [5])
    >>> where_clause([("time_ns < ?", None)])
    ('', [])
    """
    chosen = [(sql, value) for sql, value in conditions if value is not None]
    if not chosen:
        return "", []
    return " WHERE " + " AND ".join(sql for sql, _ in chosen), [value for _, value in chosen]


def user_version(db: sqlite3.Connection) -> int:
    """The file's ``PRAGMA user_version`` (0 in a file that never set it)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check_version(subject: str, found: int, newest: int) -> None:
    """Refuse, in one line, a file written by a newer release (version ``found`` > ``newest``)."""
    if found > newest:
        raise StoreError(
            f"{subject} has format version {found}, newer than this spasm-monitor reads ({newest})",
            "upgrade spasm-monitor; the file was left untouched",
        )


def is_foreign_or_damaged(error: sqlite3.Error) -> bool:
    """Whether ``error`` says the file is not SQLite, is damaged, or lacks this store's tables."""
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or str(error).startswith("no such table")


def damaged_advice(subject: str, path: str) -> str:
    """Advice for a file that is not this store's or is damaged: no permission or URL is at fault.

    ``subject`` names it (``"spool PATH"``); the write-ahead log beside it may hold the last
    writes, so a copy is taken with it.
    """
    kind = next((k for k in ("spool", "recording", "calibration") if k in subject), "database")
    wal = f"; a copy needs its {path}-wal file beside it" if path else ""
    return (
        f"this file is not a spasm-monitor {kind} or it is damaged: check the path, or restore"
        f" the {kind} from a backup{wal}"
    )


def store_error(failed: str, error: sqlite3.Error, advice: str | None = None) -> StoreError:
    """The one-line :class:`StoreError` of ``error``: ``failed`` (what failed), then why.

    A lock gives :class:`StoreBusyError` and a full disk :class:`StoreFullError`, each with
    its own advice; any other error takes ``advice``.
    """
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreBusyError(
            f"{failed}: the database is locked by another process or connection",
            "stop the other program that has the file open (two collectors on one spool?), or point "
            "the path at another file",
        )
    if name.startswith("SQLITE_FULL"):
        return StoreFullError(
            f"{failed}: the disk is full or the file reached its size limit",
            "free disk space, or raise the spool's max_file_bytes; nothing of this batch was written",
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")):
        return StoreError(f"{failed}: {error}", advice)
    return StoreError(f"{failed}: {error} ({name or 'sqlite error'})", advice)
