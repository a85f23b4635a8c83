"""``spasm-monitor calibrate`` as a user runs it, against the demo's emulated thigh and shank wearables.

The emulators replay the synthetic knee motion (neutral pose, flexions, rests, exercise sets,
walking) over the real BLE stack; the command prompts, follows what the IMUs see, and stores
the calibration that later runs look up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from emulators.process import start_emulated, wearable_address
from monitor.commands.demo import WEARABLES
from monitor.config import load_config
from monitor.store import Spool
from monitor.store.calibrations import stored_calibrations
from tests.home_config import left_side_home_toml

REPO = Path(__file__).resolve().parents[1]
KNEE = [w for w in WEARABLES if w[2].get("joint") == "knee"]  # the demo's thigh and shank


def _config(transport: str, spool_path: Path) -> str:
    knee = [
        (wearable_address(i + 1), placement, 'joint = "knee"') for i, (placement, _, _) in enumerate(KNEE)
    ]
    return left_side_home_toml(knee, transport, spool_path)


def test_calibrate_prompts_and_stores_what_the_next_run_uses(tmp_path: Path) -> None:
    emulated = start_emulated(len(KNEE), tmp_path, options=[w[1] for w in KNEE])
    try:
        spool_path = tmp_path / "spool.sqlite"
        config_path = tmp_path / "config.toml"
        config_path.write_text(_config(emulated.collector_transport, spool_path))
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor.cli",
                "calibrate",
                "--joint",
                "knee",
                "--config",
                str(config_path),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=240,  # a ceiling: the command ends as soon as it has seen the flexions
        )
    finally:
        emulated.stop()
    assert process.returncode == 0, process.stderr
    out = process.stdout
    assert "stand with your left knee straight" in out
    assert "hold still" in out
    assert "bend your left knee" in out
    assert "calibration of the left knee stored" in out
    assert "signal dropped" not in out  # a steady link
    with Spool(spool_path) as spool:
        records = spool.query(0, 2**62, measurement="calibration")
        stored = stored_calibrations(spool, load_config(config_path))
    assert [r.fields["status"] for r in records] == ["guided"]
    assert records[0].tags["patient"] == "p07"
    assert records[0].tags["side"] == "left"
    assert set(stored) == {("left", "knee")}
    assert stored["left", "knee"].functional
