"""One rule for enough observed time (monitor.clinical.enough), as a clinician would check it:
no rate, change or Penn score from seconds or minutes of data, in any output."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from monitor.clinical import MIN_RATE_H, pre_post_records, rate_stated
from monitor.clinical.events import local_midnight_ns
from monitor.clinical.scores import clinical_scores
from monitor.demo.summary import DaySummary, HistorySummary, summary_lines
from monitor.report import ReportData, gather, render_html
from monitor.report.cycles import latest_change
from monitor.types import NS_PER_S, FieldValue, Record

TZ = ZoneInfo("Europe/London")
INJECTION = dt.date(2026, 11, 4)
H_NS = 3600 * NS_PER_S
TAGS = {"patient": "p01"}


def worn(t_ns: int, duration_s: float) -> Record:
    fields: dict[str, FieldValue] = {
        "duration_s": duration_s,
        "offset_ns": t_ns + round(duration_s * NS_PER_S),
    }
    return Record("observation", t_ns, fields, TAGS)


def spasm(t_ns: int) -> Record:
    return Record("spasm_event", t_ns, {"duration_s": 2.0, "peak_x_baseline": 4.0}, {**TAGS, "kind": "tonic"})


def day_ns(offset_days: int, hour: int = 9) -> int:
    return local_midnight_ns(INJECTION + dt.timedelta(days=offset_days), TZ) + hour * H_NS


def history(post_worn_s: float, post_spasms: int = 0) -> list[Record]:
    """Two hours a day with 28 spasms (14/h) for the 14 days before an injection, then one
    stretch of ``post_worn_s`` seconds on day 7 after it (the demo's ``--live-s 10`` case)."""
    records = [
        Record(
            "treatment",
            day_ns(0, 8),
            {"dose_u": 200.0, "product": "onabotulinumtoxinA", "muscles": "gastrocnemius"},
            {**TAGS, "kind": "botox"},
        )
    ]
    for d in range(-14, 0):
        records.append(worn(day_ns(d), 2 * 3600.0))
        records += [spasm(day_ns(d) + round(k * 257 * NS_PER_S)) for k in range(28)]
    records.append(worn(day_ns(7), post_worn_s))
    records += [
        spasm(day_ns(7) + round((k + 0.5) * post_worn_s / (post_spasms + 1) * NS_PER_S))
        for k in range(post_spasms)
    ]
    return sorted(records, key=lambda r: r.time_ns)


def test_the_rule_is_half_an_observed_hour() -> None:
    assert (rate_stated(1799.0), rate_stated(1800.0), rate_stated(MIN_RATE_H * 3600.0)) == (False, True, True)


def test_ten_seconds_after_the_injection_say_not_enough_worn_time_everywhere() -> None:
    records = history(post_worn_s=10.0)
    # The stored before/after record (what Grafana reads): the before rate, no after rate, no change.
    (stored,) = pre_post_records(records, TZ)
    assert stored.fields["pre_per_h"] == pytest.approx(14.0)
    assert {"post_per_h", "change_per_h", "change_pct"}.isdisjoint(stored.fields)
    assert stored.fields["post_observed_h"] == pytest.approx(10 / 3600)
    # The report: the clinician's before/after table and the patient's headline agree.
    data = gather(records, patient="p01", zone=TZ)
    html = render_html(data)
    table = html.split('id="pre-post"')[1].split("</table>")[0]
    assert "-100" not in table
    assert "too little data: 10 s" in table
    assert "not enough worn time" in table
    headline = html.split('id="patient-headline">')[1].split("</p>")[0]
    assert "not enough worn time to tell" in headline
    change = latest_change(data.cycles)
    assert change is not None
    assert change.verdict == "unknown"
    # The demo's terminal line, from the same PrePost.
    (injection,) = data.injections
    summary = HistorySummary(
        "p01",
        data.start_ns,
        data.end_ns,
        INJECTION,
        (),
        _days(data),
        injection.pre_post,
        injection.pre_post,
        {},
        0.0,
    )
    line = next(x for x in summary_lines(summary) if "before vs days 7-41" in x)
    assert "14.0 -> too little data: 10 s (not enough worn time to tell" in line
    assert "%" not in line


def test_a_one_minute_day_has_no_rate_no_penn_score_and_no_bar() -> None:
    records = history(post_worn_s=61.0, post_spasms=10)  # the demo's live minute: 597/h
    (day,) = [
        r for r in clinical_scores(records, TZ) if r.tags["period"] == "day" and r.time_ns == day_ns(7, 0)
    ]
    assert (day.fields["spasms"], day.fields["observed_s"]) == (10, 61.0)  # what was seen stays
    assert "spasms_per_h" not in day.fields
    assert "penn_frequency" not in day.fields
    data = gather(records, patient="p01", zone=TZ)
    last = data.days[-1]
    assert (last.spasms_per_h, last.penn_frequency, last.rate_note) == (None, None, "too little data: 1 min")
    html = render_html(data)
    chart = html.split('id="spasms-per-day"')[1].split("</figure>")[0]
    assert not re.search(r"<title>[^<]*59\d\.\d", chart)  # no 597/h bar
    assert "too little data: 1 min" in html.split('id="rate-too-little"')[1].split("</p>")[0]
    # The weekly curve names the week instead of a rate over a minute.
    weeks = html.split("Weekly spasms per observed hour:")[1].split("</p>")[0]
    assert "week +1: too little data: 1 min" in weeks
    assert "597" not in weeks


@pytest.mark.parametrize(("worn_s", "penn"), [(29 * 60.0, None), (3600.0, 4)])
def test_penn_is_scored_only_from_half_an_observed_hour(worn_s: float, penn: int | None) -> None:
    t = day_ns(-3)
    records = [worn(t, worn_s)] + [spasm(t + k * 60 * NS_PER_S) for k in range(12)]  # 12 in the hour
    hour_scores = [r for r in clinical_scores(records, TZ) if r.tags["period"] == "hour"]
    assert [r.fields.get("penn_frequency") for r in hour_scores] == [penn]
    data = gather(records, patient="p01", zone=TZ)
    assert data.penn_frequency == penn
    summary_cell = render_html(data).split('id="summary-penn-frequency">')[1].split("<")[0]
    assert summary_cell.startswith("4 (") if penn else summary_cell == "too little data: 29 min"


def _days(data: ReportData) -> tuple[DaySummary, ...]:
    return tuple(
        DaySummary(d.date, d.observed_s, d.spasms, d.spasms, 0.0, False, 0, 0, float("nan"), float("nan"))
        for d in data.days
    )
