"""``analyze`` reads a large CSV in chunks: bounded memory even when its last row is bad (issue 13.11e).

Before, one bad cell in the last row sent the whole file through a list of Python strings
(a 200 MB file peaked at 4.5 GB). Peak memory is measured with tracemalloc (numpy reports
its arrays to it) against the float32 EMG array the file holds.
"""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from monitor import emg_csv
from monitor.emg_csv import CsvError, read_emg_csv

N_ROWS = 200_000
CHANNELS = 2
SMALL_CHUNK_BYTES = 64 * 1024  # many chunks from a test-sized file, so the bound is about the array


def write_csv(path: Path, n_rows: int, last_row: str | None = None, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    table = np.column_stack([np.arange(n_rows) / 1000.0, rng.normal(0.0, 0.05, (n_rows, CHANNELS))])
    with path.open("w") as file:
        file.write("time,gastrocnemius,soleus\n")
        np.savetxt(file, table, fmt="%.3f,%.6f,%.6f")
        if last_row is not None:
            file.write(last_row + "\n")
    return path


def peak_bytes(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(CsvError):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("last_row", [None, f"{N_ROWS / 1000:.3f},0.1,oops"], ids=["clean", "bad last cell"])
def test_peak_memory_stays_within_three_times_the_float_array(
    last_row: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emg_csv, "CHUNK_BYTES", SMALL_CHUNK_BYTES, raising=False)  # absent before the fix
    path = write_csv(tmp_path / "big.csv", N_ROWS, last_row)
    float_array_bytes = N_ROWS * CHANNELS * np.dtype(np.float32).itemsize
    peak = peak_bytes(lambda: read_emg_csv(path))
    assert peak <= 3 * float_array_bytes, (
        f"peak {peak / 1e6:.1f} MB for a {float_array_bytes / 1e6:.1f} MB array"
    )
    if last_row is not None:
        with pytest.raises(CsvError, match=rf"row {N_ROWS + 2}, column 'soleus': 'oops' is not a number"):
            read_emg_csv(path)


def test_chunked_reading_equals_one_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "emg.csv", 5_000)
    whole = read_emg_csv(path)
    monkeypatch.setattr(emg_csv, "CHUNK_BYTES", 1_000)  # about 35 rows a chunk
    chunked = read_emg_csv(path)
    assert np.array_equal(chunked.emg_mv, whole.emg_mv)
    assert chunked.emg_mv.shape == (5_000, CHANNELS)
    assert chunked.sample_rate_hz == whole.sample_rate_hz == pytest.approx(1000.0)
    assert (chunked.t0_ns, chunked.channel_names) == (whole.t0_ns, ["gastrocnemius", "soleus"])


@pytest.mark.parametrize("gap_row", [3, 36, 37, 38, 200])
def test_a_gap_is_found_on_its_row_wherever_the_chunks_split(
    gap_row: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emg_csv, "CHUNK_BYTES", 1_000)
    lines = ["time,ch0"] + [f"{i / 1000 + (0.05 if i + 2 >= gap_row else 0):.3f},0.1" for i in range(300)]
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CsvError, match=rf"row {gap_row}: time jumps by 0.051 s"):
        read_emg_csv(path)


def test_blank_lines_keep_the_row_numbers_an_editor_shows(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("time,ch0\n0.000,0.1\n\n0.001,0.2\n\n0.002,zero\n")
    with pytest.raises(CsvError, match=r"row 6, column 'ch0': 'zero'"):
        read_emg_csv(path)
    path.write_text("time,ch0\r\n0.000,0.1\r\n\r\n0.001,0.2\r\n0.002,0.3\r\n")
    assert read_emg_csv(path).emg_mv[:, 0].tolist() == pytest.approx([0.1, 0.2, 0.3])


@pytest.mark.parametrize("chunk_bytes", [1_000, 64 * 1024])
def test_an_empty_line_in_a_file_without_times_is_a_missing_sample_not_a_shift(
    chunk_bytes: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a time column a sample's time is its place: dropping an empty line would
    move every later sample one period early and shorten the file."""
    monkeypatch.setattr(emg_csv, "CHUNK_BYTES", chunk_bytes)
    values = [f"{i / 1000:.3f}" for i in range(300)]
    lines = ["", *values[:100], "", "# a note, not a sample", *values[100:200], ",", *values[200:], "", ""]
    path = tmp_path / "one_column.csv"
    path.write_text("\n".join(lines) + "\n")
    emg = read_emg_csv(path, rate_hz=1000.0).emg_mv[:, 0]
    assert emg.shape == (302,)  # 300 samples, 2 missing; leading and trailing empty lines are none
    assert np.isnan(emg[[100, 201]]).all()
    assert np.count_nonzero(np.isnan(emg)) == 2
    assert emg[202] == pytest.approx(0.2)  # sample 200 keeps its place after the 2 gaps
