"""``spasm-monitor tardieu``: what it refuses, the records it stores from a guided test, and
``--calibrate`` as a user runs it against the demo's emulated thigh and shank wearables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emulators.process import start_emulated, wearable_address
from monitor.commands.demo import WEARABLES
from monitor.commands.tardieu import stretched_muscle_emg, summary_line, tardieu_records
from monitor.config import load_config
from monitor.store import Spool
from monitor.store.calibrations import joint_pairs
from monitor.synth.tardieu import default_spasticity, generate_tardieu_session
from tests.home_config import write_left_side_home
from tests.test_tardieu_session import run

REPO = Path(__file__).resolve().parents[1]


def _config(
    tmp_path: Path,
    *,
    emg: bool,
    transport: str = "tcp-client:127.0.0.1:9",
    addresses: tuple[str, str] = ("F1:00:00:00:00:01", "F1:00:00:00:00:02"),
) -> Path:
    wearables = [
        (address, placement, 'joint = "knee"')
        for address, placement in zip(addresses, ("thigh", "shank"), strict=True)
    ]
    if emg:
        wearables.append(("F1:00:00:00:00:03", "hamstring", 'muscle = "hamstrings"'))
    return write_left_side_home(tmp_path, wearables, transport)


def _cli(*argv: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,  # a ceiling: the command ends as soon as its steps are over
    )


def test_without_a_stored_calibration_it_says_how_to_calibrate(tmp_path: Path) -> None:
    config = _config(tmp_path, emg=False)
    process = _cli("tardieu", "--joint", "knee", "--side", "left", "--config", str(config))
    assert process.returncode == 1
    assert "no stored calibration of the left knee" in process.stderr
    assert "spasm-monitor calibrate --joint knee --side left" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize(
    ("option", "message"),
    [(("--fast", "0"), "--slow and --fast must be >= 1"), (("--step-timeout", "1"), "--step-timeout")],
)
def test_bad_option_is_a_one_line_config_error(tmp_path: Path, option: tuple[str, str], message: str) -> None:
    config = _config(tmp_path, emg=False)
    process = _cli("tardieu", "--joint", "knee", *option, "--config", str(config))
    assert process.returncode == 2
    assert message in process.stderr
    assert "Traceback" not in process.stderr


def test_calibrate_first_stores_the_calibration_and_the_test_goes_on_with_it(tmp_path: Path) -> None:
    # The demo's knee wearables replay a calibration routine, then exercise and walking: no
    # Tardieu stretches, so the test proper runs on the new calibration until a step times
    # out, and says so.
    knee = [w for w in WEARABLES if w[2].get("joint") == "knee"]
    emulated = start_emulated(len(knee), tmp_path, options=[w[1] for w in knee])
    try:
        config = _config(
            tmp_path,
            emg=False,
            transport=emulated.collector_transport,
            addresses=(wearable_address(1), wearable_address(2)),
        )
        argv = ("tardieu", "--joint", "knee", "--calibrate", "--step-timeout", "5")
        process = _cli(*argv, "--config", str(config), timeout_s=240.0)
    finally:
        emulated.stop()
    out = process.stdout
    assert "bend your left knee" in out  # the calibration's prompts first
    assert "Calibration of the left knee stored" in out
    assert out.index("Calibration of the left knee stored") < out.index("Please relax")
    assert process.returncode == 1
    assert "Tardieu test failed: " in process.stderr
    assert "the new calibration is kept" in process.stderr
    assert "Traceback" not in process.stderr
    with Spool(tmp_path / "spool.sqlite") as spool:
        calibrations = spool.query(0, 2**62, measurement="calibration")
        assert spool.query(0, 2**62, measurement="tardieu") == []
    assert [r.fields["status"] for r in calibrations] == ["guided"]
    assert calibrations[0].tags == {"patient": "p07", "joint": "knee", "side": "left"}


def test_the_emg_on_the_stretched_muscle_is_found(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, emg=True))
    (pair,) = joint_pairs(config)
    assert stretched_muscle_emg(config, pair) == "F1:00:00:00:00:03"
    assert stretched_muscle_emg(load_config(_config(tmp_path, emg=False)), pair) is None


def test_stored_records_carry_each_stretch_and_the_session_medians(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, emg=True))
    (pair,) = joint_pairs(config)
    session = generate_tardieu_session("knee", default_spasticity("knee", 0.6), seed=7)
    test, verdicts = run(session, emg=True, slow_trials=2, fast_trials=3)
    result = test.result()
    assert result is not None
    with Spool(config.store.spool_path) as spool:
        spool.append(tardieu_records(config, pair, verdicts, result))
        stored = spool.query(0, 2**62, measurement="tardieu")
    trials = [r for r in stored if r.tags["scope"] == "trial"]
    (summary,) = [r for r in stored if r.tags["scope"] == "session"]
    assert [r.fields["speed"] for r in trials] == ["slow", "slow", "fast", "fast", "fast"]
    assert all(
        r.tags == {"patient": "p07", "joint": "knee", "side": "left", "scope": "trial"} for r in trials
    )
    assert all("r2_deg" in r.fields for r in trials[:2])
    assert all(r.fields["catch_source"] == "emg" and "r1_deg" in r.fields for r in trials[2:])
    assert summary.fields["r1_deg"] == result.r1_deg
    assert summary.fields["r2_deg"] == result.r2_deg
    assert summary.fields["r2_minus_r1_deg"] == result.r2_minus_r1_deg
    assert summary.fields["catches"] == 3
    assert summary.fields["fast_trials"] == 3
    assert "R2 − R1" in summary_line("left knee", result)
