"""The spasm-monitor command line, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from monitor.cli import main
from monitor.store import Spool


def test_demo_stores_records_and_summarises(tmp_path: Path, capsys: object) -> None:
    code = main(["demo", "--minutes", "2", "--seed", "3", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "SIMULATED" in out
    records = Spool(tmp_path / "spool.sqlite").query(0, 2**62)
    events = [r for r in records if r.measurement == "spasm_event"]
    assert f"spasms found: {len(events)}" in out
    assert all(r.tags["patient"] == "demo" for r in records)
    [day] = [r for r in records if r.measurement == "clinical_score" and r.tags["period"] == "day"]
    # Spasms seen on both channels at once count once in the clinical scores.
    assert 0 < int(day.fields["spasms"]) <= len(events)
    assert f"Snow {day.fields['snow_frequency']} ({day.fields['spasms']} spasms" in out


def test_a_bad_argument_is_a_one_line_error_with_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--rate-hz", "20", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "sample_rate_hz" in result.stderr
