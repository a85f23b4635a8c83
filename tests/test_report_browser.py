"""The report as a browser shows it: Debian's headless Chromium renders the file offline.

``--dump-dom`` gives the DOM after parsing and layout (the key numbers and headings must be
in it), ``--screenshot`` the pixels (the charts must be drawn, the simulated banner shown).
scripts/services.sh installs ``chromium`` and sets SPASM_TEST_REQUIRE_CHROMIUM=1, so under
the test command a missing browser fails the test; elsewhere it is skipped.

Chromium's every connection goes to a recording proxy on 127.0.0.1 (``--proxy-server``,
loopback included), which answers none: the browser never reaches the network, and the
test sees any fetch the page makes. A control page with an external image proves that a
fetch would be seen. Chromium itself calls a few Google service hosts at start-up
(accounts.google.com, www.google.com, even with --disable-background-networking); those
are told apart by host.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from report_spool import PATIENT, build_spool

from monitor.report import ReportData, build_report, write_report
from monitor.report.html import CSP, SPASM_COLOUR

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
CHROMIUM_TIMEOUT_S = 90  # a cold start on a loaded 2-core machine takes a few seconds
WINDOW = (1280, 3000)
BANNER_RGB = (0xFF, 0xF3, 0xCD)
HEADINGS = (
    "Summary",
    "Alerts",
    "Spasms per observed hour and treatment",
    "Before and after each injection",
    "Spasm types and durations",
    "Day and night",
    "Range of motion",
    "Recent spasm events",
)


# Chromium's own start-up calls (sign-in, connectivity, time, updates, safe browsing), by host;
# Google's font hosts are not among them: a report using web fonts must be caught.
CHROMIUM_SERVICE_HOSTS = re.compile(r"(^|\.)(google\.com|gvt1\.com|googleapis\.com|gstatic\.com)$")
FONT_HOSTS = ("fonts.googleapis.com", "fonts.gstatic.com")


class RecordingProxy:
    """A proxy on 127.0.0.1 that records the target host of each request and answers none."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self.hosts: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5.0)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    line = "? unreadable"
                # "GET http://host/path HTTP/1.1" or "CONNECT host:443 HTTP/1.1"
                target = line.split(" ")[1] if line.count(" ") >= 2 else line
                self.hosts.append(re.sub(r"^[a-z]+://", "", target).split("/")[0].split(":")[0])

    def page_hosts(self, settle_s: float = 1.0) -> list[str]:
        """Hosts asked for other than Chromium's own service calls, once no request came for
        ``settle_s`` (a connection made just before Chromium exited may still be queued)."""
        count = -1
        while count != len(self.hosts):
            count = len(self.hosts)
            time.sleep(settle_s)
        return [h for h in self.hosts if h in FONT_HOSTS or not CHROMIUM_SERVICE_HOSTS.search(h)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._server.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    recorder = RecordingProxy()
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (Debian: apt-get install chromium; scripts/services.sh does it)"
        if os.environ.get("SPASM_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportData, Path]:
    folder = tmp_path_factory.mktemp("browser")
    # Just over half an hour a day (the first day's 12.5-s gap included): every day has a rate
    # and a bar (monitor.clinical.enough), at half the detection of a whole hour.
    built = build_spool(folder / "spool.sqlite", simulated_tag=True, days=16, window_s=1830.0)
    data = build_report(built.path, patient=PATIENT, timezone="Europe/London")
    return data, write_report(data, folder / "report.html")


def run_chromium(
    chromium: str, tmp_path: Path, proxy: RecordingProxy, *args: str
) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"  # a fresh profile each run: nothing cached, nothing shared
    network = [f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>"]
    command = [chromium, *CHROMIUM_FLAGS, *network, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def test_report_file_references_nothing_outside_itself(rendered: tuple[ReportData, Path]) -> None:
    html = rendered[1].read_text(encoding="utf-8")
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.IGNORECASE)
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert "@import" not in html
    assert "url(" not in html
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert "default-src 'none'" in CSP


def test_a_fetch_by_the_page_would_be_seen(chromium: str, proxy: RecordingProxy, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://report-test.invalid/x.png" alt="">', encoding="utf-8")
    run_chromium(chromium, tmp_path, proxy, "--dump-dom", control.as_uri())
    assert "report-test.invalid" in proxy.page_hosts(), proxy.hosts


def test_rendered_dom_holds_the_sections_and_key_numbers(
    chromium: str, rendered: tuple[ReportData, Path], proxy: RecordingProxy, tmp_path: Path
) -> None:
    data, path = rendered
    dom = run_chromium(chromium, tmp_path, proxy, "--dump-dom", path.as_uri()).stdout
    assert proxy.page_hosts() == [], f"the report fetched from the network: {proxy.hosts}"
    for heading in HEADINGS:
        assert re.search(rf"<h[23]>{re.escape(heading)}</h[23]>", dom), heading

    def cell(key: str) -> str:
        match = re.search(rf'id="summary-{key}">([^<]*)<', dom)
        assert match, key
        return match.group(1)

    assert cell("spasms") == str(data.spasms)
    assert data.spasms > 10
    assert cell("spasms-per-hour") == f"{data.spasms_per_h:.2f}"
    assert cell("completeness") == f"{data.coverage.completeness_pct:.1f} %"
    assert cell("penn-frequency").startswith(f"{data.penn_frequency} (")
    if data.snow_median is None:  # no day worn min_wear_h: said, not a score of 1
        assert cell("snow").startswith("not scored")
    else:
        assert cell("snow").startswith(f"{data.snow_median} (")
    assert cell("alerts") == "2"
    assert re.search(rf'id="night-spasms">{data.night_spasms}<', dom)
    assert "SIMULATED DATA" in dom
    (injection,) = data.injections
    pre_post = dom.split('id="pre-post"')[1].split("</table>")[0]
    assert f"{injection.pre_post.pre_spasms} in " in pre_post
    assert f"({injection.pre_post.pre_days} d)" in pre_post
    events = dom.split('id="events-table"')[1].split("</table>")[0]
    assert events.count("<tr>") == 1 + len(data.events)  # header + rows
    assert dom.count("<svg") >= 5  # spasms per day, durations, day/night, ROM, repetitions
    assert "<title" in dom.split('id="spasms-per-day"')[1]


def test_screenshot_shows_charts_and_the_simulated_banner(
    chromium: str, rendered: tuple[ReportData, Path], proxy: RecordingProxy, tmp_path: Path
) -> None:
    png = tmp_path / "report.png"
    run_chromium(
        chromium, tmp_path, proxy, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--hide-scrollbars", rendered[1].as_uri(),
    )  # fmt: skip
    assert proxy.page_hosts() == [], f"the report fetched from the network: {proxy.hosts}"
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    assert rgb.size == WINDOW
    colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is not None
    counts = {colour: n for n, colour in colours}
    white = counts.get((255, 255, 255), 0)
    assert white < 0.97 * WINDOW[0] * WINDOW[1], "the page is blank"
    assert len(counts) > 50, "no text or charts were drawn"
    assert counts.get(BANNER_RGB, 0) > 20_000, "the simulated-data banner is missing"
    bars = tuple(int(SPASM_COLOUR[k : k + 2], 16) for k in (1, 3, 5))
    assert counts.get(bars, 0) > 2_000, "the spasm bars are not drawn"
    lower = rgb.crop((0, WINDOW[1] // 2, WINDOW[0], WINDOW[1]))
    assert lower.getextrema() != ((255, 255), (255, 255), (255, 255)), "the lower half is blank"
