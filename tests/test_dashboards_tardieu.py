"""The patient dashboard's Tardieu panel, run on the real InfluxDB 1.6.7 (as test_dashboards_queries)."""

from __future__ import annotations

from conftest import InfluxDatabase
from test_dashboards_queries import PATIENT, panel_queries, post_lines, render

from monitor.store.line_protocol import render_records
from monitor.types import NS_PER_S, FieldValue, Record

DAY_NS = 86_400 * NS_PER_S
DAY0_NS = 1_768_867_200 * NS_PER_S  # 2026-01-20T00:00:00Z
TAGS = {"patient": "p01", "joint": "knee", "side": "left"}


def _session(day: int, r1: float, r2: float) -> list[Record]:
    t = DAY0_NS + day * DAY_NS + 10 * 3600 * NS_PER_S
    fields: dict[str, FieldValue] = {
        "r1_deg": r1,
        "r2_deg": r2,
        "r2_minus_r1_deg": -(r2 - r1),
        "v3_dps": 260.0,
        "catches": 3,
    }
    trial = Record(
        "tardieu", t, {"speed": "fast", "r1_deg": r1 + 5.0, "counted": True}, TAGS | {"scope": "trial"}
    )
    return [Record("tardieu", t, fields, TAGS | {"scope": "session"}), trial]


def test_tardieu_panel_plots_each_sessions_r1_r2_and_difference(influx_db: InfluxDatabase) -> None:
    records = (
        _session(0, 40.0, 10.0)
        + _session(7, 30.0, 8.0)
        + [
            Record(
                "tardieu",
                DAY0_NS,
                {"r1_deg": 99.0, "r2_deg": 1.0},
                {**TAGS, "patient": "p02", "scope": "session"},
            )
        ]
    )

    rows, _ = render_records(records)
    post_lines(influx_db.url, influx_db.name, "\n".join(f"{k} {f} {r.time_ns}" for r, k, f in rows).encode())
    [query] = panel_queries(PATIENT)["Tardieu R1, R2 and R2 − R1 per joint"]
    [series] = influx_db.query(render(query, {}, DAY0_NS - DAY_NS, DAY0_NS + 14 * DAY_NS))
    assert series["tags"] == {"joint": "knee", "side": "left"}
    assert series["columns"] == ["time", "R1", "R2", "R2 − R1"]
    assert {row[0]: row[1:] for row in series["values"]} == {
        DAY0_NS: [40.0, 10.0, 30.0],
        DAY0_NS + 7 * DAY_NS: [30.0, 8.0, 22.0],
    }
