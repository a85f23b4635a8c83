"""A light command starts without the heavy libraries; every lazily loaded name resolves.

On a small gateway, importing numpy's signal stack, numba, the BLE stack and statsmodels
takes seconds before a command does anything. ``spasm-monitor status`` and ``config check``
need none of them, so only the command named is imported and the package namespaces load
their submodules on first use. These tests check the modules a command loads, not its time.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import _named_command, build_parser
from monitor.commands import COMMAND_NAMES

REPO = Path(__file__).resolve().parents[1]
# Libraries a light command must not wait for (seconds to import on a Raspberry Pi class gateway).
HEAVY = ("scipy", "numba", "bumble", "statsmodels", "apprise", "grafana_client", "pyedflib", "sklearn")
LAZY_PACKAGES = (
    "monitor.alerts",
    "monitor.clinical",
    "monitor.collect",
    "monitor.dsp",
    "monitor.dsp.imu",
    "monitor.store",
)


def _modules_loaded_by(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Exit code of ``spasm-monitor argv`` and the heavy top-level packages it imported."""
    script = (
        "import json, sys\n"
        "from monitor.cli import main\n"
        f"code = main({argv!r})\n"
        "print(json.dumps([code, sorted({name.split('.')[0] for name in sys.modules})]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd, timeout=120
    )
    code, top_level = json.loads(result.stdout.strip().splitlines()[-1])
    return code, [name for name in top_level if name in HEAVY]


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "check", "--config", str(REPO / "config.toml")],
        ["status", "--config", str(REPO / "config.toml"), "--spool", "{spool}"],
        ["store", "status", "--config", str(REPO / "config.toml"), "--spool", "{spool}"],
        ["treatment", "list", "--config", str(REPO / "config.toml"), "--spool", "{spool}"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_light_command_runs_without_loading_the_heavy_libraries(argv: list[str], tmp_path: Path) -> None:
    from monitor.store import Spool

    spool = tmp_path / "spool.sqlite"
    Spool(spool).close()
    argv = [str(spool) if word == "{spool}" else word for word in argv]
    code, heavy = _modules_loaded_by(argv, cwd=tmp_path)
    assert code == 0
    assert heavy == []


def test_a_command_that_analyses_loads_what_it_needs(tmp_path: Path) -> None:
    """The lazy namespaces still load on use: analysing a CSV pulls in scipy's filters."""
    csv = tmp_path / "emg.csv"
    csv.write_text("time_s,emg\n" + "".join(f"{k / 1000},{0.01 * (k % 7)}\n" for k in range(5000)))
    code, heavy = _modules_loaded_by(["analyze", str(csv)], cwd=tmp_path)
    assert code == 0
    assert "scipy" in heavy


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_name_a_lazy_package_lists_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, package
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["status"], "status"),
        (["-v", "demo", "--live-s", "5"], "demo"),
        (["-vv", "config", "check"], "config"),
        (["--help", "demo"], None),  # the top-level help lists every command's summary
        (["-h"], None),
        (["stauts"], None),  # misspelt: refused with the whole list
        ([], None),
    ],
)
def test_the_command_named_is_the_first_word_not_an_option(argv: list[str], named: str | None) -> None:
    assert _named_command(argv) == named


def test_a_misspelt_command_is_refused_with_every_command_listed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "stauts"], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert result.returncode == 2
    assert all(f"'{name}'" in result.stderr for name in COMMAND_NAMES), result.stderr


def test_a_command_built_alone_parses_as_when_every_command_is_built() -> None:
    argv = ["report", "--config", "config.toml", "--out", "r.html"]
    alone, whole = build_parser(argv).parse_args(argv), build_parser().parse_args(argv)
    assert vars(alone).keys() == vars(whole).keys()
    assert {key: value for key, value in vars(alone).items() if key != "handler"} == {
        key: value for key, value in vars(whole).items() if key != "handler"
    }
