"""The report as its readers meet it: on a phone, on a desktop, on paper, and in plain words.

The report is built from the demo's simulated history (:func:`monitor.demo.simulate_history`,
the real detectors on synthetic physiology around one injection), then opened in Debian's
headless Chromium over the DevTools pipe (tests/report_cdp.py) at 390 and 1280 CSS px, and
printed to PDF with print media. Every connection Chromium makes goes to a closed port on
127.0.0.1 (the file needs none). Screenshots go to the test's tmp folder, and also to
``$SPASM_REPORT_SCREENSHOTS`` when that names a folder (docs/report-screenshots/ was made so).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import zlib
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from PIL import Image
from report_cdp import Browser
from report_spool import PATIENT, build_spool

from monitor.clinical.cycle import RateRatio
from monitor.demo.history import build_history_file
from monitor.report import ReportData, build_report, render_html, write_report
from monitor.report.cycles import format_ratio, latest_change
from monitor.report.model import Cycle

WIDTHS_PX = (390, 1280)
MIN_CHART_TEXT_PX = 11.0
ZONE = "Europe/Berlin"
# Words a patient should not meet: internal names, statistics, scale names (the clinician's part
# has them, with plain labels).
JARGON = (
    "spool",
    "observation interval",
    "peak × baseline",
    "baseline",
    "cohen",
    "rate ratio",
    "confidence interval",
    "ci",
    "poisson",
    "glm",
    "cusum",
    "sandwich",
    "dispersion",
    "emg",
    "penn",
    "snow",
    "episode",
    "observed hour",
    "record",
    "channel",
)

CHART_TEXT_PX_JS = """(() => {
  const sizes = [];
  for (const t of document.querySelectorAll('svg.chart text')) {
    if (!t.getClientRects().length) continue;  // in the drawing hidden at this width
    const m = t.getScreenCTM();
    sizes.push(parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b));
  }
  return sizes;
})()"""


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportData, Path]:
    folder = tmp_path_factory.mktemp("layout")
    # PT days only (twice a week draw the range-of-motion chart): the IMU windows of home
    # exercise would cost a third of the build.
    build_history_file(
        folder / "spool.sqlite", start_date=dt.date(2026, 2, 2), weeks=6, injection_week=2, windows_per_day=2,
        window_s=900.0, wear_day_h=4.0, home_exercise_every_days=0, timezone=ZONE, patient="demo", seed=0,
    )  # fmt: skip
    data = build_report(folder / "spool.sqlite", patient="demo", timezone=ZONE)
    return data, write_report(data, folder / "report.html")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (Debian: apt-get install chromium; scripts/services.sh does it)"
        if os.environ.get("SPASM_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Port 9 on loopback is closed: Chromium's own start-up calls fail at once and go nowhere.
    offline = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>")
    chromium = Browser(path, tmp_path_factory.mktemp("profile"), offline)
    yield chromium
    chromium.close()


def keep_screenshot(png: Path, name: str) -> None:
    """Copy to $SPASM_REPORT_SCREENSHOTS, small: the page's top 2400 px, 64 colours."""
    folder = os.environ.get("SPASM_REPORT_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    with Image.open(png) as image:
        top = image.convert("RGB").crop((0, 0, image.width, min(image.height, 2400)))
        if top.width > 900:
            top = top.resize((900, round(top.height * 900 / top.width)))
        top.quantize(64).save(Path(folder) / name, optimize=True)


@pytest.mark.parametrize("width_px", WIDTHS_PX)
def test_report_fits_the_screen_and_its_chart_text_is_readable(
    browser: Browser, demo_report: tuple[ReportData, Path], width_px: int, tmp_path: Path
) -> None:
    browser.send("Emulation.setEmulatedMedia", media="screen")
    browser.open(demo_report[1].as_uri(), width_px)
    scroll_w, inner_w = browser.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert inner_w == width_px
    assert scroll_w <= inner_w, f"the page scrolls sideways at {width_px} px: {scroll_w} px wide"
    sizes = browser.evaluate(CHART_TEXT_PX_JS)
    assert len(sizes) > 50, "no chart text was measured"
    assert min(sizes) >= MIN_CHART_TEXT_PX, f"chart text at {min(sizes):.1f} px on a {width_px}-px screen"
    # Wide tables scroll in their own box; the page does not.
    boxes = browser.evaluate(
        "[...document.querySelectorAll('table')].map(t => t.parentElement.className === 'table-scroll')"
    )
    assert boxes
    assert all(boxes)
    captions = browser.evaluate(
        "[...document.querySelectorAll('figure.chart figcaption')].map(c => c.textContent)"
    )
    assert "Left knee: best range of motion per day" in captions
    png = browser.screenshot(tmp_path / f"report-{width_px}px.png")
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    assert rgb.width <= width_px
    assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 50, "nothing was drawn"
    keep_screenshot(png, f"report-{width_px}px.png")


def test_report_prints_on_several_a4_pages_with_nothing_folded_away(
    browser: Browser, demo_report: tuple[ReportData, Path], tmp_path: Path
) -> None:
    browser.send("Emulation.setEmulatedMedia", media="print")
    browser.open(demo_report[1].as_uri(), 703)  # A4's 210 mm less 2 × 12 mm margins, at 96 px/in
    # A reader folded the daily table on screen: print still shows it.
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
    shown = browser.evaluate(
        "[...document.querySelectorAll('details table')].map(t => t.getBoundingClientRect().height)"
    )
    assert shown
    assert min(shown) > 0, "a folded table is lost on paper"
    wide = browser.evaluate("document.querySelectorAll('svg.chart-wide').length")
    visible = browser.evaluate(
        "[...document.querySelectorAll('svg.chart')].filter(s => s.getClientRects().length).length"
    )
    assert visible == wide > 5  # the wide drawings print, one per chart
    assert min(browser.evaluate(CHART_TEXT_PX_JS)) >= MIN_CHART_TEXT_PX
    pdf = browser.print_pdf(tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    drawn = sum(b" Tj" in text or b"TJ" in text for text in _streams(pdf))
    assert pages > 1, "the report prints on one page"
    assert drawn >= pages, f"{drawn} content streams with text for {pages} pages"
    keep_screenshot(browser.screenshot(tmp_path / "print.png"), "report-print-a4.png")


def test_patient_summary_is_plain_and_states_the_clinicians_rate_ratio(
    demo_report: tuple[ReportData, Path],
) -> None:
    data, path = demo_report
    html = path.read_text(encoding="utf-8")
    patient = html.split('<section id="patient">')[1].split("</section>")[0]
    assert html.index('<section id="patient">') < html.index('id="clinician"')  # the patient reads first
    words = unescape(re.sub(r"<[^>]+>", " ", patient)).lower()
    found = [w for w in JARGON if re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", words)]
    assert found == [], f"jargon in the patient's summary: {found}"
    change = latest_change(data.cycles)
    assert change is not None
    assert change.window is not None
    assert change.verdict == "fewer"
    stated = re.search(r'id="patient-ratio">([0-9.]+)<', patient)
    assert stated, "the patient's summary gives no number"
    # The clinician's tables show the same ratio: the stored treatment_response and the window row.
    assert stated.group(1) == f"{data.cycles[-1].response['rate_ratio_peak']:.2f}"
    w = change.window
    assert format_ratio(w.ratio, w.ci_low, w.ci_high) in html.split('id="cycle-response"')[1]
    assert f"{100 * (1 - w.ratio):.0f}\u00a0% fewer spasms" in words
    assert 'id="patient-picture"' in patient
    assert "<details open><summary>Daily clinical scores" in html  # open by default


def test_patient_is_told_when_worn_time_is_too_short_to_tell(tmp_path: Path) -> None:
    # 2 minutes a day: 28 min in the 2 weeks before the injection, under the half-hour rule.
    built = build_spool(tmp_path / "spool.sqlite", days=30, window_s=120.0)
    data = build_report(built.path, patient=PATIENT, timezone="Europe/London")
    patient = render_html(data).split('<section id="patient">')[1].split("</section>")[0]
    assert "not enough worn time to tell" in patient
    assert "patient-ratio" not in patient
    assert "patient-picture" not in patient


def _ratio(name: str, hours: float, ratio: float, low: float, high: float) -> RateRatio:
    return RateRatio(name, 14, 100, hours, 1.0, ratio, low, high)


@pytest.mark.parametrize(
    ("window", "verdict"),
    [
        (_ratio("peak", 40.0, 0.5, 0.4, 0.62), "fewer"),
        (_ratio("peak", 40.0, 1.6, 1.2, 2.1), "more"),
        (_ratio("peak", 40.0, 0.9, 0.7, 1.2), "no clear change"),
        (_ratio("peak", 0.4, 0.5, 0.4, 0.62), "unknown"),  # under half an hour worn
        (_ratio("peak", 40.0, 0.5, 0.1, 2.5), "unknown"),  # interval too wide
        (_ratio("peak", 40.0, math.nan, math.nan, math.nan), "unknown"),
    ],
)
def test_change_verdict_follows_the_interval_and_the_worn_hours(window: RateRatio, verdict: str) -> None:
    baseline = _ratio("baseline", 30.0, 1.0, 1.0, 1.0)
    cycle = Cycle(dt.date(2026, 3, 1), "200 U", {"last_day": 42}, (baseline, window), ())
    change = latest_change([cycle])
    assert change is not None
    assert (change.verdict, change.first_day, change.last_day) == (verdict, 21, 42)


def _streams(pdf: bytes) -> Iterator[bytes]:
    """The PDF's streams, inflated where they are Flate-compressed."""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            yield zlib.decompress(match.group(1))
        except zlib.error:
            yield match.group(1)
