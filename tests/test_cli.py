"""The spasm-monitor command line, run as a user would: user mistakes are one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["demo", "--live-s", "-1"], "--live-s"),
        (["demo", "--weeks", "2", "--injection-week", "5"], "--injection-week"),
        (["run", "--config", "no-such-file.toml"], "no such config file"),
        (["dashboards", "publish", "--config", "config.toml"], "Grafana URL"),
    ],
)
def test_a_bad_argument_is_a_one_line_error_with_exit_code_2(
    argv: list[str], named: str, tmp_path: Path
) -> None:
    out = ["--out", str(tmp_path)] if argv[0] == "demo" else []
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", *argv, *out],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert named in result.stderr
