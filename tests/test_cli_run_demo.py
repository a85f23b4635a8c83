"""``spasm-monitor run`` and ``spasm-monitor demo`` as a user runs them: real processes, real BLE stack.

The wearables are emulated (bumble GATT servers in their own processes, joined by the
controller hub); everything else is the product: config.toml, the collector over bleak's
API, the DSP, the spool, the report.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from emulators.process import start_emulated, wearable_address
from monitor.commands.demo import WEARABLES
from monitor.report import build_report
from monitor.store import Spool
from monitor.types import NS_PER_S, Record
from tests.conftest import InfluxDatabase
from tests.home_config import left_side_home_toml

REPO = Path(__file__).resolve().parents[1]
POLL_S = 0.5
EMG_ANALYSED_S = 11.0  # each session then received over 10 s of 1 kHz EMG


def _config(transport: str, spool_path: Path) -> str:
    wearables = [
        (wearable_address(i + 1), placement, "".join(f'{key} = "{value}"\n' for key, value in keys.items()))
        for i, (placement, _, keys) in enumerate(WEARABLES)
    ]
    return left_side_home_toml(wearables, transport, spool_path, patient_keys='timezone = "Europe/Paris"\n')


def _wait_for(
    spool_path: Path, condition: Callable[[list[Record]], bool], what: str, timeout_s: float
) -> None:
    """Until the records in the spool (committed each second by ``run``) meet ``condition``.

    The spool is another process's SQLite file: the only way to see it grow is to read it,
    every :data:`POLL_S` (a poll interval, not a choreography).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if spool_path.exists() and condition(Spool(spool_path).query(0, 2**62)):
            return
        time.sleep(POLL_S)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def _streaming(records: list[Record]) -> bool:
    """Every wearable connected."""
    statuses = [r for r in records if r.measurement == "device_status" and r.fields.get("connected") is True]
    return len({r.tags["device"] for r in statuses}) >= len(WEARABLES)


def _calibrated(records: list[Record]) -> bool:
    """The knee calibrated (after 14 s of its pair's motion), and over 10 s of the calf's EMG analysed."""
    envelope_ns = [r.time_ns for r in records if r.measurement == "emg_envelope"]
    emg_s = (max(envelope_ns) - min(envelope_ns)) / NS_PER_S if envelope_ns else 0.0
    return any(r.measurement == "joint_angle" for r in records) and emg_s > EMG_ANALYSED_S


def test_run_collects_the_configured_home_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    emulated = start_emulated(len(WEARABLES), tmp_path, options=[w[1] for w in WEARABLES])
    try:
        spool_path = tmp_path / "spool.sqlite"
        config = tmp_path / "config.toml"
        config.write_text(_config(emulated.collector_transport, spool_path))
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(spool_path, _streaming, "every wearable streaming", timeout_s=60.0)
        _wait_for(spool_path, _calibrated, "the knee calibrated", timeout_s=60.0)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        emulated.stop()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    # A steady home never reads "DOWN": the first seconds say "connecting", and the wearables
    # disconnecting at Ctrl-C are the stop, not a fault.
    assert "DOWN" not in err, err
    assert all(f"{wearable_address(i + 1)} up" in err for i in range(len(WEARABLES)))
    assert "ran " in out

    records = Spool(spool_path).query(0, 2**62)
    by_measurement = Counter(r.measurement for r in records)
    assert all(r.tags["patient"] == "p07" for r in records)
    sessions = [r for r in records if r.measurement == "ble_session"]
    assert {r.tags["device"] for r in sessions} == {wearable_address(i + 1) for i in range(3)}
    for session in sessions:  # the shutdown flushed every session's final accounting
        assert session.fields["connects"] == 1
        assert session.fields["emg_gap_samples"] == 0
        assert int(session.fields["emg_received_samples"]) > 10_000
    observed_s = sum(float(r.fields["duration_s"]) for r in records if r.measurement == "observation")
    streamed_s = max(int(s.fields["emg_received_samples"]) for s in sessions) / 1000.0
    assert streamed_s - 1.0 < observed_s < streamed_s + 1.0
    # EMG analysed only on the calf (the muscle is configured there), tagged with it.
    envelope_devices = {r.tags["device"] for r in records if r.measurement == "emg_envelope"}
    assert envelope_devices == {wearable_address(1)}
    assert all(r.tags["muscle"] == "gastrocnemius" for r in records if r.measurement == "emg_envelope")
    # The knee angle comes from the thigh and shank pair, after calibration.
    angles = [r for r in records if r.measurement == "joint_angle"]
    assert angles
    assert {r.tags["joint"] for r in angles} == {"knee"}
    batteries = [r for r in records if r.measurement == "device_status" and "battery_pct" in r.fields]
    assert {r.tags["device"] for r in batteries} == {wearable_address(i + 1) for i in range(3)}
    assert by_measurement["gap"] == 0  # a steady link: nothing lost
    # Every wearable's streams are covered minute by minute; the motion-only ones move.
    covered = {(r.tags["device"], r.tags["sensor"]) for r in records if r.measurement == "coverage"}
    assert covered == {(wearable_address(i + 1), s) for i in range(3) for s in ("emg", "acc", "gyr")}
    assert {r.tags["device"] for r in records if r.measurement == "movement"} == {
        wearable_address(i + 1) for i in range(3)
    }
    # The run scored its hour and day as it stopped, as the dashboards read them.
    scores = [r for r in records if r.measurement == "clinical_score"]
    assert {r.tags["period"] for r in scores} == {"hour", "day"}
    days = [r for r in scores if r.tags["period"] == "day"]  # two if the run spans midnight
    hourly_spasms = sum(int(r.fields["spasms"]) for r in scores if r.tags["period"] == "hour")
    assert sum(int(r.fields["spasms"]) for r in days) == hourly_spasms
    assert 0 < sum(float(r.fields["observed_s"]) for r in days) <= observed_s + 1e-6


def test_demo_produces_the_report_and_summary_and_forwards_to_influxdb(
    tmp_path: Path, influx_db: InfluxDatabase
) -> None:
    out = tmp_path / "demo"
    process = subprocess.run(
        [
            sys.executable, "-m", "monitor.cli", "demo",
            "--live-s", "8", "--weeks", "2", "--injection-week", "1", "--windows-per-day", "1",
            "--out", str(out), "--influx-url", influx_db.url, "--influx-database", influx_db.name,
        ],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    summary = process.stdout
    assert "SIMULATED" in summary
    live_s = re.search(r"live over BLE: 3 emulated wearables for (\d+) s,", summary)
    assert live_s is not None
    assert 8 <= int(live_s.group(1)) <= 9  # --live-s, not the stop after it
    assert "no stored calibration" not in process.stderr  # the demo says how its knee is calibrated
    assert "spasms detected" in summary
    assert "Penn frequency" in summary
    report = out / "report.html"
    assert f"report: {report.resolve()}" in summary
    html = report.read_text()
    assert "SIMULATED" in html.upper()
    records = Spool(out / "spool.sqlite").query(0, 2**62)
    kinds = Counter(r.measurement for r in records)
    assert kinds["treatment"] >= 1
    assert kinds["clinical_score"] > 0
    live_sessions = [r for r in records if r.measurement == "ble_session"]
    assert len(live_sessions) == 3
    assert all(r.tags.get("source") == "simulated" for r in records if r.measurement == "spasm_event")
    # The same records reached the real InfluxDB 1.6.7.
    assert f"points forwarded to {influx_db.url}" in summary
    events = sum(1 for r in records if r.measurement == "spasm_event")
    assert influx_db.count("spasm_event", "duration_s") == events > 0
    # One computation: the terminal prints the report's before/after rates and its daily Snow
    # verdicts, and says why the sampled days have no 24-hour count.
    data = build_report(out / "spool.sqlite", patient="demo", timezone="Europe/London")
    (injection,) = data.injections
    p = injection.pre_post
    # Two weeks with the injection in the second: no history day reaches day 7 after it, and the
    # live seconds are another patient's, so there is no after-rate and no change to state.
    assert (p.post_days, p.post_observed_h) == (0, 0.0)
    assert f"after the injection: {p.pre_per_h:.1f} -> no data (not enough worn time to tell)" in summary
    assert f"{data.spasms_per_h:.2f} per observed hour" in summary
    # The Botox effect the terminal states is the report's headline, from its cycle table.
    from monitor.report.cycles import latest_change

    change = latest_change(data.cycles)
    assert change is not None
    assert change.window is None  # no observed day from day 7 after the injection
    assert f"Botox effect (report): none to state yet: the {injection.date} injection" in summary
    assert "no Botox effect will show; --weeks 5" in process.stderr  # said before the run, not after
    scored = [d for d in data.days if d.snow_frequency is not None]
    assert len(scored) == 2  # the worn day of each simulated week
    assert all(d.observed_s >= 8 * 3600 for d in scored)
    assert f"Snow's 24-hour score (EMG-derived) on {len(scored)} of 14 days" in summary
    assert "not scored (0.2 h worn)" in summary  # one sampled 10-minute window a day
    assert f"Snow {data.days[-1].snow_note}" in summary  # the history's last sampled day
    # The live seconds are stored apart (patient demo-live): the emulators' spasm rate is not the
    # simulated patient's, so they are no day of its history, and seconds state no rate or Penn.
    assert {r.tags["patient"] for r in live_sessions} == {"demo-live"}
    live_scores = [
        r for r in records if r.measurement == "clinical_score" and r.tags["patient"] == "demo-live"
    ]
    assert live_scores
    assert all("penn_frequency" not in r.fields and "spasms_per_h" not in r.fields for r in live_scores)
    assert data.days[-1].date < dt.datetime.now(ZoneInfo("Europe/London")).date()
