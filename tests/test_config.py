"""config.toml: the repository's example is valid, and every broken config gets a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "config.toml"
DEVICE = """
[[device]]
profile = "reference"
address = "F1:00:00:00:00:01"
placement = "calf"
side = "left"
muscle = "soleus"
"""
MINIMAL = '\n[patient]\nid = "p01"\ntimezone = "Europe/Berlin"\n' + DEVICE


def test_repository_example_is_valid_and_describes_the_knee_pair(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "patient p01 (Europe/London)" in out
    assert "knee (proximal)" in out
    assert "knee (distal)" in out
    config = load_config(EXAMPLE)
    assert [d.device_id for d in config.collector_config().devices] == [d.device_id for d in config.devices]


def test_minimal_config_takes_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.emg_params.merge_gap_s == 1.0
    assert config.store.influx is None
    assert config.devices[0].tags() == {
        "device": "F1:00:00:00:00:01",
        "location": "calf",
        "side": "left",
        "muscle": "soleus",
    }


# (what is appended to or replaced in MINIMAL, words the one-line error must contain)
BROKEN: list[tuple[str, str, str]] = [
    ("unknown section", MINIMAL + "\n[strage]\nx = 1\n", "strage"),
    ("unknown key with suggestion", MINIMAL.replace("side =", 'sied = "left"\nside ='), "'side'"),
    ("not TOML", MINIMAL + "\n[store\n", "not valid TOML"),
    ("no patient", MINIMAL.replace('[patient]\nid = "p01"', '[patientx]\nid = "p01"'), "patientx"),
    ("patient name not pseudonym", MINIMAL.replace('"p01"', '"Jane Doe"'), "patient.id"),
    ("bad timezone", MINIMAL.replace("Europe/Berlin", "Mars/Olympus"), "patient.timezone"),
    ("unknown profile", MINIMAL.replace('"reference"', '"fitbit"'), "device[1].profile"),
    ("bad address", MINIMAL.replace("F1:00:00:00:00:01", "F1:00"), "device[1].address"),
    ("no address or name", MINIMAL.replace('address = "F1:00:00:00:00:01"\n', ""), "device[1]"),
    ("bad side", MINIMAL.replace('side = "left"', 'side = "up"'), "device[1].side"),
    ("device as table", MINIMAL.replace("[[device]]", "[device]"), "[[device]]"),
    ("duplicate wearable", MINIMAL + MINIMAL[MINIMAL.index("[[device]]") :], "same wearable"),
    (
        "joint without its pair",
        MINIMAL.replace('muscle = "soleus"', 'joint = "knee"').replace('"calf"', '"thigh"'),
        "needs one IMU",
    ),
    ("placement wrong for joint", MINIMAL.replace('muscle = "soleus"', 'joint = "knee"'), "placement"),
    ("negative rate-like value", MINIMAL + "\n[ble]\nscan_timeout_s = -1\n", "ble.scan_timeout_s"),
    ("mtu out of range", MINIMAL + "\n[ble]\nmtu_bytes = 1000\n", "ble.mtu_bytes"),
    ("bumble without transport", MINIMAL + '\n[ble]\nbackend = "bumble"\n', "ble.transport"),
    ("wrong type", MINIMAL + '\n[dsp]\nmerge_gap_s = "one"\n', "dsp.merge_gap_s"),
    ("impossible dsp value", MINIMAL + "\n[dsp]\nhighpass_hz = 500.0\nlowpass_hz = 450.0\n", "highpass_hz"),
    ("unknown dsp key", MINIMAL + "\n[dsp]\nthreshold = 3\n", "dsp.threshold"),
    ("negative spool cap", MINIMAL + "\n[store]\nspool_cap_mb = -5\n", "store.spool_cap_mb"),
    (
        "inline token",
        MINIMAL + '\n[store.influx]\nversion = "2"\nurl = "http://localhost:8086"\ntoken = "abc"\n',
        "store.influx.token",
    ),
    ("influx bad version", MINIMAL + '\n[store.influx]\nversion = "9"\nurl = "http://x"\n', "version"),
    ("influx bad url", MINIMAL + '\n[store.influx]\nversion = "1"\nurl = "localhost"\n', "store.influx.url"),
    (
        "influx 2 without org",
        MINIMAL + '\n[store.influx]\nversion = "2"\nurl = "http://x"\ntoken_env = "T"\n',
        "org and bucket",
    ),
    ("grafana inline token", MINIMAL + '\n[grafana]\ntoken = "x"\n', "grafana.token"),
    ("alerts unknown key", MINIMAL + "\n[alerts]\nspike_sigmaa = 2\n", "alerts.spike_sigmaa"),
    ("alerts inline urls", MINIMAL + '\n[alerts]\nnotify_urls = "mailto://x"\n', "alerts.notify_urls"),
    ("alerts bad value", MINIMAL + "\n[alerts]\nspike_sigma = -2\n", "spike_sigma"),
]


@pytest.mark.parametrize(("case", "text", "named"), BROKEN, ids=[case for case, _, _ in BROKEN])
def test_broken_config_gets_one_line_error_and_exit_2(
    case: str, text: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert main(["config", "check", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert "\n" not in error, f"{case}: error spans lines: {error!r}"
    assert "Traceback" not in captured.err
    assert error.startswith(f"spasm-monitor: {path}:"), error
    assert named in error, f"{case}: {error!r} does not name {named!r}"


def test_missing_secret_source_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        MINIMAL
        + '\n[store.influx]\nversion = "3"\nurl = "http://127.0.0.1:8181"\ntoken_env = "NO_SUCH_VAR_X"\n'
    )
    assert main(["config", "check", "--config", str(path)]) == 2
    assert "NO_SUCH_VAR_X" in capsys.readouterr().err


def test_missing_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "no such config file" in capsys.readouterr().err


def test_report_takes_spool_patient_and_timezone_from_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.store import Spool
    from monitor.types import Record

    spool_path = tmp_path / "spool.sqlite"
    tags = {"patient": "p01", "kind": "tonic"}
    event = Record("spasm_event", 1_764_000_000 * 10**9, {"duration_s": 2.0}, tags)
    Spool(spool_path).append([event])
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + f'\n[store]\nspool_path = "{spool_path}"\n')
    out = tmp_path / "r.html"
    assert main(["report", "--config", str(path), "--out", str(out)]) == 0
    assert "patient p01, 1 spasms" in capsys.readouterr().out
    assert "Europe/Berlin" in out.read_text()
