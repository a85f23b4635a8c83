"""Constructed record streams for the alert tests, with known answers."""

from __future__ import annotations

from monitor.types import NS_PER_S, Record

T0_NS = 1_764_028_800 * NS_PER_S  # 2025-11-25 00:00:00 UTC, on an hour boundary
MIN_NS = 60 * NS_PER_S
H_NS = 60 * MIN_NS
TAGS = {"patient": "p01", "device": "cf12"}


def spasm(t_ns: int, duration_s: float = 2.0, kind: str = "myoclonic", device: str = "cf12") -> Record:
    return Record("spasm_event", t_ns, {"duration_s": duration_s}, {**TAGS, "device": device, "kind": kind})


def heartbeats(start_ns: int, end_ns: int, every_min: int = 5, device: str = "cf12") -> list[Record]:
    """Device status records: the wearable is connected and sending."""
    return [
        Record("device_status", t, {"battery_pct": 80}, {**TAGS, "device": device})
        for t in range(start_ns, end_ns, every_min * MIN_NS)
    ]


def baseline_hours(first_h: int, last_h: int) -> list[Record]:
    """Hours alternating 1 and 3 spasms (mean 2/h, σ 1/h), with the wearable connected."""
    records = heartbeats(T0_NS + first_h * H_NS, T0_NS + last_h * H_NS)
    for h in range(first_h, last_h):
        minutes = (30,) if h % 2 == 0 else (10, 30, 50)
        records += [spasm(T0_NS + h * H_NS + m * MIN_NS) for m in minutes]
    return records


def burst(start_ns: int, n: int = 20) -> list[Record]:
    """``n`` spasms one minute apart, with the wearable connected."""
    return [spasm(start_ns + i * MIN_NS) for i in range(n)] + heartbeats(start_ns, start_ns + n * MIN_NS)


def by_time(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: r.time_ns)


def spike_day() -> list[Record]:
    """48 h of baseline, a burst at hour 48, another 40 min later (inside the cooldown),
    baseline again, and a third burst at hour 52 (after the cooldown)."""
    records = baseline_hours(0, 48) + burst(T0_NS + 48 * H_NS)
    records += burst(T0_NS + 48 * H_NS + 40 * MIN_NS, n=5)
    records += baseline_hours(49, 52) + burst(T0_NS + 52 * H_NS)
    return by_time(records)
