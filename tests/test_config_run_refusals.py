"""``config check`` refuses what the store or ``run`` would refuse, and never shows a secret (issue 13.10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.store.line_protocol import series_key
from tests.test_config import DEVICE

SECRET = "s3cr3t-Pa55"
PATIENT = '[patient]\nid = "p01"\n'


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    """Run ``config check`` (with ``-vv``: the log must not leak either); (exit code, stdout + stderr)."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = main([*extra, "config", "check", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def toml_string(value: str) -> str:
    """A TOML basic string holding ``value`` exactly (control characters escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped) + '"'


# (key, value): each passed `config check` before, then failed every record it tagged.
UNCARRIABLE = [
    ("label", "calf\\left"),
    ("muscle", "soleus\nmedial"),
    ("name", "SMREF\t01"),
    ("label", "x" * 70_000),
    ("muscle", "m" * 65),
]


@pytest.mark.parametrize(("key", "value"), UNCARRIABLE, ids=["backslash", "newline", "tab", "70k", "65"])
def test_a_name_line_protocol_cannot_carry_is_refused_up_front(
    key: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    device = DEVICE.replace('muscle = "soleus"\n', "") + f"{key} = {toml_string(value)}\n"
    code, output = check(tmp_path, PATIENT + device, capsys)
    error = output.strip()
    assert code == 2
    assert "\n" not in error
    assert "Traceback" not in error
    assert f"device[1].{key} must be" in error
    assert len(error) < 400, "the message echoes a huge value"


@pytest.mark.parametrize("value", ["gastrocnemius, left", "a=b c", "Gastrocnémius", "#1", "m" * 64])
def test_every_name_config_accepts_the_store_accepts(value: str) -> None:
    document = {
        "patient": {"id": "p01"},
        "device": [{"address": "F1:00:00:00:00:01", "placement": "calf", "muscle": value, "label": value}],
    }
    config = parse_config(document, environ={})
    series_key("spasm_event", config.devices[0].tags())  # raises if line protocol cannot carry a tag


def test_config_and_line_protocol_refuse_the_same_characters() -> None:
    for code in [*range(0x20), 0x5C, 0x7F, 0x85, 0x9F]:
        name = f"m{chr(code)}m"
        document = {"patient": {"id": "p01"}, "device": [{"address": "F1:00:00:00:00:01", "placement": "calf",
                                                          "muscle": name}]}  # fmt: skip
        with pytest.raises(ConfigError, match=r"device\[1\]\.muscle must be free of backslashes"):
            parse_config(document, environ={})
        with pytest.raises(ValueError, match="line protocol cannot carry"):
            series_key("m", {"muscle": name})


INFLUX_1 = '\n[store.influx]\nversion = "1"\nurl = "{url}"\n'
GRAFANA = '\n[grafana]\nurl = "{url}"\n'
CREDENTIAL_URLS = [
    (INFLUX_1, f"http://admin:{SECRET}@127.0.0.1:8086", "store.influx.url", "password_env"),
    (INFLUX_1, f"http://127.0.0.1:8086/?u=admin&p={SECRET}", "store.influx.url", "password_env"),
    (INFLUX_1, f"https://influx.example:8086/?token={SECRET}", "store.influx.url", "token_env"),
    (GRAFANA, f"http://admin:{SECRET}@127.0.0.1:3000", "grafana.url", "token_env"),
    (GRAFANA, f"https://grafana.example/?api_key={SECRET}", "grafana.url", "token_env"),
    (GRAFANA, f"admin:{SECRET}@grafana.example", "grafana.url", "http://"),
]


@pytest.mark.parametrize(("section", "url", "key", "instead"), CREDENTIAL_URLS)
def test_credentials_in_a_url_are_refused_without_showing_them(
    section: str,
    url: str,
    key: str,
    instead: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = check(tmp_path, PATIENT + DEVICE + section.format(url=url), capsys, "-vv")
    assert code == 2
    assert key in output
    assert instead in output
    assert output.strip().count("\n") == 0
    assert SECRET not in output


def test_a_config_without_a_wearable_is_refused_as_run_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = check(tmp_path, PATIENT, capsys)
    assert code == 2
    assert "no [[device]]" in output
    path = tmp_path / "config.toml"
    assert main(["run", "--config", str(path), "--duration-s", "1"]) == 2
    assert "no [[device]]" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "accepted"), [("55", False), ("400", False), ("50", True), ("60.0", True),
                                                 ("0", True), ('"none"', True), ("59.5", False)])  # fmt: skip
def test_mains_hz_is_50_or_60_or_off(
    value: str,
    accepted: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = check(tmp_path, PATIENT + DEVICE + f"\n[dsp]\nmains_hz = {value}\n", capsys)
    assert code == (0 if accepted else 2), output
    if not accepted:
        assert "dsp.mains_hz must be 50 or 60" in output
        assert ("did you mean 60?" in output) == (value == "59.5")


def test_a_spool_whose_directory_cannot_be_made_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory")
    code, output = check(
        tmp_path, PATIENT + DEVICE + '\n[store]\nspool_path = "afile/data/spool.sqlite"\n', capsys
    )
    assert code == 2
    assert "store.spool_path must be in a directory that exists or can be created" in output
    assert "is a file" in output
    # A directory that is missing but can be made passes, and the check creates nothing.
    code, output = check(
        tmp_path, PATIENT + DEVICE + '\n[store]\nspool_path = "new/dir/spool.sqlite"\n', capsys
    )
    assert code == 0, output
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("urls", "said"),
    [
        ("garbage", "notification URL #1"),
        (f"ntfy://topic https://hooks.example/x?token={SECRET}", "did you mean jsons://"),
    ],
)
def test_notification_urls_the_notifier_cannot_use_are_refused_unshown(
    urls: str,
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPASM_MONITOR_NOTIFY_URLS", urls)
    code, output = check(tmp_path, PATIENT + DEVICE, capsys, "-vv")
    assert code == 2
    assert said in output
    assert SECRET not in output
    assert "garbage" not in output
    monkeypatch.setenv("SPASM_MONITOR_NOTIFY_URLS", "ntfy://topic json://127.0.0.1:9/hook")
    assert check(tmp_path, PATIENT + DEVICE, capsys)[0] == 0
