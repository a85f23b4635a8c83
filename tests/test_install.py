"""Install as the README writes it (issue 15.1): paths in config.toml mean its own folder, the
service stops restarting on a config error, the journal gets a status line every few minutes
or on a change, and bootstrap says what it is doing and how to call the command."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.commands.run import print_status
from monitor.live import LOG_STATUS_EVERY_S, STATUS_EVERY_S, LiveStatus, status_due, status_state
from monitor.store import Spool
from monitor.types import Record

REPO = Path(__file__).resolve().parents[1]
DEVICE = '[[device]]\nprofile = "reference"\naddress = "C4:7C:8D:6A:12:34"\nplacement = "calf"\n'


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own: what systemd sees is its exit status."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_relative_paths_in_config_mean_its_folder_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    etc, elsewhere = tmp_path / "etc", tmp_path / "home"
    etc.mkdir()
    elsewhere.mkdir()
    (etc / "influx-token").write_text("s3cret\n")
    (etc / "notify").write_text("# the carer's phone\njson://127.0.0.1:9/alerts\n")
    config = etc / "config.toml"
    config.write_text(
        '[patient]\nid = "p07"\n\n' + DEVICE + '\n[store]\nspool_path = "data/spool.sqlite"\n\n'
        '[store.influx]\nversion = "2"\nurl = "http://127.0.0.1:9"\norg = "o"\nbucket = "b"\n'
        'token_file = "influx-token"\n\n[alerts]\nnotify_urls_file = "notify"\n'
    )
    (etc / "data").mkdir()
    with Spool(etc / "data" / "spool.sqlite") as spool:
        spool.append([Record("spasm_event", 1_767_225_600 * 10**9, {"duration_s": 2.0}, {"patient": "p07"})])

    monkeypatch.chdir(elsewhere)  # the CLI's main here: a process's start-up adds nothing to the paths
    checked_code = main(["config", "check", "--config", str(config)])
    checked = capsys.readouterr()
    assert checked_code == 0, checked.err
    assert f"spool {etc / 'data' / 'spool.sqlite'}" in checked.out
    assert "alerts: 1 notification URL(s)" in checked.out
    status_code = main(["store", "status", "--config", str(config)])
    status = capsys.readouterr()
    assert status_code == 0, status.err
    assert "queued 1" in status.out
    assert not (elsewhere / "data").exists()  # nothing made in the current directory


def test_the_service_does_not_restart_on_a_config_error(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(REPO / "deploy" / "spasm-monitor.service")
    service = unit["Service"]
    assert service["RestartPreventExitStatus"].split() == ["2"]
    assert service["Restart"] == "always"  # a part that died (exit 1) is still restarted
    # ... and a config error is exit 2, in one line.
    config = tmp_path / "config.toml"
    config.write_text('[patient]\nid = "p07"\n\n' + DEVICE + 'sied = "left"\n')
    result = _cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"spasm-monitor: {config}: unknown key device[1].sied (did you mean 'side'?)"
        " (fix the named key in config.toml; `spasm-monitor config check` validates it)"
    ]


def test_run_refuses_a_status_interval_that_is_not_positive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--status-every-s", "0", "--config", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err.strip() == "spasm-monitor: --status-every-s must be > 0, got 0"


def _status(store: str = "spool ok", up: bool = True, alerts: int = 0, samples: int = 0) -> LiveStatus:
    return LiveStatus(
        elapsed_s=0.0,
        connected={"calf": up, "thigh": True},
        samples={"calf": samples},
        spasms=samples // 1000,
        alerts=alerts,
        store=store,
    )


def test_status_line_every_few_minutes_or_on_a_change() -> None:
    told = status_state(_status(samples=1000))
    # Samples and spasms counting up are not a change: nothing until the interval.
    assert not status_due(60.0, status_state(_status(samples=90_000)), told, LOG_STATUS_EVERY_S)
    assert not status_due(299.0, status_state(_status(samples=90_000)), told, LOG_STATUS_EVERY_S)
    assert status_due(300.0, status_state(_status(samples=90_000)), told, LOG_STATUS_EVERY_S)
    # A wearable dropping, an alert, the store failing: at once.
    assert status_due(1.0, status_state(_status(up=False)), told, LOG_STATUS_EVERY_S)
    assert status_due(1.0, status_state(_status(alerts=1)), told, LOG_STATUS_EVERY_S)
    locked = status_state(_status("spool LOCKED 3 s, 1,200 points held"))
    assert status_due(1.0, locked, told, LOG_STATUS_EVERY_S)
    # Its running numbers are not: locked 3 s and locked 40 s is one state.
    assert not status_due(37.0, status_state(_status("spool LOCKED 40 s, 9,000 points held")), locked, 300.0)
    assert status_due(1.0, status_state(_status("spool ok")), locked, LOG_STATUS_EVERY_S)
    assert status_due(0.0, told, None, LOG_STATUS_EVERY_S)  # the first line
    # On a terminal the line still comes every 5 s; to the journal at most 288 a day plus changes.
    assert status_due(STATUS_EVERY_S, told, told, STATUS_EVERY_S)
    assert 86_400 / LOG_STATUS_EVERY_S <= 300


def test_status_line_says_connecting_until_a_first_connection_and_down_after_a_drop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    both = frozenset({"calf", "thigh"})
    first = LiveStatus(1.0, {"calf": False, "thigh": False}, {}, 0, 0, connecting=both)
    print_status(first)
    assert "calf connecting 0 samples, thigh connecting 0 samples" in capsys.readouterr().err
    dropped = LiveStatus(90.0, {"calf": False, "thigh": True}, {"calf": 5000, "thigh": 9000}, 0, 0)
    print_status(dropped)
    assert "calf DOWN 5,000 samples, thigh up 9,000 samples" in capsys.readouterr().err
    unreachable = LiveStatus(
        9.0, {"calf": False}, {}, 0, 0, problems={"calf": "not advertising"}, connecting=frozenset()
    )
    print_status(unreachable)
    assert "calf DOWN 0 samples (not advertising)" in capsys.readouterr().err


def _fake_tree(tmp_path: Path, pip_exit: int) -> Path:
    """A copy of bootstrap.sh beside a .venv whose python answers like pip, without the network."""
    tree = tmp_path / "clone"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "bootstrap.sh", tree / "scripts")
    (tree / "pyproject.toml").write_text("")
    python = tree / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"-e "*)\n'
        "  printf 'Collecting numpy>=1.26\\nCollecting scipy\\n'\n"
        "  printf 'Installing collected packages: numpy, scipy\\n'\n"
        "  printf 'ERROR: no space left\\n'\n"
        f"  exit {pip_exit};;\n"
        "esac\n"
        "echo 'Requirement already satisfied: pip'\n"
    )
    python.chmod(0o755)
    return tree


@pytest.mark.skipif(shutil.which("bash") is None, reason="bootstrap.sh is a bash script")
def test_bootstrap_shows_progress_and_how_to_call_the_command(tmp_path: Path) -> None:
    tree = _fake_tree(tmp_path, pip_exit=0)
    done = subprocess.run(
        ["bash", "scripts/bootstrap.sh"], cwd=tree, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    said = done.stderr.splitlines()
    assert said[0].startswith("bootstrap: installing spasm-monitor and its dependencies into .venv")
    assert "bootstrap:   3 packages checked; installing 2 (the slow part)" in said
    venv_bin = tree.resolve() / ".venv" / "bin"
    assert "bootstrap:   in this shell:     source .venv/bin/activate" in said
    assert (
        f"bootstrap:   for every user:    sudo ln -sf {venv_bin}/spasm-monitor /usr/local/bin/spasm-monitor"
        in said
    )
    assert "Collecting scipy" in (tree / ".venv" / "install.log").read_text()  # the whole output is kept
    again = subprocess.run(
        ["bash", "scripts/bootstrap.sh"], cwd=tree, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0
    assert again.stderr == ""


def test_bootstrap_fails_loudly_with_the_log(tmp_path: Path) -> None:
    tree = _fake_tree(tmp_path, pip_exit=1)
    failed = subprocess.run(
        ["bash", "scripts/bootstrap.sh"], cwd=tree, capture_output=True, text=True, timeout=60
    )
    assert failed.returncode == 1
    assert "ERROR: no space left" in failed.stderr
    assert failed.stderr.strip().endswith(
        "installing spasm-monitor into .venv failed (log: .venv/install.log)"
    )
