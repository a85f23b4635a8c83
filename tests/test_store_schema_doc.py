"""docs/schema.md and monitor/store/schema.py describe the same measurements."""

from __future__ import annotations

import re
from pathlib import Path

from monitor.store.schema import COMMON_TAGS, MEASUREMENTS

DOC = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text()


def test_every_measurement_has_a_section_and_no_section_is_unknown() -> None:
    sections = re.findall(r"^### (\w+)$", DOC, flags=re.MULTILINE)
    assert sorted(sections) == sorted(MEASUREMENTS)


def test_droppable_marks_match_the_size_cap_policy() -> None:
    for name, measurement in MEASUREMENTS.items():
        section = DOC.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert ("**Droppable.**" in section) == measurement.droppable, name


def test_issue_measurements_and_common_tags_are_documented() -> None:
    required = {"spasm_event", "emg_envelope", "joint_angle", "rom", "movement", "signal_quality"}
    required |= {"gap", "device_status", "alert", "treatment"}
    assert required <= set(MEASUREMENTS)
    for tag in COMMON_TAGS:
        assert f"| `{tag}` |" in DOC
