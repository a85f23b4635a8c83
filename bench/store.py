"""Storage speed: spool appends, and the forwarder into a real InfluxDB 1.6.7 beside a plain POST.

Run: ``.venv/bin/python -m bench.store [--points N]``. It starts its own throwaway influxd
(installing Debian's influxdb first if missing) unless ``SPASM_TEST_INFLUXDB_URL`` names one.

Figures printed:
- spool append rate, records/s (Record objects through ``Spool.append``) and points/s
  (a columnar ``NumericSeries`` through ``Spool.append_series``);
- forwarder end-to-end rate, points/s: spool rows to acknowledged InfluxDB writes;
- plain POST rate of the very same line protocol, in the same batch size, from the same
  process and HTTP client, and the forwarder's ratio to it (target >= 0.8, >= 200k points/s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import aiohttp
import numpy as np

from monitor.store import Forwarder, InfluxV1Writer, NumericSeries, Spool
from monitor.store.forwarder import DEFAULT_BATCH_POINTS
from monitor.types import Record
from tests.local_influxd import LocalInfluxd

T0_NS = 1_767_225_600_000_000_000  # 2026-01-01 UTC
ENVELOPE_STEP_NS = 100_000_000  # 10 Hz envelope blocks


def envelope_series(n_points: int, n_channels: int = 4) -> list[NumericSeries]:
    """Envelope RMS and baseline of ``n_channels`` channels, mV, rounded as a real sensor's are."""
    rng = np.random.default_rng(0)
    per_channel = n_points // n_channels
    times = T0_NS + np.arange(per_channel, dtype=np.int64) * ENVELOPE_STEP_NS
    return [
        NumericSeries(
            "emg_envelope",
            times,
            {
                "rms_mv": np.round(rng.gamma(2.0, 0.02, per_channel), 5),
                "baseline_mv": np.round(rng.gamma(4.0, 0.005, per_channel), 5),
            },
            {"patient": "p01", "device": "cf12", "channel": str(ch), "muscle": "gastrocnemius"},
        )
        for ch in range(n_channels)
    ]


def bench_append_records(path: Path, n_records: int) -> float:
    """Records/s through Spool.append, in 1,000-record batches (one commit each)."""
    records = [
        Record(
            "emg_envelope",
            T0_NS + i * ENVELOPE_STEP_NS,
            {"rms_mv": 0.01 + (i % 997) * 1e-4},
            {"patient": "p01"},
        )
        for i in range(n_records)
    ]
    with Spool(path) as spool:
        start = time.perf_counter()
        for i in range(0, n_records, 1000):
            spool.append(records[i : i + 1000])
        return n_records / (time.perf_counter() - start)


def bench_append_series(path: Path, series: list[NumericSeries]) -> tuple[float, int]:
    """Points/s through Spool.append_series, 10,000-point slices (one commit each)."""
    n = 0
    with Spool(path) as spool:
        start = time.perf_counter()
        for s in series:
            for i in range(0, len(s), 10_000):
                sl = slice(i, i + 10_000)
                n += spool.append_series(
                    NumericSeries(
                        s.measurement, s.time_ns[sl], {k: v[sl] for k, v in s.fields.items()}, s.tags
                    )
                )
        return n / (time.perf_counter() - start), n


async def bench_forwarder(path: Path, url: str, database: str) -> tuple[float, int]:
    forwarder = Forwarder(path, InfluxV1Writer(url, database))
    start = time.perf_counter()
    stats = await forwarder.drain()
    elapsed_s = time.perf_counter() - start
    await forwarder.close()
    return stats.sent_points / elapsed_s, stats.sent_points


async def bench_plain_post(bodies: list[bytes], n_points: int, url: str, database: str) -> float:
    params = {"db": database, "precision": "ns"}
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        for body in bodies:
            async with session.post(url + "/write", params=params, data=body) as response:
                if response.status != 204:
                    raise RuntimeError(f"plain POST got HTTP {response.status}: {await response.text()}")
        return n_points / (time.perf_counter() - start)


def create_database(url: str, name: str) -> None:
    data = urllib.parse.urlencode({"q": f"CREATE DATABASE {name}"}).encode()
    urllib.request.urlopen(url + "/query", data=data, timeout=30).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=400_000, help="points per forwarder run")
    args = parser.parse_args()
    server = None
    url = os.environ.get("SPASM_TEST_INFLUXDB_URL", "")
    if not url:
        subprocess.run(["bash", "-c", "source scripts/services.sh && services_install"], check=True)
        server = LocalInfluxd()
        server.start()
        url = server.url
    try:
        with tempfile.TemporaryDirectory(prefix="spasm-bench-store-") as tmp:
            rate_records = bench_append_records(Path(tmp) / "records.sqlite", 100_000)
            series = envelope_series(args.points)
            spool_path = Path(tmp) / "spool.sqlite"
            rate_append, n_points = bench_append_series(spool_path, series)
            # The plain POST sends exactly what the forwarder will send, batch for batch.
            with Spool(spool_path) as spool:
                bodies, after = [], 0
                while (batch := spool.next_batch(DEFAULT_BATCH_POINTS, after)) is not None:
                    bodies.append(batch.body)
                    after = batch.last_id
            # Fresh databases for each, run twice alternately, best of each: the server's
            # own speed varies with what else the 2 cores are doing.
            fwd_rates, post_rates = [], []
            for run in range(2):
                create_database(url, f"bench_post_{run}")
                post_rates.append(asyncio.run(bench_plain_post(bodies, n_points, url, f"bench_post_{run}")))
                create_database(url, f"bench_fwd_{run}")
                if run:
                    with Spool(spool_path) as spool:
                        spool.resend_all()  # queue the same rows again
                rate, sent = asyncio.run(bench_forwarder(spool_path, url, f"bench_fwd_{run}"))
                assert sent == n_points, (sent, n_points)
                fwd_rates.append(rate)
        fwd, post = max(fwd_rates), max(post_rates)
        print(f"spool append (Record objects, 1k/commit):        {rate_records:12,.0f} records/s")
        print(f"spool append (NumericSeries, 10k/commit):        {rate_append:12,.0f} points/s")
        print(f"forwarder -> InfluxDB 1.6.7 ({n_points:,} points):  {fwd:12,.0f} points/s")
        print(f"plain HTTP POST of the same line protocol:       {post:12,.0f} points/s")
        print(f"forwarder / plain POST:                          {fwd / post:12.2f}")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
