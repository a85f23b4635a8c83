"""The one retry schedule (monitor/backoff.py): capped exponential backoff with full jitter."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from monitor.backoff import Backoff
from monitor.collect import backoff as ble_backoff
from monitor.store.forwarder import DEFAULT_BACKOFF


def test_full_jitter_spreads_waits_over_the_whole_window() -> None:
    backoff = Backoff(first_s=0.5, max_s=30.0)
    rng = random.Random(7)
    for attempt in range(10):
        cap_s = min(30.0, 0.5 * 2**attempt)
        waits = [backoff.delay_s(attempt, rng) for _ in range(2000)]
        assert all(0.0 <= w <= cap_s for w in waits)
        # Full jitter reaches both ends of [0, cap]: no common floor brings clients back together.
        assert min(waits) < 0.02 * cap_s
        assert max(waits) > 0.98 * cap_s
        assert statistics.fmean(waits) == pytest.approx(cap_s / 2, rel=0.05)


def test_clients_that_fail_together_do_not_return_together() -> None:
    backoff = Backoff(first_s=1.0, max_s=60.0)
    waits = [backoff.delay_s(3, random.Random(client)) for client in range(500)]
    per_second = [sum(1 for w in waits if s <= w < s + 1) for s in range(8)]
    assert max(per_second) < 0.2 * len(waits)  # uniform over 8 s: ~12% a second, no crowd


def test_cap_grows_by_factor_then_holds_even_after_days_of_retries() -> None:
    backoff = Backoff(first_s=0.25, max_s=10.0, factor=3.0)
    assert [backoff.cap_s(k) for k in range(5)] == [0.25, 0.75, 2.25, 6.75, 10.0]
    assert backoff.cap_s(100_000) == 10.0  # no OverflowError in a loop that ran for days


def test_scale_compresses_every_wait() -> None:
    backoff = Backoff(first_s=2.0, max_s=8.0)
    rng = random.Random(1)
    assert all(backoff.delay_s(k, rng, scale=0.01) <= 0.01 * backoff.cap_s(k) for k in range(20))


def test_a_zero_backoff_retries_at_once() -> None:
    assert ble_backoff.DROPPED_BACKOFF.delay_s(5, random.Random(0)) == 0.0


def test_same_seed_same_waits() -> None:
    backoff = Backoff(first_s=0.5, max_s=30.0)
    first = [backoff.delay_s(k, random.Random(3)) for k in range(10)]
    assert first == [backoff.delay_s(k, random.Random(3)) for k in range(10)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first_s": -1.0, "max_s": 1.0}, "must be >= 0"),
        ({"first_s": 1.0, "max_s": math.nan}, "must be >= 0"),
        ({"first_s": 1.0, "max_s": 1.0, "factor": 0.5}, "factor must be >= 1"),
    ],
)
def test_bad_parameters_get_a_one_line_error(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_the_collector_and_the_forwarder_share_one_backoff_class() -> None:
    ble = [getattr(ble_backoff, name) for name in dir(ble_backoff) if name.endswith("_BACKOFF")]
    assert len(ble) == 5
    assert all(type(b) is Backoff for b in [*ble, DEFAULT_BACKOFF])
