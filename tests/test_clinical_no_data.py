"""No data is not "no spasms": a live run in which no wearable ever connects scores nothing.

The run is the product's (:func:`monitor.live.run_live`: collector over bleak's API on a
bumble virtual controller, pipeline, spool, hourly re-scoring as it stops); the configured
wearable is simply not there, as when it is left in a drawer.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from emulators.process import start_emulated, wearable_address
from monitor.config import parse_config
from monitor.live import run_live
from monitor.report import build_report
from monitor.store import Spool

RUN_S = 3.0


def test_a_run_with_no_wearable_connected_writes_no_clinical_score(tmp_path: Path) -> None:
    # The hub and an empty second host: the gateway's radio, and nobody advertising.
    emulated = start_emulated(0, tmp_path, extra_hosts=1)
    try:
        config = parse_config(
            {
                "patient": {"id": "p09", "timezone": "Europe/London"},
                "device": [{"profile": "reference", "address": wearable_address(1), "placement": "calf",
                            "side": "left", "muscle": "gastrocnemius"}],
                "ble": {"backend": "bumble", "transport": emulated.collector_transport,
                        "scan_timeout_s": 1.0},
                "store": {"spool_path": str(tmp_path / "spool.sqlite")},
            }
        )  # fmt: skip
        with Spool(tmp_path / "spool.sqlite") as spool:
            result = asyncio.run(run_live(config, spool, duration_s=RUN_S, handle_signals=False))
    finally:
        emulated.stop()
    records = Spool(tmp_path / "spool.sqlite").query(0, 2**62)
    kinds = Counter(r.measurement for r in records)
    assert records, "the run wrote its own bookkeeping"  # so the spool is not simply empty
    assert kinds["observation"] == 0
    assert kinds["coverage"] == 0
    assert kinds["clinical_score"] == 0, [r for r in records if r.measurement == "clinical_score"]
    assert result.scores == 0
    # The report says "no data", not "Spasms 0, Penn 0 (no spasms), Snow 1".
    report = build_report(tmp_path / "spool.sqlite", patient="p09", timezone="Europe/London")
    assert (report.days, report.spasms_per_h, report.penn_frequency, report.snow_median) == (
        (),
        None,
        None,
        None,
    )
