"""Offline EMG from a CSV file: a time column (s, ms or ISO 8601), then one column per channel.

Accepted layouts, with or without a header row (``time,gastrocnemius,soleus``), after any
number of comment lines starting with ``#`` (as BioSPPy and many loggers write them):

- a time column recognised by its header: ``time``, ``t``, ``timestamp``, ``datetime``,
  ``time_s`` or ``Time (s)`` in seconds; ``time_ms``/``t_ms``/``Time (ms)`` in ms;
  ``time_us`` in µs. Numbers are relative (``0.000, 0.001, ...``) or Unix epoch time (1e8 s
  or more, i.e. after 1973); a header that names time is never read as an EMG channel;
- ``time`` as ISO 8601 with a UTC offset (``2026-11-25T10:00:00.001+00:00`` or ``...Z``);
  a time without an offset is refused, as naive times are everywhere in the project;
- no header, no time column, with ``rate_hz`` given: every column is a channel. Without
  ``rate_hz`` the rate may come from a comment line (``# Sampling Rate (Hz):= 1000``,
  ``# fs=250 Hz``).

Times must lie between 1970 and 2262 (nanoseconds since 1970 in 64 bits, as every time in
the project). The channels' unit is the caller's (``units``, see :mod:`monitor.emg_units`).

An empty channel cell is a missing sample, read as NaN as a ``NaN`` or ``inf`` cell is: a gap
that the detector skips and that is not observed time (an empty *time* cell is refused). In
a file without a time column a sample's time is its place, so an empty line (or a row of
empty cells) between data rows is a missing sample too: skipping it would move every later
sample earlier. Empty lines before the first or after the last data row are not samples.

The time column must increase uniformly: the sample rate is the mean step, and a step that
differs from it by more than half a period is an error naming the row (a gap in a CSV
cannot be told from a typo). Every mistake raises :class:`~monitor.errors.ConfigError`
with one line naming the row (1-based, as an editor shows it) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

import numpy as np
import numpy.typing as npt

from monitor.emg_units import to_mv
from monitor.errors import ConfigError
from monitor.types import NS_PER_S

EPOCH_SECONDS_FROM = 1e8  # a time in s at least this large is Unix time (1973 onwards), not relative
# Text parsed at once (about 75,000 rows of two channels): a few MB of working memory, whatever
# the file's size, and chunks large enough that numpy's parser does the work.
CHUNK_BYTES = 2 * 1024 * 1024
MAX_STEP_DEVIATION = 0.5  # of the sample period: more is a gap or a typo, refused
# A time column's header (lower case, a unit in brackets turned into a suffix) and ns per unit.
TIME_HEADERS_NS = {
    **dict.fromkeys(("time", "t", "timestamp", "datetime", "time_s", "t_s", "timestamp_s"), NS_PER_S),
    **dict.fromkeys(("time_ms", "t_ms", "timestamp_ms"), 1_000_000),
    **dict.fromkeys(("time_us", "t_us", "timestamp_us", "time_µs"), 1_000),
}
# Times as int64 ns since 1970, the project's one representation, end early in 2262.
LAST_TIME_NS = np.iinfo(np.int64).max
_RATE_COMMENT = re.compile(
    r"(?:sampling[ _]?rate|sample[ _]?rate|sampling[ _]frequency|\bfs)"
    r"\s*(?:\(hz\))?\s*[:=]+\s*([0-9]+(?:\.[0-9]*)?)",
    re.IGNORECASE,
)
_ADVICE = "the CSV needs a time column (s, ms or ISO 8601) then one column per EMG channel"


class CsvError(ConfigError):
    """The CSV file cannot be read as EMG."""

    default_advice = _ADVICE


@dataclass(frozen=True)
class CsvEmg:
    """EMG read from a CSV file.

    Attributes
    ----------
    emg_mv : ndarray, shape (n, channels), float32
    sample_rate_hz : float
    t0_ns : int
        UTC time of the first sample (0 for relative times: the Unix epoch).
    channel_names : list of str
    absolute_time : bool
        Whether ``t0_ns`` is a real UTC time (epoch seconds or ISO), not a relative start.
    notes : tuple of str
        What the reader inferred and the user should know (a rate read from a comment).
    """

    emg_mv: npt.NDArray[np.float32]
    sample_rate_hz: float
    t0_ns: int
    channel_names: list[str]
    absolute_time: bool
    notes: tuple[str, ...] = ()


def read_emg_csv(
    path: str | Path, rate_hz: float | None = None, units: str = "mV", scale_mv: float | None = None
) -> CsvEmg:
    """Read and validate an EMG CSV file (layouts in the module docstring).

    The file is read :data:`CHUNK_BYTES` of text at a time, each chunk through numpy's C parser
    (a careful cell-by-cell walk only for a chunk it refuses, to name the culprit), and the
    time column is checked chunk by chunk without being kept: peak memory is about twice
    the EMG array returned, whatever the file's size or where its bad cell is.

    Parameters
    ----------
    path : str or Path
    rate_hz : float, optional
        Sample rate, Hz, for a file without a time column. With a time column it must
        agree with the time steps (within 1 %), or is an error.
    units : {"mV", "uV", "V", "counts"}
        The unit of the channels' numbers, converted to mV (:func:`monitor.emg_units.to_mv`).
    scale_mv : float, optional
        mV per ADC count, with ``units="counts"``.

    Raises
    ------
    CsvError
        Naming the row and column of the first problem.
    """
    path = Path(path)
    to_mv(np.zeros((0, 1), np.float32), units, scale_mv)  # a wrong unit is refused before the reading
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            emg = _read(path, file, rate_hz)
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file", "") from None
    except IsADirectoryError:
        raise CsvError(f"{path}: a folder, not a file", "") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CsvError(f"{path}: cannot read as text: {error}", "") from None
    to_mv(emg.emg_mv, units, scale_mv)
    return emg


def _read(path: Path, file: TextIO, rate_hz: float | None) -> CsvEmg:
    number, first, comments = _first_data_line(file)
    if not first:
        raise CsvError(f"{path}: empty file" if not comments else f"{path}: only comment lines, no data")
    first_cells = _cells(path, number, first)
    header = _header(first_cells)
    width = len(first_cells)
    notes: list[str] = []
    if header is None and rate_hz is None and (stated := _stated_rate(comments)) is not None:
        rate_hz, comment_line = stated  # a headerless file whose comment states its rate: all channels
        notes.append(
            f"sample rate {rate_hz:g} Hz from the comment on line {comment_line} (--rate-hz overrides)"
        )
    time_unit_ns = _time_column(path, header, rate_hz)
    peeked: list[str] = []  # the lines up to the first data row after a header
    if header is not None:
        while not (peeked and _holds_data(peeked[-1])) and (line := file.readline()):
            peeked.append(line)
        if time_unit_ns is None and peeked and _holds_data(peeked[-1]):
            cells = _cells(path, number + len(peeked), peeked[-1])
            if cells and _parse_iso(cells[0]) is not None:  # ISO 8601 times under any header
                time_unit_ns = NS_PER_S
    names = header or [f"column {i + 1}" for i in range(width)]
    layout = _Layout(path, names, 1 if time_unit_ns else 0, time_unit_ns or NS_PER_S)
    axis = _TimeAxis(path) if time_unit_ns else None
    chunks: list[npt.NDArray[np.float32]] = []
    pending = peeked if header else [first]
    start = number + 1 if header else number
    places = _PlaceKeeper() if not layout.first_column else None
    while lines := pending + file.readlines(CHUNK_BYTES):  # whole lines, about CHUNK_BYTES of them
        pending = []
        if not chunks and width <= layout.first_column:
            raise CsvError(f"{path}: no EMG column after the time column")
        parsed = layout.parse(start, lines)
        if places is not None:
            places.note_empty(start, lines, parsed.rows if parsed is not None else None)
        if parsed is not None:
            chunks.append(places.keep_places(parsed) if places is not None else parsed.values)
            if axis is not None and parsed.times_ns is not None:
                axis.add(parsed.times_ns, parsed.rows)
        start += len(lines)
    if not chunks:
        raise CsvError(f"{path}: no data rows after the header")
    emg = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    del chunks  # the chunks' memory goes before anything else is allocated
    channel_names = names[layout.first_column :]
    if axis is None:
        if rate_hz is None:
            raise CsvError(f"{path}: no time column", "give the sample rate with --rate-hz")
        if not (np.isfinite(rate_hz) and rate_hz > 0):
            raise CsvError(f"--rate-hz must be > 0, got {rate_hz}", "")
        return CsvEmg(emg, float(rate_hz), 0, channel_names, False, tuple(notes))
    absolute = axis.absolute or layout.numeric_time is False  # an ISO time is always a real one
    return CsvEmg(emg, axis.rate_hz(rate_hz), axis.t0_ns, channel_names, absolute, tuple(notes))


def _first_data_line(file: TextIO) -> tuple[int, str, list[tuple[int, str]]]:
    """(1-based line number, line) of the first line holding data ("" at the end of the file),
    and the comment lines before it with their numbers."""
    number = 0
    comments: list[tuple[int, str]] = []
    while line := file.readline():
        number += 1
        if _holds_data(line):
            return number, line, comments
        if line.lstrip().startswith("#"):
            comments.append((number, line))
    return number, "", comments


def _holds_data(line: str) -> bool:
    text = line.strip(" \t\r\n,")
    return bool(text) and not text.startswith("#")


def _stated_rate(comments: list[tuple[int, str]]) -> tuple[float, int] | None:
    """The sample rate, Hz, and its line, stated in a comment (``Sampling Rate (Hz):= 1000``)."""
    for number, line in comments:
        match = _RATE_COMMENT.search(line)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)), number
    return None


def _cells(path: Path, number: int, line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error as error:
        raise CsvError(f"{path}: row {number}: {error}") from None


class _PlaceKeeper:
    """In a file without times: a NaN row for each empty line between two data rows."""

    def __init__(self) -> None:
        self.last_row: int | None = None  # line number of the last data row so far
        self.empty: list[int] = []  # empty lines after it, pending a data row

    def note_empty(self, start: int, lines: list[str], rows: npt.NDArray[np.int64] | None) -> None:
        if rows is not None and rows.size == len(lines):
            return  # every line holds data: nothing to note (the common, fast case)
        self.empty += [
            start + i
            for i, line in enumerate(lines)
            if not _holds_data(line) and not line.lstrip().startswith("#")
        ]

    def keep_places(self, chunk: _Chunk) -> npt.NDArray[np.float32]:
        """The chunk's values with a NaN row before each data row for each empty line before it."""
        rows = chunk.rows
        # Empty lines before the file's first data row are no samples.
        after = self.last_row if self.last_row is not None else int(rows[0])
        empty = np.asarray(self.empty, dtype=np.int64)
        empty = empty[empty > after]
        before = np.searchsorted(empty, rows)  # empty lines before each data row
        self.empty = empty[before[-1] :].tolist()  # after the chunk's last data row: pending
        self.last_row = int(rows[-1])
        if before[-1] == 0:
            return chunk.values
        values = np.full((rows.size + int(before[-1]), chunk.values.shape[1]), np.nan, dtype=np.float32)
        values[np.arange(rows.size) + before] = chunk.values
        return values


class _Chunk(NamedTuple):
    """The rows of one chunk: times (ns; None without a time column), channels (mV), line numbers."""

    times_ns: npt.NDArray[np.int64] | None
    values: npt.NDArray[np.float32]
    rows: npt.NDArray[np.int64]


class _Layout:
    """How a data row splits into the time (if any) and the channels, and the parse of a chunk."""

    def __init__(self, path: Path, names: list[str], first_column: int, time_unit_ns: int) -> None:
        self.path = path
        self.names = names
        self.width = len(names)
        self.first_column = first_column  # 1 with a time column
        self.time_unit_ns = time_unit_ns  # of numeric times
        self.numeric_time: bool | None = None  # decided by the first data row

    def parse(self, start: int, lines: list[str]) -> _Chunk | None:
        """The rows of ``lines`` (the first is line ``start`` of the file); None if none holds data."""
        if self.first_column and self.numeric_time is None:
            first = next(((start + i, line) for i, line in enumerate(lines) if _holds_data(line)), None)
            if first is None:
                return None
            self.numeric_time = _is_number(_cells(self.path, *first)[0])
        if not self.first_column or self.numeric_time:
            try:
                block = np.loadtxt(
                    lines, delimiter=",", ndmin=2, comments="#", quotechar='"', dtype=np.float64
                )
            except ValueError:
                block = None
            # numpy skips empty lines: then the row numbers are those of the lines holding data.
            if block is not None and block.shape[1] == self.width:
                rows = np.arange(start, start + len(lines))
                if block.shape[0] != len(lines):
                    rows = rows[[_holds_data(line) for line in lines]]
                if rows.size != block.shape[0]:
                    return self._walk(start, lines)
                if not self.first_column:
                    return _Chunk(None, block.astype(np.float32), rows)
                times = block[:, 0] * self.time_unit_ns  # float64 ns
                if np.all(np.abs(times) < LAST_TIME_NS):  # also False for NaN: the walk names it
                    return _Chunk(np.round(times).astype(np.int64), block[:, 1:].astype(np.float32), rows)
        return self._walk(start, lines)

    def _walk(self, start: int, lines: list[str]) -> _Chunk | None:
        """The careful row-by-row parse: reads ISO times, or names the first bad row and column."""
        rows = [
            (start + i, _cells(self.path, start + i, line))
            for i, line in enumerate(lines)
            if _holds_data(line)
        ]
        if not rows:
            return None
        for number, row in rows:
            if len(row) != self.width:
                raise CsvError(f"{self.path}: row {number} has {len(row)} columns, expected {self.width}")
        values = self._numbers(rows)
        numbers = np.array([number for number, _ in rows])
        if not self.first_column:
            return _Chunk(None, values, numbers)
        return _Chunk(self._times_ns([(number, row[0]) for number, row in rows]), values, numbers)

    def _numbers(self, rows: list[tuple[int, list[str]]]) -> npt.NDArray[np.float32]:
        # An empty cell is a missing sample, as NaN is: a gap, reported, never a refused file.
        cells = [[cell if cell.strip() else "nan" for cell in row[self.first_column :]] for _, row in rows]
        try:
            return np.array(cells, dtype=np.float64).astype(np.float32)
        except ValueError:
            pass
        for number, row in rows:
            for column in range(self.first_column, len(row)):
                if row[column].strip() and not _is_number(row[column]):
                    raise CsvError(
                        f"{self.path}: row {number}, column {self.names[column]!r}:"
                        f" {row[column].strip()!r} is not a number"
                    )
        raise CsvError(f"{self.path}: unreadable numbers")  # pragma: no cover - the walk finds it

    def _times_ns(self, cells: list[tuple[int, str]]) -> npt.NDArray[np.int64]:
        name = self.names[0]
        if self.numeric_time:
            unit = {NS_PER_S: "s", 1_000_000: "ms", 1_000: "µs"}[self.time_unit_ns]
            for number, cell in cells:
                if not _is_number(cell) or not np.isfinite(float(cell)):
                    raise CsvError(
                        f"{self.path}: row {number}, column {name!r}:"
                        f" {cell.strip()!r} is not a time in {unit}"
                    )
                if abs(float(cell) * self.time_unit_ns) >= LAST_TIME_NS:
                    raise _out_of_range(self.path, number, name, cell)
            values = np.array([cell for _, cell in cells], dtype=np.float64)
            return np.round(values * self.time_unit_ns).astype(np.int64)
        times = []
        for number, cell in cells:
            when = _parse_iso(cell)
            if when is None:
                raise CsvError(
                    f"{self.path}: row {number}, column {name!r}: {cell.strip()!r} is not a time"
                    " (seconds, or ISO 8601 like 2026-11-25T10:00:00.001Z)"
                )
            if when.tzinfo is None:
                raise CsvError(
                    f"{self.path}: row {number}, column {name!r}: {cell.strip()!r} has no UTC offset",
                    "add Z or +hh:mm to every time: naive times are ambiguous",
                )
            delta = when - _EPOCH
            time_ns = (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000
            if not 0 <= time_ns < LAST_TIME_NS:
                raise _out_of_range(self.path, number, name, cell)
            times.append(time_ns)
        return np.array(times, dtype=np.int64)


def _out_of_range(path: Path, number: int, name: str, cell: str) -> CsvError:
    return CsvError(
        f"{path}: row {number}, column {name!r}: {cell.strip()!r} is outside 1970-2262,"
        " the times spasm-monitor can hold",
        "check the file's dates: some exports write the year 9999 for a missing time",
    )


class _TimeAxis:
    """The time column, checked chunk by chunk for uniform steps and not kept.

    The typical step is the median of the first chunk's steps (robust to the one gap
    being looked for); the sample rate is the mean step over the whole file (the most
    precise), from the first and last time and the row count.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.t0_ns = 0
        self.last_ns: int | None = None
        self.n_rows = 0
        self.absolute = False
        self.typical_ns: float | None = None

    def add(self, times_ns: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]) -> None:
        if self.last_ns is None:
            self.t0_ns = int(times_ns[0])
            # Epoch seconds (1973 onwards): a real UTC time, not a relative start.
            self.absolute = self.t0_ns >= EPOCH_SECONDS_FROM * NS_PER_S
            steps_ns, step_rows = np.diff(times_ns), rows[1:]
        else:  # the step from the previous chunk's last time counts too
            steps_ns, step_rows = np.diff(times_ns, prepend=np.int64(self.last_ns)), rows
        if self.typical_ns is None and steps_ns.size:
            self.typical_ns = float(np.median(steps_ns))
        if self.typical_ns is not None:
            deviates = np.abs(steps_ns - self.typical_ns) > MAX_STEP_DEVIATION * self.typical_ns
            bad = np.flatnonzero((steps_ns <= 0) | deviates)
            if bad.size:
                self._refuse(int(bad[0]), steps_ns, step_rows, times_ns)
        self.last_ns = int(times_ns[-1])
        self.n_rows += times_ns.size

    def _refuse(
        self,
        index: int,
        steps_ns: npt.NDArray[np.int64],
        step_rows: npt.NDArray[np.int64],
        times_ns: npt.NDArray[np.int64],
    ) -> None:
        step_s = steps_ns[index] / NS_PER_S
        after_ns = int(times_ns[index + (times_ns.size - steps_ns.size)])
        if step_s <= 0:
            raise CsvError(
                f"{self.path}: row {step_rows[index]}: time does not increase ({after_ns / NS_PER_S:.9g} s"
                f" after {(after_ns - steps_ns[index]) / NS_PER_S:.9g} s)",
                "times must increase row by row, with enough digits to tell samples apart",
            )
        assert self.typical_ns is not None
        raise CsvError(
            f"{self.path}: row {step_rows[index]}: time jumps by {step_s:g} s"
            f" (sample period {self.typical_ns / NS_PER_S:g} s)",
            "the file must be sampled uniformly, without gaps: split it at the gap",
        )

    def rate_hz(self, rate_hz: float | None) -> float:
        """The mean sample rate, Hz; checked against ``rate_hz`` when one was given."""
        if self.n_rows < 2 or self.last_ns is None:
            if rate_hz is not None and rate_hz > 0:
                return rate_hz  # one row: too short to analyse, which the caller says
            raise CsvError(f"{self.path}: one data row: a sample rate needs two times", "or give --rate-hz")
        period_ns = float(self.last_ns - self.t0_ns) / (self.n_rows - 1)
        measured_hz = NS_PER_S / period_ns
        if rate_hz is not None and abs(measured_hz - rate_hz) > 0.01 * rate_hz:
            raise CsvError(
                f"{self.path}: --rate-hz {rate_hz:g} disagrees with the time column ({measured_hz:.6g} Hz)",
                "",
            )
        return measured_hz


def _header(row: list[str]) -> list[str] | None:
    """The row as column names if it is a header (any cell that is neither a number nor a time)."""
    for i, cell in enumerate(row):
        if _is_number(cell) or (i == 0 and _parse_iso(cell) is not None):
            continue
        return [cell.strip() for cell in row]
    return None


def _time_column(path: Path, header: list[str] | None, rate_hz: float | None) -> int | None:
    """ns per unit of the first column if it holds time, else None.

    A header names it; a headerless file's first column is time unless a rate was given.
    A time column elsewhere is refused: read as a channel it would be a phantom muscle.
    """
    if header is None:
        return NS_PER_S if rate_hz is None else None
    for index, name in enumerate(header[1:], start=2):
        if _time_header_ns(name) is not None:
            raise CsvError(
                f"{path}: column {index} ({name!r}) holds time, but time must be the first column",
                "move the time column first, or delete it and give --rate-hz",
            )
    return _time_header_ns(header[0])


def _time_header_ns(name: str) -> int | None:
    """ns per unit for a time column's header (``time_ms``, ``Time (s)``), None for any other."""
    key = re.sub(r"\s*[(\[]\s*([^)\]]*?)\s*[)\]]\s*$", r"_\1", name.strip().lower())
    return TIME_HEADERS_NS.get(key.replace(" ", "_"))


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_iso(cell: str) -> dt.datetime | None:
    text = cell.strip()
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
