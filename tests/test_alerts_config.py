"""The [alerts] table: thresholds validated with the key named, URLs from env or file only."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerts import AlertThresholds
from monitor.config.alerts import read_alerts
from monitor.errors import ConfigError


def test_thresholds_and_urls_from_env_and_file(tmp_path: Path) -> None:
    url_file = tmp_path / "notify"
    url_file.write_text("# carers\nntfy://ntfy.example/p01-spasms\n\n")
    config = read_alerts(
        {"spike_sigma": 2.5, "cooldown_min": 30, "notify_urls_file": str(url_file)},
        environ={"SPASM_MONITOR_NOTIFY_URLS": "json://127.0.0.1:1/a, mailtos://u:pw@example.org"},
    )
    assert config.thresholds == AlertThresholds(spike_sigma=2.5, cooldown_min=30.0)
    assert config.notify_urls == (
        "json://127.0.0.1:1/a", "mailtos://u:pw@example.org", "ntfy://ntfy.example/p01-spasms",
    )  # fmt: skip
    assert "pw@" not in repr(config)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"spike_sigmaa": 3}, "unknown key alerts.spike_sigmaa (did you mean 'spike_sigma'?)"),
        ({"spike_min_count": 2.5}, "alerts.spike_min_count must be a whole number, got 2.5"),
        ({"cooldown_min": "1h"}, "alerts.cooldown_min must be a number, got '1h'"),
        ({"tonic_max_s": -1}, "alerts.tonic_max_s must be > 0, got -1"),
        ({"notify_urls": ["ntfy://x"]}, "alerts.notify_urls"),
        ({"notify_urls_file": "/nonexistent/notify"}, "alerts.notify_urls_file: cannot read"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(table: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as error:
        read_alerts(table, environ={})
    assert named in str(error.value)
    assert "\n" not in str(error.value)
