"""``analyze`` reads real files as they come (issue 15.4).

The two public recordings in tests/data (see its README) are read as they are: BioSPPy's
with four ``#`` header lines and raw 12-bit ADC counts, emgGO's with a ``#`` line and µV.
Synthetic files check the time column by its header (``time_ms`` was a phantom EMG channel
with a 19 s "spasm"), the unit conversions, and the messages for files that cannot be
analysed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monitor.cli import main
from monitor.dsp import detect_spasms
from monitor.emg_csv import read_emg_csv
from monitor.synth import EmgScenario, SyntheticEmg, generate_emg
from monitor.types import NS_PER_S
from tests.test_real_recordings import BIOSPPY_CONTRACTIONS_S, BIOSPPY_REST_S

DATA = Path(__file__).parent / "data"
EMGGO = DATA / "emggo_sample_TA_250Hz.csv"
BIOSPPY = DATA / "biosppy_emg_1.txt"
RATE_HZ = 250.0


def analyze(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object], str]:
    """Exit code, the JSON document (empty on failure) and stderr of ``analyze ARGV --format json``."""
    code = main(["analyze", *argv, "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, (json.loads(captured.out) if code == 0 else {}), captured.err


def spans_s(document: dict[str, object]) -> list[tuple[float, float]]:
    events = document["events"]
    assert isinstance(events, list)
    return [(e["onset_s"], e["onset_s"] + e["duration_s"]) for e in events]


def test_emggo_as_it_comes_in_microvolts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml: the detector's defaults
    code, document, err = analyze(capsys, str(EMGGO), "--rate-hz", "250", "--units", "uV")
    assert code == 0, err
    assert "warning" not in err
    summary = document["summary"]
    assert isinstance(summary, dict)
    assert 54 <= summary["spasms"] <= 58  # emgGO's tutorial counts 56 activation bursts
    peaks_mv = [e["peak_mv"] for e in document["events"]]  # type: ignore[union-attr]
    assert max(peaks_mv) < 5.0  # surface EMG, no longer "1152 mV"


def test_emggo_read_as_millivolts_warns_and_names_the_unit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = analyze(capsys, str(EMGGO), "--rate-hz", "250")
    assert code == 0
    assert "warning" in err
    assert "did you mean --units uV?" in err


def test_biosppy_as_it_comes_takes_its_rate_from_its_header_and_its_counts_scaled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, document, err = analyze(capsys, str(BIOSPPY))
    assert code == 0, err
    assert "1000 Hz from the comment on line 2" in err
    assert "--units counts" in err  # raw counts read as mV: an offset of 2040 "mV"
    # BITalino's EMG sensor: 3.3 V over 2**12 counts through a gain of 1009, about 0.8 µV a count.
    code, scaled, err = analyze(capsys, str(BIOSPPY), "--units", "counts", "--scale-mv", "0.0008")
    assert code == 0, err
    assert "warning" not in err
    spans = spans_s(scaled)
    flat = [t for span in spans for t in span]
    assert flat == pytest.approx([t for span in spans_s(document) for t in span], abs=0.002)  # unit-free
    for lo, hi in BIOSPPY_CONTRACTIONS_S:
        assert any(a < hi and b > lo for a, b in spans), f"contraction {lo}-{hi} s missed: {spans}"
    for lo, hi in BIOSPPY_REST_S:
        assert not [a for a, _ in spans if lo <= a < hi], f"an event starts in rest {lo}-{hi} s"


@pytest.fixture(scope="module")
def synthetic() -> SyntheticEmg:
    scenario = EmgScenario(duration_s=40.0, channels=1, seed=11, spasms_per_min=6.0, sample_rate_hz=RATE_HZ)
    return generate_emg(scenario.clean())


def write(path: Path, header: str, times: list[str], emg_mv: np.ndarray, comments: str = "") -> Path:
    rows = [f"{t},{v:.6g}" for t, v in zip(times, emg_mv[:, 0], strict=True)]
    path.write_text(comments + header + "\n" + "\n".join(rows) + "\n")
    return path


def times_for(header: str, n: int) -> list[str]:
    seconds = np.arange(n) / RATE_HZ
    if header in ("time_ms", "t_ms", "Time (ms)"):
        return [f"{s * 1000:.0f}" for s in seconds]
    if header == "when":  # ISO 8601 under a header the reader does not know
        ns = 1_764_000_000 * NS_PER_S + np.round(seconds * NS_PER_S).astype(np.int64)
        return [f"{t}Z" for t in np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ms")]
    if header == "timestamp":
        return [f"{1_764_000_000 + s:.3f}" for s in seconds]
    return [f"{s:.3f}" for s in seconds]


@pytest.mark.parametrize(
    "header", ["time", "time_s", "Time (s)", "time_ms", "t_ms", "Time (ms)", "timestamp", "when"]
)
def test_a_time_column_is_recognised_by_its_header_and_never_a_channel(
    header: str, synthetic: SyntheticEmg, tmp_path: Path
) -> None:
    n = synthetic.emg_mv.shape[0]
    path = write(tmp_path / "emg.csv", f"{header},tibialis", times_for(header, n), synthetic.emg_mv)
    emg = read_emg_csv(path, RATE_HZ)
    assert emg.channel_names == ["tibialis"]
    assert emg.emg_mv.shape == (n, 1)
    assert emg.sample_rate_hz == pytest.approx(RATE_HZ, rel=1e-6)


def test_time_ms_with_rate_gives_the_detectors_events_and_no_phantom_spasm(
    synthetic: SyntheticEmg,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    n = synthetic.emg_mv.shape[0]
    path = write(tmp_path / "emg.csv", "time_ms,tibialis", times_for("time_ms", n), synthetic.emg_mv)
    code, document, err = analyze(capsys, str(path), "--rate-hz", "250")
    assert code == 0, err
    expected = detect_spasms(synthetic.emg_mv.astype(np.float32), RATE_HZ)
    assert len(document["events"]) == len(expected)  # type: ignore[arg-type]
    assert {e["channel"] for e in document["events"]} <= {0}  # type: ignore[union-attr]
    onsets_s = [e.onset_ns / NS_PER_S for e in expected]
    assert [a for a, _ in spans_s(document)] == pytest.approx(onsets_s, abs=1 / RATE_HZ)


def test_comment_lines_anywhere_are_skipped(synthetic: SyntheticEmg, tmp_path: Path) -> None:
    n = synthetic.emg_mv.shape[0]
    path = write(
        tmp_path / "emg.csv", "time,tibialis", times_for("time", n), synthetic.emg_mv,
        comments="# exported by a logger\n#   units: mV\n\n",
    )  # fmt: skip
    with path.open("a") as file:
        file.write("# end of recording\n")
    emg = read_emg_csv(path)
    assert emg.emg_mv.shape == (n, 1)
    assert emg.emg_mv[:, 0] == pytest.approx(synthetic.emg_mv[:, 0], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(
    ("units", "scale", "factor"),
    [("mV", None, 1.0), ("uV", None, 1e-3), ("V", None, 1e3), ("counts", 0.5, 0.5)],
)
def test_units_are_converted_to_millivolts(
    units: str, scale: float | None, factor: float, tmp_path: Path
) -> None:
    path = tmp_path / "emg.csv"
    path.write_text("emg\n2\n-4\n8\n")
    emg = read_emg_csv(path, RATE_HZ, units, scale)
    assert emg.emg_mv[:, 0] == pytest.approx(np.array([2.0, -4.0, 8.0]) * factor)


def _long_csv(path: Path, value: str, n: int = 2500) -> Path:
    path.write_text("time,emg\n" + "".join(f"{i / RATE_HZ:.3f},{value}\n" for i in range(n)))
    return path


@pytest.mark.parametrize(
    ("content", "extra", "first_words"),
    [
        ("time,emg\n0,0.1\n0.004,0.2\n0.008,0.1\n", [], "3 sample(s), 0.012 s, too short to analyse"),
        ("time,emg\n0,0.1\n", ["--rate-hz", "250"], "1 sample(s), 0.004 s, too short to analyse"),
        ("time,emg\n", [], "no data rows after the header"),
        ("# nothing but a comment\n", [], "only comment lines, no data"),
        ("", [], "empty file"),
        ("nan-file", [], "channel 'emg' holds no numbers"),
        ("time,emg\n0,1\n0.004,2\n", ["--units", "counts"], "--units counts needs --scale-mv"),
        ("time,emg\n0,1\n0.004,2\n", ["--scale-mv", "0.001"], "--scale-mv applies to --units counts only"),
        ("time,emg,time_ms\n0,1,0\n", [], "column 3 ('time_ms') holds time"),
    ],
    ids=["short", "one row", "header only", "comments only", "empty", "all NaN", "counts without scale",
         "scale without counts", "time not first"],
)  # fmt: skip
def test_a_file_that_cannot_be_analysed_says_why_in_one_line(
    content: str, extra: list[str], first_words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "emg.csv"
    if content == "nan-file":
        _long_csv(path, "nan")
    else:
        path.write_text(content)
    code, _, err = analyze(capsys, str(path), *extra)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("spasm-monitor: "), err
    assert first_words in err, err
