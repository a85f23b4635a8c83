"""Alert rules on constructed record streams: each fires once where a carer would want it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.alerts import AlertEngine, AlertThresholds
from monitor.types import NS_PER_S, Record
from tests.alert_scenarios import (
    H_NS,
    MIN_NS,
    T0_NS,
    TAGS,
    baseline_hours,
    burst,
    by_time,
    heartbeats,
    spasm,
    spike_day,
)


def test_spike_fires_once_per_burst_and_again_after_the_cooldown() -> None:
    alerts = AlertEngine(AlertThresholds(cooldown_min=60)).process_all(spike_day())
    spikes = [a for a in alerts if a.rule == "spasm_spike"]
    # Baseline mean 2/h, σ 1/h: threshold = mean + max(3σ, 5) ≈ 7. The last hour at 48:03
    # holds the three 47:xx spasms and four of the burst. The 48:40 burst is inside the
    # cooldown. By hour 52 the first spike (25 spasms in hour 48) is part of the baseline,
    # which raises the bar to about 12.6: 3 spasms of hour 51 + 10 of the burst, at 52:09.
    assert [round((a.time_ns - T0_NS) / MIN_NS) for a in spikes] == [48 * 60 + 3, 52 * 60 + 9]
    first, second = spikes
    assert (first.value, round(first.threshold, 2), first.patient, first.device) == (7, 6.98, "p01", "")
    assert second.value == 13
    assert 12 < second.threshold <= 13
    assert "7 spasms in the last hour" in first.message
    assert [a.rule for a in alerts] == ["spasm_spike", "spasm_spike"]  # nothing else fired


def test_spike_needs_a_baseline_and_respects_the_minimum_count() -> None:
    young = AlertEngine().process_all(by_time(baseline_hours(0, 10) + burst(T0_NS + 10 * H_NS)))
    assert young == []  # 10 h of history < spike_min_baseline_h
    # A steady patient (σ = 0 at 1/h): 5 extra spasms are not enough with min_count 6.
    steady = [spasm(T0_NS + h * H_NS + 30 * MIN_NS) for h in range(30)]
    steady += heartbeats(T0_NS, T0_NS + 31 * H_NS)
    steady += [spasm(T0_NS + 30 * H_NS + m * MIN_NS) for m in range(1, 6)]  # 5 + the 29:30 one
    assert AlertEngine(AlertThresholds(spike_min_count=6)).process_all(by_time(steady)) == []
    (alert,) = AlertEngine(AlertThresholds(spike_min_count=5)).process_all(by_time(steady))
    assert (alert.rule, alert.value, alert.threshold) == ("spasm_spike", 6, 6.0)


def test_prolonged_tonic_spasm_fires_once_per_cooldown() -> None:
    records = heartbeats(T0_NS, T0_NS + 3 * H_NS)
    records += [
        spasm(T0_NS + 10 * MIN_NS, duration_s=20.0, kind="tonic"),  # short: no alert
        spasm(T0_NS + 20 * MIN_NS, duration_s=45.0, kind="clonus"),  # long but clonic: no alert
        spasm(T0_NS + 30 * MIN_NS, duration_s=45.0, kind="tonic"),  # alert
        spasm(T0_NS + 50 * MIN_NS, duration_s=60.0, kind="tonic"),  # inside the cooldown
        spasm(T0_NS + 140 * MIN_NS, duration_s=40.0, kind="tonic"),  # after it: alert
    ]
    alerts = AlertEngine(AlertThresholds(tonic_max_s=30, cooldown_min=60)).process_all(by_time(records))
    assert [(a.rule, a.value) for a in alerts] == [("tonic_spasm", 45.0), ("tonic_spasm", 40.0)]
    assert alerts[0].time_ns == T0_NS + 30 * MIN_NS + 30 * NS_PER_S  # when it passed 30 s
    assert (alerts[0].patient, alerts[0].device) == ("p01", "cf12")


def test_device_offline_fires_once_while_silent_and_not_again_for_the_gap_record() -> None:
    records = heartbeats(T0_NS, T0_NS + H_NS, every_min=1)
    records += heartbeats(T0_NS, T0_NS + 3 * H_NS, every_min=1, device="imu7")  # keeps the clock going
    resume_ns = T0_NS + H_NS + 44 * MIN_NS
    records += heartbeats(resume_ns, T0_NS + 3 * H_NS, every_min=1)
    gap = Record("gap", T0_NS + H_NS - MIN_NS, {"duration_s": 45 * 60.0, "missing_samples": 1}, TAGS)
    engine = AlertEngine(AlertThresholds(offline_max_min=30))
    alerts = engine.process_all(by_time(records)) + engine.process_all([gap])
    (alert,) = alerts
    assert (alert.rule, alert.device) == ("device_offline", "cf12")
    assert alert.time_ns == T0_NS + H_NS - MIN_NS + 30 * MIN_NS  # last seen 00:59 + 30 min


def test_device_offline_from_a_gap_record_alone_and_tick_detects_total_silence() -> None:
    gap = Record("gap", T0_NS, {"duration_s": 40 * 60.0, "missing_samples": 1}, TAGS)
    short = Record("gap", T0_NS + 2 * H_NS, {"duration_s": 10 * 60.0, "missing_samples": 1}, TAGS)
    alerts = AlertEngine().process_all([gap, short])
    assert [(a.rule, a.value) for a in alerts] == [("device_offline", 40.0)]

    engine = AlertEngine(AlertThresholds(offline_max_min=30))
    assert engine.process_all(heartbeats(T0_NS, T0_NS + 10 * MIN_NS)) == []
    assert engine.tick(T0_NS + 35 * MIN_NS) == []  # last seen 00:05: 30 min exactly is not more
    (alert,) = engine.tick(T0_NS + 36 * MIN_NS)
    assert engine.tick(T0_NS + 5 * H_NS) == []  # still the same silence
    assert alert.value == pytest.approx(31.0)


def test_poor_signal_longer_than_the_limit_fires_once() -> None:
    def quality(t_ns: int, minutes: float, issue: str = "electrode_off") -> Record:
        return Record(
            "signal_quality", t_ns, {"duration_s": minutes * 60}, {**TAGS, "issue": issue, "channel": "0"}
        )

    records = heartbeats(T0_NS, T0_NS + 4 * H_NS)
    records += [
        quality(T0_NS + 5 * MIN_NS, 10),
        quality(T0_NS + 20 * MIN_NS, 20),
        quality(T0_NS + 50 * MIN_NS, 25),
    ]
    alerts = AlertEngine(AlertThresholds(poor_signal_max_min=15)).process_all(by_time(records))
    (alert,) = alerts  # the 25-min episode falls within the cooldown of the 20-min one
    assert (alert.rule, alert.value, alert.threshold) == ("poor_signal", 20.0, 15.0)
    assert alert.time_ns == T0_NS + 35 * MIN_NS
    assert "electrode off on channel 0" in alert.message


def test_alerts_are_keyed_per_patient_and_device() -> None:
    records = [spasm(T0_NS, duration_s=45.0, kind="tonic", device=d) for d in ("cf12", "cf13")]
    records.append(Record("spasm_event", T0_NS, {"duration_s": 45.0}, {"patient": "p02", "kind": "tonic"}))
    alerts = AlertEngine().process_all(records)
    assert sorted(a.key for a in alerts) == [
        ("tonic_spasm", "p01", "cf12"), ("tonic_spasm", "p01", "cf13"), ("tonic_spasm", "p02", ""),
    ]  # fmt: skip


def test_alert_record_carries_rule_value_threshold_and_message() -> None:
    (alert,) = AlertEngine().process_all([spasm(T0_NS, duration_s=45.0, kind="tonic")])
    record = alert.to_record(delivered=True)
    assert record.measurement == "alert"
    assert record.tags == {"rule": "tonic_spasm", "patient": "p01", "device": "cf12"}
    assert record.fields["value"] == 45.0
    assert record.fields["threshold"] == 30.0
    assert record.fields["delivered"] is True
    assert "tonic spasm lasting 45 s" in str(record.fields["message"])


def test_spike_counts_a_spasm_seen_on_several_channels_once() -> None:
    records = baseline_hours(0, 48)
    # 6 spasms one minute apart, each seen on two channels. Threshold ≈ 7 with the 3 spasms of
    # hour 47 in the window: reached at the 4th spasm (48:03); counting events would reach
    # it at the 2nd spasm's second channel (48:01).
    for i in range(6):
        t = T0_NS + 48 * H_NS + i * MIN_NS
        records += [
            Record("spasm_event", t, {"duration_s": 3.0}, {**TAGS, "kind": "tonic", "channel": "0"}),
            Record(
                "spasm_event", t + NS_PER_S, {"duration_s": 3.0}, {**TAGS, "kind": "tonic", "channel": "1"}
            ),
        ]
    spikes = AlertEngine().process_all(by_time(records))
    (alert,) = spikes
    assert alert.value == 7
    assert alert.time_ns == T0_NS + 48 * H_NS + 3 * MIN_NS


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6 * 60),  # minute of onset
            st.sampled_from(["cf12", "cf13"]),
            st.sampled_from(["spasm_event", "signal_quality", "gap", "device_status"]),
            st.floats(0.5, 3600.0),  # duration, s
        ),
        max_size=60,
    ),
    st.floats(1.0, 120.0),
)
def test_no_key_ever_alerts_twice_within_the_cooldown(
    events: list[tuple[int, str, str, float]], cooldown_min: float
) -> None:
    records = [
        Record(m, T0_NS + minute * MIN_NS, {"duration_s": d}, {**TAGS, "device": dev, "kind": "tonic"})
        for minute, dev, m, d in events
    ]
    alerts = AlertEngine(AlertThresholds(cooldown_min=cooldown_min)).process_all(by_time(records))
    for a in alerts:
        same = [b for b in alerts if b.key == a.key and b is not a]
        assert all(abs(b.time_ns - a.time_ns) >= cooldown_min * MIN_NS for b in same)


def test_a_late_record_does_not_slip_between_two_alerts_of_its_key() -> None:
    engine = AlertEngine(AlertThresholds(tonic_max_s=30, cooldown_min=60, offline_max_min=600))
    first = engine.process(spasm(T0_NS, duration_s=45.0, kind="tonic"))
    second = engine.process(spasm(T0_NS + 100 * MIN_NS, duration_s=45.0, kind="tonic"))
    late = engine.process(spasm(T0_NS + 30 * MIN_NS, duration_s=45.0, kind="tonic"))  # arrives late
    assert ([a.rule for a in first], [a.rule for a in second], late) == (["tonic_spasm"], ["tonic_spasm"], [])
