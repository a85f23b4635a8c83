"""The spasm-monitor command line, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor.cli import main


def test_demo_writes_records_and_summarises(tmp_path: Path, capsys: object) -> None:
    code = main(["demo", "--minutes", "2", "--seed", "3", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "SIMULATED" in out
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    events = [r for r in records if r["measurement"] == "spasm_event"]
    assert f"spasms found: {len(events)}" in out
    assert all(r["patient"] == "demo" for r in records)


def test_a_bad_argument_is_a_one_line_error_with_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--rate-hz", "20", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "sample_rate_hz" in result.stderr
