"""Sequence tracking, the bounded queue, config validation and backoff choice."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest
from bleak.exc import BleakDeviceNotFoundError, BleakError

from monitor.collect import CollectorConfig, DeviceConfig, FrameQueue, SequenceTracker
from monitor.collect.backoff import (
    ADAPTER_ERROR_BACKOFF,
    CONNECT_TIMEOUT_BACKOFF,
    GATT_ERROR_BACKOFF,
    NOT_FOUND_BACKOFF,
    backoff_for,
)
from monitor.config import parse_config
from monitor.types import Frame, SensorKind, StreamId


def test_gap_is_exact_in_samples_whatever_the_packet_size() -> None:
    tracker = SequenceTracker()
    tracker.step(seq=10, counter=1000, n_samples=25)
    step = tracker.step(seq=14, counter=1000 + 25 + 3 * 25 + 7, n_samples=10)  # 3 lost packets + 7 samples
    assert (step.gap_samples, step.gap_packets) == (82, 3)
    assert tracker.received_samples + tracker.gap_samples == tracker.expected_counter - tracker.first_counter


def test_sequence_and_counter_wrap_without_false_gaps() -> None:
    tracker = SequenceTracker()
    tracker.step(seq=65535, counter=2**32 - 25, n_samples=25)
    step = tracker.step(seq=0, counter=0, n_samples=25)
    assert (step.gap_samples, step.gap_packets, step.counter, step.seq) == (0, 0, 2**32, 65536)


def test_repeated_packet_is_a_duplicate_not_a_gap() -> None:
    tracker = SequenceTracker()
    tracker.step(seq=1, counter=500, n_samples=25)
    tracker.step(seq=2, counter=525, n_samples=25)
    assert tracker.step(seq=1, counter=500, n_samples=25).duplicate


def test_counter_restart_is_a_reboot() -> None:
    """A wearable that rebooted 100 s after boot: back at 0 at the reconnect, its counter is
    only 100,000 samples behind, well within the window where a counter behind reads as a
    repeat (2**21 samples, 35 min at 1 kHz). Every packet after it is kept."""
    tracker = SequenceTracker()
    tracker.step(seq=900, counter=100_000, n_samples=25)
    tracker.reconnect()  # the session, at every connection
    steps = [tracker.step(seq=k, counter=25 * k, n_samples=25) for k in range(4)]
    assert steps[0].reboot
    assert not any(step.duplicate for step in steps)
    assert sum(step.gap_samples for step in steps) == 0
    assert tracker.received_samples == 5 * 25


def test_a_repeat_within_a_connection_is_still_a_duplicate_after_a_reconnect() -> None:
    tracker = SequenceTracker()
    tracker.step(seq=0, counter=100_000, n_samples=25)
    tracker.reconnect()
    tracker.step(seq=1, counter=100_025, n_samples=25)  # the count ran on: no reboot
    step = tracker.step(seq=1, counter=100_025, n_samples=25)
    assert step.duplicate
    assert not step.reboot


def test_without_a_counter_lost_packets_of_fixed_size_are_exact_gaps() -> None:
    tracker = SequenceTracker(seq_modulus=4)  # Myo: four EMG characteristics in turn, 2 samples each
    steps = [tracker.step(seq=s, counter=None, n_samples=2) for s in (0, 1, 2, 3, 0, 3, 0)]
    assert [s.counter for s in steps] == [0, 2, 4, 6, 8, 14, 16]
    assert [s.gap_samples for s in steps] == [0, 0, 0, 0, 0, 4, 0]
    assert tracker.received_samples + tracker.gap_samples == tracker.expected_counter


def test_counter_without_seq_gives_exact_gaps_and_no_packet_count() -> None:
    tracker = SequenceTracker(counter_modulus=1 << 64)  # Polar: counter from the device timestamp
    tracker.step(seq=None, counter=10**12, n_samples=36)
    step = tracker.step(seq=None, counter=10**12 + 36 + 72, n_samples=36)
    assert (step.gap_samples, step.gap_packets) == (72, None)


def test_with_neither_samples_are_counted_as_they_arrive() -> None:
    tracker = SequenceTracker()
    counters = [tracker.step(seq=None, counter=None, n_samples=5).counter for _ in range(3)]
    assert counters == [0, 5, 10]
    assert tracker.gap_samples == 0


def test_restart_begins_a_new_count_and_keeps_the_totals() -> None:
    tracker = SequenceTracker(seq_modulus=4)  # a Myo reconnects: its count starts again at zero
    for seq in (0, 1, 3):
        tracker.step(seq=seq, counter=None, n_samples=2)
    tracker.restart()
    step = tracker.step(seq=1, counter=None, n_samples=2)  # first packet of the new connection
    assert (step.counter, step.gap_samples) == (0, 0)
    tracker.step(seq=2, counter=None, n_samples=2)
    assert (tracker.received_samples, tracker.gap_samples) == (10, 2)
    assert tracker.span_samples == tracker.received_samples + tracker.gap_samples


def _frame(i: int) -> Frame:
    return Frame(StreamId("d", "emg"), SensorKind.EMG, 1000.0, i, i, i, np.zeros((1, 1)))


async def test_full_queue_counts_overflow_and_reports_it_as_a_record() -> None:
    queue = FrameQueue(max_items=4)
    accepted = [queue.put(_frame(i)) for i in range(6)]
    assert accepted == [True] * 4 + [False] * 2
    assert queue.dropped_items == 2
    for _ in range(3):
        await asyncio.wait_for(queue.get(), 1.0)
    queue.put(_frame(99))
    items = [queue.get_nowait() for _ in range(queue.qsize())]
    overflow = [i for i in items if not isinstance(i, Frame)]
    assert overflow[0].measurement == "collector_overflow"
    assert overflow[0].fields["dropped_items"] == 2


def test_config_selects_the_radio_without_code_changes() -> None:
    app = parse_config({"patient": {"id": "p1"}, "device": [{"name": "SMREF-01", "placement": "calf"}]})
    real = app.collector_config()
    assert real.scanner_kwargs() == {}
    assert real.client_kwargs() == {}
    dongle = CollectorConfig((DeviceConfig(name="SMREF-01"),), backend="bumble", bumble_transport="usb:0")
    assert dongle.client_kwargs()["bumble_transport"] == "usb:0"
    assert dongle.client_kwargs()["backend"].__name__ == "BumbleClient"


@pytest.mark.parametrize(
    ("error", "backoff"),
    [
        (BleakDeviceNotFoundError("F1"), NOT_FOUND_BACKOFF),
        (LookupError("not advertising"), NOT_FOUND_BACKOFF),
        (TimeoutError(), CONNECT_TIMEOUT_BACKOFF),
        (BleakError("ATT error"), GATT_ERROR_BACKOFF),
        (FileNotFoundError("no D-Bus"), ADAPTER_ERROR_BACKOFF),
    ],
)
def test_backoff_is_chosen_per_error(error: BaseException, backoff: object) -> None:
    assert backoff_for(error) is backoff


def test_backoff_grows_and_caps() -> None:
    rng = random.Random(0)
    caps_s = [NOT_FOUND_BACKOFF.cap_s(a) for a in range(12)]
    assert caps_s[:4] == [0.5, 1.0, 2.0, 4.0]
    assert caps_s[-1] == NOT_FOUND_BACKOFF.max_s
    assert all(0.0 <= NOT_FOUND_BACKOFF.delay_s(a, rng) <= cap_s for a, cap_s in enumerate(caps_s))
