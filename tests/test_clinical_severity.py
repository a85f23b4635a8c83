"""Severity graded against the patient's own reference period."""

from __future__ import annotations

import datetime as dt

import numpy as np

from monitor.clinical import clinical_scores, penn_severity, spasm_rows
from monitor.clinical.severity import (
    FIRST_OBSERVED,
    PRE_INJECTION,
    severity_distribution,
    severity_references,
)
from monitor.treatment import BotoxInjection
from monitor.types import NS_PER_S, Record

START = dt.date(2026, 2, 1)
SHOT = START + dt.timedelta(days=14)


def _ns(day: dt.date, hour: float) -> int:
    return (
        round(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() + hour * 3600) * NS_PER_S
    )


def _history(strength_after: float, injected: bool = True) -> list[Record]:
    """28 days, 4 spasms a day peaking at 10-25x baseline; from day 14 at ``strength_after`` of that."""
    rng = np.random.default_rng(0)
    out = [BotoxInjection(SHOT, ("soleus",), "left", 200).to_record(dt.UTC, "p1")] if injected else []
    for d in range(28):
        day = START + dt.timedelta(days=d)
        out.append(Record("observation", _ns(day, 8), {"duration_s": 4 * 3600.0}, {"patient": "p1"}))
        factor = strength_after if day >= SHOT else 1.0
        for i, peak in enumerate(rng.uniform(10.0, 25.0, 4)):
            out.append(
                Record(
                    "spasm_event",
                    _ns(day, 8 + i),
                    {"duration_s": 2.0, "peak_x_baseline": float(peak * factor)},
                    {"patient": "p1"},
                )
            )
    return out


def _after(records: list[Record]) -> list:
    return [r for r in spasm_rows(records) if r.onset_ns >= _ns(SHOT, 0)]


def test_a_40_percent_drop_in_amplitude_moves_the_severity_distribution() -> None:
    same, weaker = _history(1.0), _history(0.6)
    (ref,) = severity_references(weaker, "UTC").values()
    assert (ref.source, ref.spasms) == (PRE_INJECTION, 56)  # the 14 days before the injection
    untreated = severity_distribution(_after(same), ref)
    treated = severity_distribution(_after(weaker), ref)
    assert min(untreated.values()) >= 12  # about a third in each grade (56 spasms after)
    assert treated[3] == 0
    assert treated[1] >= 40
    # The fixed rule (peak >= 10x baseline is severe) does not move: it calls most of both severe.
    fixed = [penn_severity(r.duration_s, r.peak_x_baseline) for r in _after(weaker)]
    assert sum(g == 3 for g in fixed) >= 0.4 * len(fixed)
    # The daily scores use the reference: post-injection days are graded mild.
    days = [
        r for r in clinical_scores(weaker, "UTC") if r.tags["period"] == "day" and r.time_ns >= _ns(SHOT, 0)
    ]
    assert {r.fields["penn_severity"] for r in days} == {1}


def test_without_an_injection_the_first_observed_days_are_the_reference_and_it_says_so() -> None:
    (ref,) = severity_references(_history(1.0, injected=False), "UTC").values()
    assert (ref.source, ref.start_ns, ref.end_ns) == (FIRST_OBSERVED, _ns(START, 0), _ns(SHOT, 0))
    assert ref.grade(None) is None  # an IMU-only spasm is not graded
