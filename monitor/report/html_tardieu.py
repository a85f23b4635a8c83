"""The report's Tardieu section: R1, R2 and R2 − R1 of the guided tests, over the weeks.

The points are the ``tardieu`` session records (``scope=session``) that
``spasm-monitor tardieu`` stores (``docs/schema.md``): per joint and side, the latest test
of each local day, on the report's day axis with the Botox injections and PT sessions
marked, so a clinician sees R2 − R1 (the dynamic component Botox acts on; Lin et al. 2016)
beside the injection dates. Their protocol and limits: ``docs/clinical.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from monitor.clinical.events import to_local
from monitor.report.cells import nodata, table
from monitor.report.css import JOINT_COLOURS
from monitor.report.html_activity import limb_name
from monitor.report.html_clinician import DayAxis
from monitor.report.model import ReportData, TardieuPoint
from monitor.report.svg import Series, line_chart
from monitor.store.schema import TARDIEU
from monitor.types import Record

R1_COLOUR, R2_COLOUR, DYNAMIC_COLOUR = "#e76f51", "#2a9d8f", "#6a3d9a"


def gather_tardieu(
    records: Sequence[Record], start_ns: int, end_ns: int, zone: ZoneInfo
) -> tuple[TardieuPoint, ...]:
    """The Tardieu sessions in ``[start_ns, end_ns)``: the latest of each local day per limb.

    Examples
    --------
    >>> from monitor.types import Record
    >>> rec = Record("tardieu", 0, {"r2_deg": 10.0, "r1_deg": 30.0, "r2_minus_r1_deg": 20.0,
    ...     "v3_dps": 250.0, "catches": 3, "catch_source": "emg"},
    ...     {"patient": "p01", "joint": "knee", "side": "left", "scope": "session"})
    >>> [(p.joint, p.r1_deg, p.r2_minus_r1_deg) for p in gather_tardieu([rec], 0, 1, ZoneInfo("UTC"))]
    [('knee', 30.0, 20.0)]
    """
    latest: dict[tuple[str, str, dt.date], TardieuPoint] = {}
    for r in records:
        if r.measurement != TARDIEU or r.tags.get("scope") != "session" or not start_ns <= r.time_ns < end_ns:
            continue
        point = TardieuPoint(
            joint=r.tags.get("joint", ""),
            side=r.tags.get("side", ""),
            date=to_local(r.time_ns, zone).date(),
            time_ns=r.time_ns,
            r2_deg=_float(r.fields.get("r2_deg")),
            r1_deg=_float(r.fields.get("r1_deg")),
            r2_minus_r1_deg=_float(r.fields.get("r2_minus_r1_deg")),
            v3_dps=_float(r.fields.get("v3_dps")),
            catch_source=str(r.fields.get("catch_source", "")),
        )
        key = (point.joint, point.side, point.date)
        if key not in latest or latest[key].time_ns <= point.time_ns:
            latest[key] = point
    return tuple(sorted(latest.values(), key=lambda p: (p.joint, p.side, p.time_ns)))


def render_tardieu(data: ReportData, axis: DayAxis) -> str:
    """The ``<section id="tardieu">``: per joint and side, R1, R2 and R2 − R1 per test day."""
    parts = ['<section id="tardieu"><h2>Tardieu test (catch angle and passive range)</h2>']
    if not data.tardieu:
        parts.append(nodata("No Tardieu test in the period (spasm-monitor tardieu --joint ...)."))
        return "".join(parts) + "</section>"
    parts.append(
        "<p>R2: the passive range (slow stretch); R1: the angle where the fast stretch is caught by"
        " the stretch reflex; R2 − R1: the dynamic, spastic part, which Botox is expected to reduce."
        " Angles in degrees of the joint's own convention.</p>"
    )
    for k, (joint, side) in enumerate(sorted({(p.joint, p.side) for p in data.tardieu})):
        name = limb_name(joint, side)
        by_date = {p.date: p for p in data.tardieu if (p.joint, p.side) == (joint, side)}
        colours = (R1_COLOUR, R2_COLOUR, DYNAMIC_COLOUR) if k == 0 else (JOINT_COLOURS[k % 4],) * 3
        series = [
            Series(label, [_value(by_date.get(d), attr) for d in axis.dates], colour)
            for (label, attr), colour in zip(
                (("R1", "r1_deg"), ("R2", "r2_deg"), ("R2 − R1", "r2_minus_r1_deg")), colours, strict=True
            )
        ]
        parts.append(
            line_chart(
                f"{name}: Tardieu R1, R2 and R2 − R1",
                f"{name}: catch angle R1, passive range R2 and their difference per test day, degrees;"
                " injections and PT sessions marked.",
                axis.labels,
                series,
                "angle (deg)",
                axis.markers,
            )
        )
    rows = [
        (
            p.date.isoformat(),
            limb_name(p.joint, p.side),
            _deg(p.r1_deg),
            _deg(p.r2_deg),
            _deg(p.r2_minus_r1_deg),
            "" if p.v3_dps is None else f"{p.v3_dps:.0f}",
            p.catch_source,
        )
        for p in data.tardieu
    ]
    header = ("Date", "Joint", "R1 (deg)", "R2 (deg)", "R2 − R1 (deg)", "V3 (°/s)", "Catch found by")
    parts.append(table(header, rows, "No Tardieu test in the period.", table_id="tardieu-table"))
    return "".join(parts) + "</section>"


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _value(point: TardieuPoint | None, attr: str) -> float | None:
    return None if point is None else getattr(point, attr)


def _deg(value: float | None) -> str:
    return "no catch" if value is None else f"{value:.1f}"


__all__ = ["gather_tardieu", "render_tardieu"]
