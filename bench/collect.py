"""Collector throughput: 8 emulated wearables (EMG 1 kHz + IMU 100 Hz each) for 60 s.

    .venv/bin/python bench/collect.py [--wearables 8] [--duration-s 60] [--drop-every-s 10]

The collector runs in this process through bleak's API on the bumble backend; the hub
and the emulators are separate processes, measured separately. Prints:

- the collector's CPU as a percentage of one core (process time over wall time while
  streaming), and each other process's CPU from /proc;
- samples lost: sent by the wearables minus received, split into gap-recorded samples and
  unaccounted ones (which must be 0);
- notification-to-Frame latency, p50 and p99: from the notification callback's entry to
  the Frame reaching the consumer (decode, gap accounting, clock fit, queue);
- sample-to-Frame latency: from the true time of a packet's last sample to the same point
  (adds the emulator's scheduling and the TCP HCI hops);
- timestamp error: each Frame's t0 minus the true UTC of its first sample, max and p99 of
  its magnitude once the clock fit had 10 s (``--drift-ppm``/``--jitter-ms`` set the
  wearables' crystal error and notification jitter).

Targets: 0 lost, collector CPU < 25 % of one core, p99 < 50 ms. ``--drop-every-s 10``
runs the issue's long reconnect scenario (drop every 10 s for 60 s) on the first wearable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from devices.reference import StreamType
from emulators.process import Emulated, start_emulated, wearable_address
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.collect.queue import Item
from monitor.collect.session import DeviceSession
from monitor.types import NS_PER_S, Frame, Record

TARGET_CPU_PERCENT = 25.0
TARGET_P99_MS = 50.0
WARM_UP_S = 10.0  # timestamp errors count once the clock fit has had this long
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
SENSOR_STREAM = {"emg": StreamType.EMG, "acc": StreamType.IMU}  # gyr shares the IMU packet of acc


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S  # utime + stime


@dataclass
class BenchResult:
    cpu_percent: float
    others_percent: dict[str, float]
    latency_ms: npt.NDArray[np.float64]
    sample_latency_ms: npt.NDArray[np.float64]
    timestamp_error_ms: npt.NDArray[np.float64]
    frames: list[Frame]
    records: list[Record]


async def _bench(emulated: Emulated, n: int, duration_s: float) -> BenchResult:
    arrivals: dict[tuple[str, int, int], int] = {}
    original = DeviceSession._on_notification

    def timed(session: DeviceSession, uuid: str, characteristic: object, data: bytearray) -> None:
        if len(data) >= 8:  # stream type and sample counter from the header, to match the Frame later
            arrivals[(session.device_id, data[1], struct.unpack_from("<I", data, 4)[0])] = (
                time.perf_counter_ns()
            )
        original(session, uuid, characteristic, data)  # type: ignore[arg-type]

    DeviceSession._on_notification = timed  # type: ignore[method-assign,assignment]
    latencies_ms: list[float] = []
    sample_latencies_ms: list[float] = []
    frames: list[Frame] = []
    records: list[Record] = []
    truths: dict[str, int] = {}
    drifts: dict[str, float] = {}
    timestamp_errors_ms: list[float] = []
    warm_ns = time.time_ns() + round(WARM_UP_S * NS_PER_S)

    def sink(item: Item) -> None:
        if isinstance(item, Record):
            records.append(item)
            return
        frames.append(item)
        stream = SENSOR_STREAM.get(item.stream.sensor)
        if stream is None:
            return
        arrival = arrivals.pop((item.stream.device, int(stream), item.seq_first & 0xFFFF_FFFF), None)
        if arrival is not None:
            latencies_ms.append((time.perf_counter_ns() - arrival) / 1e6)
        truth = truths.get(item.stream.device)
        if truth is not None:
            last_ns = truth + round(item.seq_last * NS_PER_S / item.sample_rate_hz)
            sample_latencies_ms.append((time.time_ns() - last_ns) / 1e6)
            scale = 1.0 / (1.0 + drifts[item.stream.device] * 1e-6)  # UTC per device time
            true_t0_ns = truth + item.seq_first * NS_PER_S / item.sample_rate_hz * scale
            if item.t0_ns > warm_ns:
                timestamp_errors_ms.append((item.t0_ns - true_t0_ns) / 1e6)

    for i in range(n):
        emulated.wearables[i].send({"cmd": "stats"})
        truths[wearable_address(i + 1)] = emulated.stats(i)["truth"]["t0_ns"]
        drifts[wearable_address(i + 1)] = emulated.stats(i)["truth"]["drift_ppm"]
    devices = tuple(DeviceConfig(address=wearable_address(i + 1)) for i in range(n))
    config = CollectorConfig(devices, backend="bumble", bumble_transport=emulated.collector_transport)
    collector = Collector(config, sink)
    task = asyncio.create_task(collector.run())
    await asyncio.sleep(2.0)  # connections and subscriptions
    pids = {"hub": emulated.hub.process.pid} | {w.name: w.process.pid for w in emulated.wearables}
    cpu0 = {name: _cpu_s(pid) for name, pid in pids.items()}
    wall0, own0 = time.perf_counter(), time.process_time()
    latencies_ms.clear()
    sample_latencies_ms.clear()
    await asyncio.sleep(duration_s)
    wall = time.perf_counter() - wall0
    own_percent = 100.0 * (time.process_time() - own0) / wall
    other_percent = {name: 100.0 * (_cpu_s(pid) - cpu0[name]) / wall for name, pid in pids.items()}
    for wearable in emulated.wearables:
        await asyncio.to_thread(wearable.send, {"cmd": "calm"})
    await asyncio.sleep(1.0)
    for wearable in emulated.wearables:
        await asyncio.to_thread(wearable.send, {"cmd": "pause"})
    await asyncio.sleep(0.5)
    collector.stop()
    await asyncio.wait_for(task, 30.0)
    DeviceSession._on_notification = original  # type: ignore[method-assign]
    return BenchResult(
        own_percent,
        other_percent,
        np.array(latencies_ms),
        np.array(sample_latencies_ms),
        np.array(timestamp_errors_ms),
        frames,
        records,
    )


def _losses(
    emulated: Emulated, n: int, frames: list[Frame], records: list[Record]
) -> tuple[int, int, int, int]:
    sent = received = gaps = 0
    for i in range(n):
        device = wearable_address(i + 1)
        truth = emulated.stats(i)["streams"]
        for stream, sensor in (("EMG", "emg"), ("IMU", "acc")):
            sent += truth[stream]["end_counter"] - truth[stream]["first_counter"]
            received += sum(
                f.n_samples for f in frames if f.stream.device == device and f.stream.sensor == sensor
            )
            gaps += sum(
                int(r.fields["samples"])
                for r in records
                if r.measurement == "ble_gap"
                and r.tags["device"] == device
                and r.tags["stream"] == stream.lower()
            )
    return sent, received, gaps, sent - received - gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--wearables", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--drop-every-s", type=float, default=None, help="drop wearable 1 every N s")
    parser.add_argument("--drift-ppm", type=float, default=0.0, help="crystal error of every wearable, ppm")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="notification jitter, ±ms")
    args = parser.parse_args()
    clock = ["--drift-ppm", str(args.drift_ppm), "--jitter-ms", str(args.jitter_ms)]
    options: list[list[str]] = [list(clock) for _ in range(args.wearables)]
    if args.drop_every_s:
        options[0] += ["--drop-every-s", str(args.drop_every_s)]
    with tempfile.TemporaryDirectory() as tmp:
        emulated = start_emulated(args.wearables, Path(tmp), options=options)
        try:
            result = asyncio.run(_bench(emulated, args.wearables, args.duration_s))
            sent, received, gaps, unaccounted = _losses(
                emulated, args.wearables, result.frames, result.records
            )
        finally:
            emulated.stop()
    statuses = [r for r in result.records if r.measurement == "ble_status"]
    connections = sum(1 for r in statuses if r.fields["state"] == "connected")
    others = result.others_percent
    emulator_cpu = np.mean([v for k, v in others.items() if k != "hub"])
    p50, p99 = np.percentile(result.latency_ms, [50, 99])
    s50, s99 = np.percentile(result.sample_latency_ms, [50, 99])
    print(f"{args.wearables} wearables × (EMG 4 ch 1 kHz + IMU 6 axes 100 Hz), {args.duration_s:.0f} s")
    print(f"collector CPU: {result.cpu_percent:.1f} % of one core (target < {TARGET_CPU_PERCENT:.0f} %)")
    print(f"hub CPU: {others['hub']:.1f} % of one core; emulator CPU: {emulator_cpu:.1f} % each (mean)")
    print(f"samples sent {sent}, received {received}, gap-recorded {gaps}, unaccounted {unaccounted}")
    print(f"samples lost: {gaps + unaccounted} (target 0 without faults); connections made: {connections}")
    print(f"notification→Frame latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms (target < {TARGET_P99_MS:.0f} ms)")
    print(f"sample→Frame latency: p50 {s50:.1f} ms, p99 {s99:.1f} ms (n = {result.sample_latency_ms.size})")
    errors = np.abs(result.timestamp_error_ms)
    if errors.size:
        e99, mean = np.percentile(errors, 99), result.timestamp_error_ms.mean()
        print(
            f"timestamp error after {WARM_UP_S:.0f} s (drift {args.drift_ppm:g} ppm,"
            f" jitter ±{args.jitter_ms:g} ms): max {errors.max():.3f} ms, p99 {e99:.3f} ms,"
            f" mean {mean:+.3f} ms"
        )


if __name__ == "__main__":
    main()
