"""A pipeline process for the kill -9 test: appends numbered points to a spool and forwards them.

Usage: python tests/store_pipeline.py SPOOL URL DATABASE produce|drain

``produce`` appends 500 ``joint_angle`` points per transaction, forever, printing
``committed N`` after each commit, while a forwarder runs beside it (deliberately slower,
with small batches, so rows are pending when the process is killed). ``drain`` is the
restart: it forwards whatever is pending and exits.
"""

from __future__ import annotations

import asyncio
import sys

from monitor.backoff import Backoff
from monitor.store import Forwarder, InfluxV1Writer, Spool
from monitor.types import Record

T0_NS = 1_767_225_600_000_000_007
STEP_NS = 1_000_003  # ~1 ms, odd: any rounding on the way shows
POINTS_PER_APPEND = 500


def point(i: int) -> Record:
    return Record(
        "joint_angle", T0_NS + i * STEP_NS, {"angle_deg": i / 8}, {"patient": "p01", "joint": "knee"}
    )


async def main(spool_path: str, url: str, database: str, mode: str) -> None:
    batch_points = 50 if mode == "produce" else 5000
    forwarder = Forwarder(
        spool_path, InfluxV1Writer(url, database), batch_points=batch_points, backoff=Backoff(0.05, 0.5)
    )
    if mode == "drain":
        stats = await forwarder.drain()
        await forwarder.close()
        print(f"drained {stats.sent_points}", flush=True)
        return
    stop = asyncio.Event()
    task = asyncio.create_task(forwarder.run(stop))
    with Spool(spool_path) as spool:
        i = spool.count()
        while not task.done():
            spool.append(point(k) for k in range(i, i + POINTS_PER_APPEND))
            i += POINTS_PER_APPEND
            print(f"committed {i}", flush=True)
            await asyncio.sleep(0.005)  # let the forwarder run
    await task  # only reached if the forwarder failed: show its error


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
