"""The affected limbs are the patient's, not the scored window's (issue 14: one computation).

Day 1: the left leg's spasms and a Botox injection of the left leg (or the left wearable's
``affected=true`` tag, or only the config's ``affected = true``). Day 2: only the right leg
(not affected) has spasms. Scoring day 2 on its own, as a live run's hourly scoring, a
report of day 2 and a live run started on day 2 do, must count 0 spasms over its observed
hours: before, a window's scores learned the affected sides from the window alone, and so
counted the right leg's spasms on day 2 while the live alert engine did not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from monitor.alerts import AlertEngine
from monitor.clinical.affected import configured_affected
from monitor.clinical.closing import EpisodeCloser
from monitor.clinical.rescore import HourlyRescorer
from monitor.config import AppConfig, parse_config
from monitor.live import known_affected
from monitor.report import build_report
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

DAY1 = dt.date(2026, 1, 20)
DAY1_NS = 1_768_867_200 * NS_PER_S  # 2026-01-20T00:00:00Z
H_NS = 3600 * NS_PER_S
DAY_NS = 24 * H_NS
WORN_HOURS = range(8, 18)  # 08:00-18:00 observed on both days
PATIENT = "p01"

# How the record of day 1 says the left leg is affected.
BOTOX, TAGGED, CONFIGURED = "botox", "tagged", "configured"


def _config(tmp_path: Path, left_affected: bool) -> AppConfig:
    calf = {"profile": "reference", "placement": "calf", "muscle": "soleus"}
    return parse_config(
        {
            "patient": {"id": PATIENT, "timezone": "UTC"},
            "device": [
                calf | {"name": "calf-left", "side": "left", "affected": left_affected},
                calf | {"name": "calf-right", "side": "right"},
            ],
            "store": {"spool_path": str(tmp_path / "spool.sqlite")},
        }
    )


def configured(config: AppConfig) -> dict[str, set[str]]:
    """The config's ``affected = true`` wearables, as ``run`` and ``report --config`` read them."""
    return configured_affected(config.patient.id, config.devices)


def _spasm(t_ns: int, side: str, tagged: bool) -> list[Record]:
    """One spasm as the detector reports it: a row per EMG channel of the leg's wearable."""
    tags = {"patient": PATIENT, "device": f"calf-{side}", "side": side, "kind": "tonic"}
    if tagged:
        tags["affected"] = "true"
    return [
        Record("spasm_event", t_ns, {"duration_s": 2.0, "peak_x_baseline": 6.0}, tags | {"channel": "0"}),
        Record("spasm_event", t_ns + NS_PER_S // 4, {"duration_s": 1.5}, tags | {"channel": "1"}),
    ]


def _day(day_ns: int, side: str, tagged: bool) -> list[Record]:
    """Ten observed hours with three spasms of one leg in each."""
    out = []
    for hour in WORN_HOURS:
        start = day_ns + hour * H_NS
        out.append(Record("observation", start, {"duration_s": 3600.0}, {"patient": PATIENT}))
        for minute in (10, 30, 50):
            out += _spasm(start + minute * 60 * NS_PER_S, side, tagged)
    return out


def _history(how: str) -> list[Record]:
    day1 = _day(DAY1_NS, "left", tagged=how == TAGGED)
    if how == BOTOX:
        tags = {"patient": PATIENT, "kind": "botox", "side": "left"}
        day1.append(Record("treatment", DAY1_NS + 9 * H_NS, {"dose_u": 100.0, "muscles": "soleus"}, tags))
    return sorted(day1 + _day(DAY1_NS + DAY_NS, "right", tagged=False), key=lambda r: r.time_ns)


@pytest.mark.parametrize("how", [BOTOX, TAGGED, CONFIGURED])
def test_a_day_with_only_the_unaffected_legs_spasms_counts_none_everywhere(tmp_path: Path, how: str) -> None:
    config = _config(tmp_path, left_affected=how == CONFIGURED)
    path = tmp_path / "spool.sqlite"
    with Spool(path) as spool:
        spool.append(_history(how))
    # A live run started at 23:00 on day 2 scores its first hour: day 2 alone, as run_live does
    # (with the run's config), and writes the day's episodes from before the run.
    day2_ns = DAY1_NS + DAY_NS
    run_start_ns = day2_ns + 23 * H_NS
    rescorer = HourlyRescorer(path, "UTC", run_start_ns, configured_affected=configured(config))
    assert asyncio.run(rescorer.score(run_start_ns, run_start_ns + H_NS)) > 0
    with Spool(path) as spool:
        scores = spool.query(day2_ns, day2_ns + DAY_NS, measurement="clinical_score")
        episodes = spool.query(day2_ns, day2_ns + DAY_NS, measurement="spasm_episode")
        affected = known_affected(config, spool)  # what run_live tells its alert engine and closer
        day2 = spool.query(day2_ns, day2_ns + DAY_NS)

    # The stored day 2 score: 0 spasms in its 10 observed hours, not the right leg's 30.
    [day] = [r for r in scores if r.tags["period"] == "day"]
    assert (day.fields["spasms"], day.fields["observed_s"]) == (0, 10 * 3600.0)
    assert day.fields["penn_frequency"] == 0
    assert day.fields["spasms_per_h"] == 0.0
    hours = [r for r in scores if r.tags["period"] == "hour"]
    assert len(hours) == len(WORN_HOURS)
    assert all(r.fields["spasms"] == 0 for r in hours)
    # The dashboards' episodes: the right leg's 30 are stored, none counted by the scores.
    assert len(episodes) == 30
    assert not any(r.fields["affected"] for r in episodes)

    # The report (with the config, as `spasm-monitor report --config` reads it): day 1 counts the
    # left leg's 30 spasms, day 2 none, over the whole period and over day 2 alone.
    whole = build_report(path, timezone="UTC", affected=configured(config))
    assert [(d.date, d.spasms, d.observed_s) for d in whole.days] == [
        (DAY1, 30, 10 * 3600.0),
        (DAY1 + dt.timedelta(days=1), 0, 10 * 3600.0),
    ]
    report = build_report(
        path, timezone="UTC", start_date=DAY1 + dt.timedelta(days=1), affected=configured(config)
    )
    [report_day] = report.days
    assert (report_day.spasms, report_day.observed_s) == (0, 10 * 3600.0)
    assert report.spasms == 0
    assert report.spasms_per_h == 0.0

    # The alert engine and the episode closer of a run started on day 2 count what the scores count.
    engine = AlertEngine(config.alerts.thresholds, affected)
    engine.process_all(day2)
    assert engine.spasms_by_hour(PATIENT) == {}
    closer = EpisodeCloser(settle_s=0.0, known_affected=affected)
    closer.add(r for r in day2 if r.measurement == "spasm_event")
    closed = closer.close_all()
    assert len(closed) == 30
    assert not any(r.fields["affected"] for r in closed)
