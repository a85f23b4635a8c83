"""Recording files: raw Frames and the collector's Records in one SQLite file, replayable.

``spasm-monitor record`` writes one; ``replay`` and ``analyze`` read it. The file is a plain
SQLite database (WAL mode, stdlib ``sqlite3``), so it can be opened with any SQLite tool:

- ``items``: one row per Frame or Record, ``id`` in arrival order. A Frame keeps its stream
  (device, sensor), kind, rate, ``t0_ns``, sequence range and samples as a little-endian
  float32 blob with its shape (n, channels); a Record keeps its JSON (measurement, time,
  fields, tags). ``time_ns`` is the frame's first sample or the record's time, indexed.
- ``meta``: key/value text: format version, creation time, app version and a snapshot of
  the configuration that recorded it (``[patient]``, ``[[device]]``, ``[ble]``, ``[dsp]``
  only: never the store, Grafana or alert sections, which name secrets).

Durability: the writer buffers at most ``batch_items`` items or ``batch_s`` seconds and
commits them in one transaction, so memory is bounded and a kill -9 loses at most the
uncommitted batch; everything committed stays readable (``synchronous=NORMAL`` in WAL mode
survives a process crash; only a power loss may roll back the last commits).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import StoreError
from monitor.store.sqlite import (
    DEFAULT_BUSY_TIMEOUT_S,
    SqliteFile,
    check_version,
    open_read_write,
    where_clause,
)
from monitor.types import Frame, Record, SensorKind, StreamId

FORMAT = "spasm-monitor recording"
FORMAT_VERSION = 1
DEFAULT_BATCH_ITEMS = 500  # about 1 s of four 1 kHz wearables' notifications
DEFAULT_BATCH_S = 1.0  # at most this much is lost at a kill -9
READ_CHUNK_ROWS = 256  # rows fetched at a time: reading is bounded whatever the file size
_SAMPLE_DTYPE = np.dtype("<f4")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order
    time_ns INTEGER NOT NULL,              -- frame: first sample; record: its time
    device TEXT NOT NULL,                  -- record: its device tag, '' when none
    sensor TEXT,                           -- NULL for a record
    kind TEXT,                             -- SensorKind value; NULL for a record
    rate_hz REAL,
    seq_first INTEGER,
    seq_last INTEGER,
    n_samples INTEGER,
    channels INTEGER,
    samples BLOB,                          -- little-endian float32, row-major (n, channels)
    record TEXT                            -- JSON of a record; NULL for a frame
);
CREATE INDEX IF NOT EXISTS items_time ON items(time_ns, id);
"""
_INSERT = (
    "INSERT INTO items (time_ns, device, sensor, kind, rate_hz, seq_first, seq_last, n_samples,"
    " channels, samples, record) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_COLUMNS = (
    "id, time_ns, device, sensor, kind, rate_hz, seq_first, seq_last, n_samples, channels, samples, record"
)
_Row = tuple[Any, ...]
_DAMAGED_ADVICE = (
    "the file is damaged; `sqlite3 FILE .recover | sqlite3 NEW` saves what is readable,"
    " and NEW can be replayed or analysed"
)


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """What a recording holds, without reading its samples."""

    n_frames: int
    n_records: int
    first_ns: int | None
    last_ns: int | None
    streams: tuple[tuple[str, str, str, float, int], ...]  # device, sensor, kind, rate_hz, frames

    @property
    def n_items(self) -> int:
        return self.n_frames + self.n_records


class _RecordingFile(SqliteFile):
    """What the writer and the reader share: the path, and how errors name the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._subject = f"{self.path}: the recording"

    def _failed(self, action: str) -> str:
        return f"{self.path}: cannot {action} the recording"


class RecordingWriter(_RecordingFile):
    """Append Frames and Records to a new recording file, committing in batches.

    Parameters
    ----------
    path : str or Path
        The file to create; an existing file is refused (a recording is never overwritten).
    config_snapshot : mapping, optional
        Secret-free configuration to keep with the data (JSON-serialisable).
    app_version : str
        Version of spasm-monitor that recorded it.
    batch_items, batch_s : int, float
        Commit when this many items are buffered or the oldest is this old, s.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.sqlite"
    >>> with RecordingWriter(path) as writer:
    ...     writer.append(Frame(StreamId("d", "emg"), SensorKind.EMG, 1000.0, 0, 0, 0, np.ones((4, 1))))
    >>> [type(item).__name__ for item in RecordingReader(path)]
    ['Frame']
    """

    def __init__(
        self,
        path: str | Path,
        config_snapshot: Mapping[str, Any] | None = None,
        app_version: str = "",
        *,
        batch_items: int = DEFAULT_BATCH_ITEMS,
        batch_s: float = DEFAULT_BATCH_S,
    ) -> None:
        super().__init__(path)
        if self.path.exists():
            raise StoreError(f"{self.path}: already exists", "choose a new file name for the recording")
        self.batch_items = batch_items
        self.batch_s = batch_s
        self.n_frames = 0
        self.n_records = 0
        self._rows: list[_Row] = []
        self._oldest_s = 0.0
        meta = {
            "format": FORMAT,
            "format_version": str(FORMAT_VERSION),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "app_version": app_version,
            "config": json.dumps(dict(config_snapshot or {}), sort_keys=True),
        }
        with self._errors("create"):
            self._db = open_read_write(self.path, self._subject, synchronous="NORMAL")
            self._db.executescript(_SCHEMA)
            with self._transaction():
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())

    def append(self, item: Frame | Record) -> None:
        """Buffer one Frame or Record; commits when the batch is full or old enough."""
        if not self._rows:
            self._oldest_s = time.monotonic()
        if isinstance(item, Frame):
            self._rows.append(_frame_row(item))
            self.n_frames += 1
        else:
            self._rows.append(_record_row(item))
            self.n_records += 1
        if len(self._rows) >= self.batch_items or time.monotonic() - self._oldest_s >= self.batch_s:
            self.commit()

    def commit(self) -> None:
        """Write the buffered items in one transaction."""
        if not self._rows:
            return
        with self._errors("write"), self._transaction():
            self._db.executemany(_INSERT, self._rows)
        self._rows.clear()

    def close(self) -> None:
        """Commit what is buffered and close the file (closed even when the commit fails)."""
        try:
            self.commit()
        finally:
            super().close()


class RecordingReader(_RecordingFile):
    """Read a recording: its metadata, and its items in arrival or time order.

    Iterating the reader yields every item in arrival order; :meth:`items` takes a time
    range and ``by_time``. Rows are fetched a chunk at a time, so memory stays bounded.
    """

    _advice = _DAMAGED_ADVICE  # a read that fails: SQLite found a damaged page

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        if not self.path.is_file():
            raise StoreError(
                f"{self.path}: no such recording", "give the file written by `spasm-monitor record`"
            )
        try:
            # Read-write open on purpose: a read-only one cannot recover the WAL of a file whose
            # writer was killed, and this class never writes (not even the WAL pragma: the file
            # may be any SQLite database, not yet known to be a recording).
            self._db = sqlite3.connect(self.path, timeout=DEFAULT_BUSY_TIMEOUT_S, isolation_level=None)
            self.meta: dict[str, str] = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error:
            raise StoreError(
                f"{self.path}: not a spasm-monitor recording", "give a file written by `spasm-monitor record`"
            ) from None
        if self.meta.get("format") != FORMAT:
            raise StoreError(f"{self.path}: not a spasm-monitor recording")
        version = self.meta.get("format_version", "0")
        if not version.isdigit():
            raise StoreError(f"{self.path}: unreadable recording format version {version!r}", _DAMAGED_ADVICE)
        check_version(self._subject, int(version), FORMAT_VERSION)

    @property
    def config(self) -> dict[str, Any]:
        """The configuration snapshot kept with the data."""
        try:
            snapshot = json.loads(self.meta.get("config", "{}"))
        except ValueError:
            snapshot = None
        if not isinstance(snapshot, dict):
            raise StoreError(
                f"{self.path}: the configuration kept in the recording is damaged", _DAMAGED_ADVICE
            )
        return snapshot

    def summary(self) -> RecordingSummary:
        """Counts, time span and streams of the recording."""
        with self._errors("read"):
            n_frames, n_records, first, last = self._db.execute(
                "SELECT SUM(record IS NULL), SUM(record IS NOT NULL), MIN(time_ns), MAX(time_ns) FROM items"
            ).fetchone()
            streams = self._db.execute(
                "SELECT device, sensor, kind, rate_hz, COUNT(*) FROM items WHERE record IS NULL"
                " GROUP BY device, sensor, kind, rate_hz ORDER BY device, sensor"
            ).fetchall()
        return RecordingSummary(int(n_frames or 0), int(n_records or 0), first, last, tuple(streams))

    def items(
        self, start_ns: int | None = None, stop_ns: int | None = None, *, by_time: bool = False
    ) -> Iterator[Frame | Record]:
        """Items with ``start_ns <= time_ns < stop_ns``, in arrival order or by time."""
        where, params = where_clause([("time_ns >= ?", start_ns), ("time_ns < ?", stop_ns)])
        sql = f"SELECT {_COLUMNS} FROM items{where}"
        sql += " ORDER BY time_ns, id" if by_time else " ORDER BY id"
        # A damaged page is found only when SQLite reads there, so the whole loop is guarded.
        with self._errors("read"):
            cursor = self._db.execute(sql, params)
            while rows := cursor.fetchmany(READ_CHUNK_ROWS):
                for row in rows:
                    yield _item(self.path, row)

    def __iter__(self) -> Iterator[Frame | Record]:
        return self.items()


def is_recording(path: str | Path) -> bool:
    """True if ``path`` is an SQLite file (by its header), so to be read as a recording."""
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _frame_row(frame: Frame) -> _Row:
    samples = np.ascontiguousarray(frame.samples, dtype=_SAMPLE_DTYPE)
    return (
        frame.t0_ns, frame.stream.device, frame.stream.sensor, str(frame.kind), frame.sample_rate_hz,
        frame.seq_first, frame.seq_last, samples.shape[0], samples.shape[1], samples.tobytes(), None,
    )  # fmt: skip


def _record_row(record: Record) -> _Row:
    text = json.dumps(
        {
            "measurement": record.measurement,
            "time_ns": record.time_ns,
            "fields": record.fields,
            "tags": record.tags,
        }
    )
    return (record.time_ns, record.tags.get("device", ""), *(None,) * 8, text)


def _item(path: Path, row: _Row) -> Frame | Record:
    """The Frame or Record of one row; a row no writer could have made is a :class:`StoreError`."""
    item_id, time_ns, device, sensor, kind, rate_hz, seq_first, seq_last, n, channels, blob, record = row
    try:
        if record is not None:
            data = json.loads(record)
            return Record(
                str(data["measurement"]), int(data["time_ns"]), dict(data["fields"]), dict(data["tags"])
            )
        if not isinstance(blob, bytes) or len(blob) != int(n) * int(channels) * _SAMPLE_DTYPE.itemsize:
            raise ValueError(
                f"{len(blob) if isinstance(blob, bytes) else 'no'} sample bytes for {n}x{channels}"
            )
        samples = np.frombuffer(blob, dtype=_SAMPLE_DTYPE).reshape(int(n), int(channels))
        return Frame(
            StreamId(str(device), str(sensor)), SensorKind(kind), float(rate_hz), int(time_ns),
            int(seq_first), int(seq_last), samples,
        )  # fmt: skip
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
        reason = " ".join(str(error).split())[:120]
        raise StoreError(
            f"{path}: item {item_id} is damaged ({type(error).__name__}: {reason})", _DAMAGED_ADVICE
        ) from None
