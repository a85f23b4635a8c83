"""The report's Tardieu section: weekly tests stored by `spasm-monitor tardieu`, beside the injection."""

from __future__ import annotations

from pathlib import Path

from monitor.commands.tardieu import tardieu_records
from monitor.config import AppConfig, parse_config
from monitor.report import build_report
from monitor.report.html import render_html
from monitor.store import Spool
from monitor.store.calibrations import JointPair
from monitor.synth.tardieu import default_spasticity, generate_tardieu_session
from monitor.types import NS_PER_S, Record
from tests.test_tardieu_session import run

DAY_NS = 86_400 * NS_PER_S
START_NS = 1_770_000_000 * NS_PER_S


def _config() -> AppConfig:
    return parse_config({"patient": {"id": "p01"}}, environ={}, source="<test>")


def test_weekly_tests_are_charted_with_the_injection_and_tabled(tmp_path: Path) -> None:
    config = _config()
    pair = JointPair("left", "knee", "thigh", "shank")
    path = tmp_path / "spool.sqlite"
    records = [
        Record("treatment", START_NS + 7 * DAY_NS, {"dose_u": 200.0, "muscles": "hamstrings"},
               {"patient": "p01", "kind": "botox", "side": "left"}),
        Record("treatment", START_NS + 9 * DAY_NS, {"pt_kind": "stretching", "exercises": ""},
               {"patient": "p01", "kind": "pt"}),
    ]  # fmt: skip
    sessions = []
    for week, strength in enumerate((0.8, 0.8, 0.4)):  # the reflex weaker after the injection
        session = generate_tardieu_session(
            "knee", default_spasticity("knee", strength), seed=7, t0_ns=START_NS + week * 7 * DAY_NS + DAY_NS
        )
        test, verdicts = run(session, emg=True, slow_trials=2, fast_trials=3)
        result = test.result()
        assert result is not None
        sessions.append(result)
        records += tardieu_records(config, pair, verdicts, result)
    with Spool(path) as spool:
        spool.append(records)
    data = build_report(path, patient="p01")
    assert [p.r1_deg for p in data.tardieu] == [s.r1_deg for s in sessions]
    assert [p.r2_minus_r1_deg for p in data.tardieu] == [s.r2_minus_r1_deg for s in sessions]
    html = render_html(data)
    section = html.split('<section id="tardieu">')[1].split("</section>")[0]
    assert "Left knee: Tardieu R1, R2 and R2 − R1" in section
    assert "Botox injection" in section
    assert "PT session" in section
    assert section.count("<tr>") - 1 == 3  # a header and one row per test
    assert f"{sessions[2].r1_deg:.1f}" in section


def test_no_test_says_so(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append([Record("treatment", START_NS, {"pt_kind": "gait", "exercises": ""},
                             {"patient": "p01", "kind": "pt"})])  # fmt: skip
    section = render_html(build_report(path)).split('<section id="tardieu">')[1].split("</section>")[0]
    assert "No Tardieu test in the period" in section
