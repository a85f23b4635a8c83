"""The home spike rule counts what the stored hourly scores count: the affected limbs' episodes (issue 14.8).

Before, the home engine counted every limb's spasms while the ``clinical_score`` records,
the report, the panels and the Grafana rule counted the affected limbs' episodes only: a
storm in the untreated leg alerted at home and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from monitor.alerts import AlertEngine
from monitor.clinical import score_spool
from monitor.store import Spool
from monitor.types import NS_PER_S, Record

H_NS = 3600 * NS_PER_S
MIN_NS = 60 * NS_PER_S
T0_NS = 1_764_028_800 * NS_PER_S  # 2025-11-25 00:00 UTC
PATIENT = {"patient": "p01"}
BASELINE_H = 48


def _spasm(t_ns: int, side: str) -> list[Record]:
    """One spasm as the detectors report it: two EMG channels of the leg's calf wearable."""
    tags = PATIENT | {"device": f"calf-{side}", "side": side, "kind": "tonic"}
    return [
        Record("spasm_event", t_ns, {"duration_s": 2.0}, tags | {"channel": "0"}),
        Record("spasm_event", t_ns + NS_PER_S // 5, {"duration_s": 1.5}, tags | {"channel": "1"}),
    ]


def _history() -> list[Record]:
    """48 observed hours (left 1-3 spasms an hour, right 4), a right-leg storm, then a left one."""
    botox = Record(
        "treatment", T0_NS - 24 * H_NS, {"dose_u": 200.0}, PATIENT | {"kind": "botox", "side": "left"}
    )
    records = [botox]
    for hour in range(BASELINE_H + 4):
        start = T0_NS + hour * H_NS
        records.append(Record("observation", start, {"duration_s": 3600.0}, PATIENT))
        for minute in (10, 30, 50) if hour % 2 else (30,):
            records += _spasm(start + minute * MIN_NS, "left")
        for minute in (5, 20, 35, 45):
            records += _spasm(start + minute * MIN_NS, "right")
    for minute in range(20):  # hour 48: the right leg, 20 spasms
        records += _spasm(T0_NS + BASELINE_H * H_NS + minute * MIN_NS + 30 * NS_PER_S, "right")
    for minute in range(20):  # hour 50: the injected left leg, 20 spasms
        records += _spasm(T0_NS + (BASELINE_H + 2) * H_NS + minute * MIN_NS + 30 * NS_PER_S, "left")
    return records


def test_home_spike_rule_counts_the_stored_hourly_scores_spasms(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool.sqlite") as spool:
        spool.append(_history())
        spool.append(score_spool(spool, T0_NS, T0_NS + (BASELINE_H + 4) * H_NS, "UTC"))
        scores = spool.query(0, 2**62, measurement="clinical_score")
        engine = AlertEngine()
        alerts = engine.process_all(spool.query(0, 2**62))
    hourly = {r.time_ns: int(r.fields["spasms"]) for r in scores if r.tags["period"] == "hour"}
    assert len(hourly) == BASELINE_H + 4  # every observed hour is scored
    # Hour by hour, the engine counted the stored score's spasms: the left leg's episodes only.
    assert engine.spasms_by_hour("p01") == {hour: n for hour, n in hourly.items() if n}
    assert hourly[T0_NS + BASELINE_H * H_NS] == 1  # the right leg's storm is not the scores' spike
    assert hourly[T0_NS + (BASELINE_H + 2) * H_NS] == 21
    # So the storm in the untreated leg raises nothing at home either; the treated leg's does.
    (spike,) = [a for a in alerts if a.rule == "spasm_spike"]
    assert T0_NS + (BASELINE_H + 2) * H_NS < spike.time_ns < T0_NS + (BASELINE_H + 2) * H_NS + 20 * MIN_NS


def test_affected_limbs_known_up_front_count_from_the_first_spasm() -> None:
    # A live run tells the engine the injected side before any record (treatment log, config).
    right_first = _spasm(T0_NS, "right") + _spasm(T0_NS + MIN_NS, "left")
    told = AlertEngine(affected={"p01": {"left"}})
    told.process_all(right_first)
    assert told.spasms_by_hour("p01") == {T0_NS: 1}
    untold = AlertEngine()  # nothing says which leg: every limb counts, as in the scores
    untold.process_all(right_first)
    assert untold.spasms_by_hour("p01") == {T0_NS: 2}
