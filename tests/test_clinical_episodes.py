"""Spasms, not rows: one spasm per limb episode, counted the same way by every output.

The detector writes one ``spasm_event`` per EMG channel and the IMU one more; a clinician
counts one spasm of the leg. These tests build such rows by hand (known answers) and check
the episode rule (limb = patient + side, merge within 1 s), which limbs are scored (treatment
log, ``affected = true``), the Thomas et al. (2014) names read from old spools, and that the
spike alert counts episodes as the scores do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.alerts import AlertEngine
from monitor.clinical import clinical_scores
from monitor.clinical.events import EPISODE_GAP_S, episode_records, episodes, spasm_kind
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.store.schema import spasm_event_from_record
from monitor.types import NS_PER_S, Record
from tests.alert_scenarios import H_NS, MIN_NS, T0_NS, TAGS, baseline_hours, by_time

S = NS_PER_S


def event(
    t_s: float, side: str = "left", kind: str = "tonic", duration_s: float = 2.0, **tags: str
) -> Record:
    """One EMG channel's spasm_event of p01 at ``t_s`` seconds after T0."""
    fields = {"duration_s": duration_s, "peak_x_baseline": 8.0}
    return Record(
        "spasm_event", T0_NS + round(t_s * S), fields, {"patient": "p01", "kind": kind, "side": side} | tags
    )


def imu_event(t_s: float, side: str = "left", kind: str = "movement") -> Record:
    fields = {"duration_s": 0.4, "imu_peak_dps": 180.0}
    return Record(
        "spasm_event", T0_NS + round(t_s * S), fields, {"patient": "p01", "kind": kind, "side": side}
    )


def botox(side: str) -> Record:
    tags = {"patient": "p01", "kind": "botox", "side": side}
    return Record("treatment", T0_NS - 86_400 * S, {"dose_u": 100.0, "muscles": "soleus"}, tags)


def worn_hour() -> Record:
    return Record("observation", T0_NS, {"duration_s": 3600.0}, {"patient": "p01"})


def test_channels_and_wearables_of_one_limb_are_one_spasm() -> None:
    # Gastrocnemius and soleus electrodes, and the shank IMU, all see the same spasm.
    rows = [event(0.0), event(0.3, channel="1"), imu_event(0.5)]
    [spasm] = episodes(rows)
    assert (spasm.events, spasm.duration_s, spasm.kind) == (3, 2.3, "tonic")


def test_a_rapid_series_without_a_pause_is_one_spasm_and_a_pause_splits_it() -> None:
    # Offsets at 2 s: the next onset 0.5 s later joins (Snow: no pause), 1.5 s later does not.
    joined = episodes([event(0.0), event(2.0 + 0.5 * EPISODE_GAP_S)])
    split = episodes([event(0.0), event(2.0 + 1.5 * EPISODE_GAP_S)])
    assert (len(joined), len(split)) == (1, 2)
    assert joined[0].duration_s == pytest.approx(4.5)


def test_the_other_leg_and_another_patient_are_their_own_spasms() -> None:
    rows = [event(0.0, "left"), event(0.0, "right"), event(0.0, "left", patient="p02")]
    got = sorted((e.patient, e.side) for e in episodes(rows))
    assert got == [("p01", "left"), ("p01", "right"), ("p02", "left")]


def test_kinds_take_the_literatures_names_and_old_spools_are_read_with_them() -> None:
    # Thomas et al. 2014: myoclonus; an IMU-only jerk is a movement spasm, old spools wrote
    # both as "myoclonic".
    old_emg, old_imu = event(0.0, kind="myoclonic", duration_s=0.3), imu_event(0.0, kind="myoclonic")
    old = [spasm_event_from_record(r) for r in (old_emg, old_imu)]
    assert [spasm_kind(e) for e in old] == ["myoclonus", "movement"]
    assert [spasm_kind(e) for e in episodes([old_imu])] == ["movement"]
    # The IMU's movement is evidence of an EMG spasm, not a second class: not "mixed".
    assert [spasm_kind(e) for e in episodes([event(0.0, kind="clonus"), imu_event(0.2)])] == ["clonus"]
    assert [spasm_kind(e) for e in episodes([event(0.0, kind="clonus"), event(0.2, kind="tonic")])] == [
        "mixed"
    ]
    # An old spool's IMU-only "myoclonic" beside an EMG spasm is evidence of it, in either order.
    imu_first = episodes([imu_event(0.0, kind="myoclonic"), event(0.2, kind="myoclonic")])
    emg_first = episodes([event(0.0, kind="tonic"), imu_event(0.2, kind="myoclonic")])
    assert [spasm_kind(e) for e in imu_first + emg_first] == ["myoclonus", "tonic"]
    assert [e.events for e in imu_first + emg_first] == [2, 2]


@pytest.mark.parametrize(
    ("limb_info", "counted_sides"),
    [
        ([botox("left")], ["", "left"]),  # the injected leg, and a wearable without a side
        ([botox("both")], ["", "left", "right"]),
        ([], ["", "left", "right"]),  # nothing says which: every limb
        ([event(100.0, "right", affected="true")], ["", "right", "right"]),  # [[device]] affected = true
    ],
)
def test_scores_count_the_affected_limbs(limb_info: list[Record], counted_sides: list[str]) -> None:
    rows = [event(0.0, "left"), event(0.0, "right"), event(0.0, "")]
    assert sorted(e.side for e in episodes(rows + limb_info)) == counted_sides
    [day] = [r for r in clinical_scores(rows + limb_info + [worn_hour()]) if r.tags["period"] == "day"]
    assert day.fields["spasms"] == len(counted_sides)


def test_stored_episodes_keep_every_limb_and_say_which_are_scored() -> None:
    rows = [event(0.0, "left"), event(0.5, "left", channel="1"), event(0.0, "right"), botox("left")]
    stored = {r.tags["side"]: r for r in episode_records(rows)}
    assert set(stored) == {"left", "right"}
    assert (stored["left"].fields["affected"], stored["right"].fields["affected"]) == (True, False)
    assert stored["left"].fields["events"] == 2
    assert stored["left"].measurement == "spasm_episode"


def test_spike_alert_counts_episodes_of_each_limb_as_the_scores_do() -> None:
    # 6 spasms one minute apart, each seen by an EMG channel and 0.8 s after its offset by the
    # IMU: one episode each (within the 1 s gap), as the scores count them. Threshold ≈ 7 with
    # hour 47's 3 spasms: reached at the 4th spasm (48:03); counting the IMU rows on their own
    # would reach it at 48:01.
    records = baseline_hours(0, 48)
    for i in range(6):
        t = T0_NS + 48 * H_NS + i * MIN_NS
        tags = {**TAGS, "side": "left"}
        records += [
            Record("spasm_event", t, {"duration_s": 2.0}, tags | {"kind": "tonic"}),
            Record("spasm_event", t + round(2.8 * S), {"duration_s": 0.4}, tags | {"kind": "movement"}),
        ]
    (alert,) = AlertEngine().process_all(by_time(records))
    assert (alert.value, alert.time_ns) == (7, T0_NS + 48 * H_NS + 3 * MIN_NS)


def test_the_other_legs_spasm_at_the_same_time_is_counted_by_the_spike_rule() -> None:
    records = baseline_hours(0, 48)
    for i in range(4):  # 4 minutes, both legs at once: 8 spasms
        t = T0_NS + 48 * H_NS + i * MIN_NS
        for side in ("left", "right"):
            records.append(
                Record("spasm_event", t, {"duration_s": 2.0}, {**TAGS, "side": side, "kind": "tonic"})
            )
    (alert,) = AlertEngine().process_all(by_time(records))
    assert alert.value == 7  # the second leg's spasm at 48:03 reaches the threshold


CONFIG = """
[patient]
id = "p01"
timezone = "Europe/Berlin"

[[device]]
profile = "reference"
name = "SpasmSensor-1"
placement = "calf"
side = "left"
muscle = "soleus"
{affected}
"""


def test_device_affected_key_tags_its_records(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(affected="affected = true"))
    [device] = load_config(path).devices
    assert device.affected
    assert device.tags()["affected"] == "true"
    path.write_text(CONFIG.format(affected=""))
    [device] = load_config(path).devices
    assert not device.affected
    assert "affected" not in device.tags()
    path.write_text(CONFIG.format(affected='affected = "yes"'))
    with pytest.raises(ConfigError, match="affected"):
        load_config(path)


@pytest.mark.parametrize("seed", range(5))
def test_run_s_status_counts_the_episodes_the_scores_count(seed: int) -> None:
    """run's status line counts as it goes, keeping only each limb's open episode."""
    import numpy as np

    from monitor.clinical.events import EpisodeCounter

    rng = np.random.default_rng(seed)
    onsets = np.sort(rng.uniform(0, 600, 80))
    records = [
        event(float(t), side=str(rng.choice(["left", "right"])), duration_s=float(rng.uniform(0.2, 3.0)))
        for t in onsets
    ]
    counter = EpisodeCounter()
    assert sum(counter.add(r) for r in records) == len(episodes(records))
