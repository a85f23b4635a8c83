"""Offline EMG from a CSV file: a time column (s or ISO 8601), then one column per channel, mV.

Accepted layouts, with or without a header row (``time,gastrocnemius,soleus``):

- ``time`` in seconds: relative (``0.000, 0.001, ...``) or Unix epoch seconds (a value of
  1e8 s or more, i.e. after 1973, is taken as epoch time);
- ``time`` as ISO 8601 with a UTC offset (``2026-11-25T10:00:00.001+00:00`` or ``...Z``);
  a time without an offset is refused, as naive times are everywhere in the project;
- no time column at all, with ``rate_hz`` given: every column is a channel.

The time column must increase uniformly: the sample rate is the mean step, and a step that
differs from it by more than half a period is an error naming the row (a gap in a CSV
cannot be told from a typo). Every mistake raises :class:`~monitor.errors.ConfigError`
with one line naming the row (1-based, as an editor shows it) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monitor.errors import ConfigError
from monitor.types import NS_PER_S

EPOCH_SECONDS_FROM = 1e8  # a time in s at least this large is Unix time (1973 onwards), not relative
MAX_STEP_DEVIATION = 0.5  # of the sample period: more is a gap or a typo, refused
TIME_HEADERS = ("time", "t", "timestamp", "datetime", "time_s", "t_s")
_ADVICE = "the CSV needs a time column (s or ISO 8601) then one column per EMG channel in mV"


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
    """

    emg_mv: npt.NDArray[np.float32]
    sample_rate_hz: float
    t0_ns: int
    channel_names: list[str]
    absolute_time: bool


def read_emg_csv(path: str | Path, rate_hz: float | None = None) -> CsvEmg:
    """Read and validate an EMG CSV file (layouts in the module docstring).

    Parameters
    ----------
    path : str or Path
    rate_hz : float, optional
        Sample rate, Hz, for a file without a time column. With a time column it must
        agree with the time steps (within 1 %), or is an error.

    Raises
    ------
    CsvError
        Naming the row and column of the first problem.
    """
    path = Path(path)
    fast = _read_numeric(path, rate_hz)
    if fast is not None:
        return fast
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file", "") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CsvError(f"{path}: cannot read as text: {error}", "") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise CsvError(f"{path}: empty file")
    header = _header(rows[0])
    first_data_row = 2 if header else 1  # 1-based line of the first data row, for messages
    body = rows[1:] if header else rows
    if not body:
        raise CsvError(f"{path}: no data rows after the header")
    width = len(header) if header else len(body[0])
    for index, row in enumerate(body):
        if len(row) != width:
            raise CsvError(f"{path}: row {index + first_data_row} has {len(row)} columns, expected {width}")
    has_time = _has_time_column(header, rate_hz)
    names = header or [f"column {i + 1}" for i in range(width)]
    channel_names = names[1:] if has_time else names
    if not channel_names:
        raise CsvError(f"{path}: no EMG column after the time column")
    values = _numbers(path, body, names, 1 if has_time else 0, first_data_row)
    if not has_time:
        if rate_hz is None:
            raise CsvError(f"{path}: no time column", "give the sample rate with --rate-hz")
        if not rate_hz > 0:
            raise CsvError(f"--rate-hz must be > 0, got {rate_hz}", "")
        return CsvEmg(values, float(rate_hz), 0, channel_names, False)
    times_ns, absolute = _times_ns(path, [row[0] for row in body], names[0], first_data_row)
    return CsvEmg(values, _rate_hz(path, times_ns, rate_hz, first_data_row), int(times_ns[0]), channel_names,
                  absolute)  # fmt: skip


def _read_numeric(path: Path, rate_hz: float | None) -> CsvEmg | None:
    """The common case through numpy's C parser, without a Python object per cell.

    Returns None for anything unusual (ISO times, a bad cell, ragged rows): the careful
    row-by-row reader then either reads it or names the problem.
    """
    try:
        with path.open(encoding="utf-8-sig") as file:
            lines = [line for _, line in zip(range(2), file, strict=False)]
        first = next(csv.reader(lines[:1]), [])
        header = _header(first)
        if not first or (header is None and not all(_is_number(cell) for cell in first)):
            return None
        if len(lines) < 2 and header is not None:
            return None
        values = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, ndmin=2, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError, StopIteration):
        return None
    if header is not None and len(header) != values.shape[1]:
        return None
    has_time = _has_time_column(header, rate_hz)
    names = header or [f"column {i + 1}" for i in range(values.shape[1])]
    first_row = 2 if header else 1
    if values.shape[0] == 0 or values.shape[1] < 1 + has_time or not has_time:
        if has_time or rate_hz is None or not rate_hz > 0:
            return None
        return CsvEmg(values.astype(np.float32), float(rate_hz), 0, names, False)
    seconds = values[:, 0]
    if not np.all(np.isfinite(seconds)):
        return None
    times_ns = np.round(seconds * NS_PER_S).astype(np.int64)
    rate = _rate_hz(path, times_ns, rate_hz, first_row)
    return CsvEmg(values[:, 1:].astype(np.float32), rate, int(times_ns[0]), names[1:],
                  bool(seconds[0] >= EPOCH_SECONDS_FROM))  # fmt: skip


def _header(row: list[str]) -> list[str] | None:
    """The row as column names if it is a header (any cell that is neither a number nor a time)."""
    for i, cell in enumerate(row):
        if _is_number(cell) or (i == 0 and _parse_iso(cell) is not None):
            continue
        return [cell.strip() for cell in row]
    return None


def _has_time_column(header: list[str] | None, rate_hz: float | None) -> bool:
    if header is not None:
        return header[0].strip().lower() in TIME_HEADERS
    return rate_hz is None  # headerless: the first column is time unless a rate was given


def _numbers(
    path: Path, body: list[list[str]], names: list[str], first_column: int, first_row: int
) -> npt.NDArray[np.float32]:
    try:
        # Fast path: the C parser; only when it fails is the file walked for the culprit.
        return np.array([row[first_column:] for row in body], dtype=np.float64).astype(np.float32)
    except ValueError:
        pass
    for index, row in enumerate(body):
        for column in range(first_column, len(row)):
            if not _is_number(row[column]):
                raise CsvError(
                    f"{path}: row {index + first_row}, column {names[column]!r}:"
                    f" {row[column].strip()!r} is not a number (mV)"
                )
    raise CsvError(f"{path}: unreadable numbers")  # pragma: no cover - the walk finds it


def _times_ns(path: Path, cells: list[str], name: str, first_row: int) -> tuple[npt.NDArray[np.int64], bool]:
    if _is_number(cells[0]):
        try:
            seconds = np.array(cells, dtype=np.float64)
        except ValueError:
            seconds = np.empty(0)
        if seconds.size == len(cells) and np.all(np.isfinite(seconds)):
            return np.round(seconds * NS_PER_S).astype(np.int64), bool(seconds[0] >= EPOCH_SECONDS_FROM)
        for index, cell in enumerate(cells):
            if not _is_number(cell) or not np.isfinite(float(cell)):
                raise CsvError(
                    f"{path}: row {index + first_row}, column {name!r}: {cell.strip()!r} is not a time in s"
                )
    times = []
    for index, cell in enumerate(cells):
        when = _parse_iso(cell)
        if when is None:
            raise CsvError(
                f"{path}: row {index + first_row}, column {name!r}: {cell.strip()!r} is not a time"
                " (seconds, or ISO 8601 like 2026-11-25T10:00:00.001Z)"
            )
        if when.tzinfo is None:
            raise CsvError(
                f"{path}: row {index + first_row}, column {name!r}: {cell.strip()!r} has no UTC offset",
                "add Z or +hh:mm to every time: naive times are ambiguous",
            )
        delta = when - _EPOCH
        times.append((delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000)
    return np.array(times, dtype=np.int64), True


def _rate_hz(path: Path, times_ns: npt.NDArray[np.int64], rate_hz: float | None, first_row: int) -> float:
    if times_ns.size < 2:
        raise CsvError(f"{path}: one data row: a sample rate needs two times", "or give --rate-hz")
    steps_ns = np.diff(times_ns)
    bad = np.flatnonzero(steps_ns <= 0)
    typical_ns = float(np.median(steps_ns))  # robust to the one gap being looked for
    if not bad.size:
        bad = np.flatnonzero(np.abs(steps_ns - typical_ns) > MAX_STEP_DEVIATION * typical_ns)
    if bad.size:
        row = int(bad[0]) + 1 + first_row
        step_s = steps_ns[bad[0]] / NS_PER_S
        if step_s <= 0:
            raise CsvError(
                f"{path}: row {row}: time does not increase ({times_ns[bad[0] + 1] / NS_PER_S:.9g} s"
                f" after {times_ns[bad[0]] / NS_PER_S:.9g} s)",
                "times must increase row by row, with enough digits to tell samples apart",
            )
        raise CsvError(
            f"{path}: row {row}: time jumps by {step_s:g} s (sample period {typical_ns / NS_PER_S:g} s)",
            "the file must be sampled uniformly, without gaps: split it at the gap",
        )
    period_ns = float(times_ns[-1] - times_ns[0]) / (times_ns.size - 1)  # the mean: most precise
    measured_hz = NS_PER_S / period_ns
    if rate_hz is not None and abs(measured_hz - rate_hz) > 0.01 * rate_hz:
        raise CsvError(
            f"{path}: --rate-hz {rate_hz:g} disagrees with the time column ({measured_hz:.6g} Hz)", ""
        )
    return measured_hz


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
