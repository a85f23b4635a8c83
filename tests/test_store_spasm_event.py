"""A spasm's stored form: ``spasm_event_record`` and ``spasm_event_from_record`` are inverses.

One spasm type (:class:`monitor.types.SpasmEvent`) goes from the detector to the report; the
spool holds it as a ``spasm_event`` row. These tests write events to a real spool, read them
back, and check that nothing measured is lost and that rows of old spools still read.
"""

from __future__ import annotations

import re
from pathlib import Path

from monitor.store import Spool
from monitor.store.schema import SPASM_EVENT, SPASM_FEATURES, spasm_event_from_record, spasm_event_record
from monitor.types import NS_PER_S, Record, SpasmEvent

T0_NS = 1_767_225_600 * NS_PER_S
DOC = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text()


def test_an_event_reads_back_from_the_spool_as_it_was_written(tmp_path: Path) -> None:
    emg = SpasmEvent(
        T0_NS, T0_NS + 2 * NS_PER_S, "clonus", 1, 0.4, 0.2, 40.0, 20.0, 0.01, 0.3, 5.5, "calf",
        device="cf12", patient="p-01", side="left",
    )  # fmt: skip
    imu = SpasmEvent(T0_NS + 5, T0_NS + 400_000_005, "movement", 0, imu_peak_dps=180.0, device="sh01")
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.append([spasm_event_record(emg, {"muscle": "soleus"}), spasm_event_record(imu)])
        rows = spool.query(0, 2**63 - 1, measurement=SPASM_EVENT)
    assert [spasm_event_from_record(r) for r in rows] == [emg, imu]
    assert rows[0].tags == {
        "kind": "clonus", "channel": "1", "location": "calf", "device": "cf12", "patient": "p-01",
        "side": "left", "muscle": "soleus",
    }  # fmt: skip
    assert rows[0].fields["duration_s"] == 2.0
    assert set(rows[1].fields) == {"duration_s", "offset_ns", "imu_peak_dps"}  # only what was measured


def test_the_tags_given_win_over_the_events_own() -> None:
    event = SpasmEvent(T0_NS, T0_NS + NS_PER_S, "tonic", 0, patient="old")
    assert spasm_event_record(event, {"patient": "p01"}).tags["patient"] == "p01"


def test_rows_with_only_a_duration_or_no_channel_still_read() -> None:
    # Hand-written rows and old versions: the end from duration_s, channel 0, the kind as written.
    row = Record(SPASM_EVENT, T0_NS, {"duration_s": 2.5, "peak_x_baseline": 7}, {"kind": "myoclonic"})
    event = spasm_event_from_record(row)
    assert (event.offset_ns - event.onset_ns, event.channel, event.kind) == (2_500_000_000, 0, "myoclonic")
    assert event.peak_x_baseline == 7.0
    odd = Record(SPASM_EVENT, T0_NS, {"duration_s": 1.0}, {"channel": "left"})
    assert (spasm_event_from_record(odd).channel, spasm_event_from_record(odd).kind) == (0, "")


def test_every_stored_field_is_documented() -> None:
    section = DOC.split(f"### {SPASM_EVENT}\n", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"`(\w+)`", section.split("Fields:", 1)[1]))
    assert {"duration_s", "offset_ns", *SPASM_FEATURES} <= documented
