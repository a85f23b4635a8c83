"""Command start-up: how long a light command takes, beside the bare interpreter and the heavy imports.

Run: ``.venv/bin/python -m bench.cli_startup [--repeats N]``.

A carer's ``spasm-monitor status`` on a small gateway should answer at once. Figures printed,
each the median of ``--repeats`` fresh processes, seconds:
- the peers: ``python -c pass`` (the interpreter's own floor) and a process importing what
  the whole product imports (numpy, scipy.signal, numba, bleak, bumble, influxdb_client,
  statsmodels), the cost a light command avoids;
- ``status``, ``config check`` and ``store status`` on the repository's config and an empty
  spool, ``--help`` (which lists every command, so imports them all) and ``analyze`` of a
  one-minute CSV, each with its ratio to the interpreter's floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from monitor.store import Spool

REPO = Path(__file__).resolve().parents[1]
HEAVY_IMPORTS = "import numpy, scipy.signal, numba, bleak, bumble.device, influxdb_client, statsmodels.api"


def median_s(argv: list[str], repeats: int, cwd: Path) -> float:
    """Median wall time of ``argv`` run ``repeats`` times, s (a failing run is an error)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per figure (default 5)")
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spool = work / "spool.sqlite"
        Spool(spool).close()
        csv = work / "emg.csv"
        csv.write_text("time_s,emg\n" + "".join(f"{k / 1000},{0.01 * (k % 7)}\n" for k in range(60_000)))
        config = ["--config", str(REPO / "config.toml")]
        cli = [sys.executable, "-m", "monitor.cli"]
        floor_s = median_s([sys.executable, "-c", "pass"], repeats, work)
        heavy_s = median_s([sys.executable, "-c", HEAVY_IMPORTS], repeats, work)
        print(f"peer: python -c pass             {floor_s:6.2f} s")
        print(f"peer: the heavy imports          {heavy_s:6.2f} s  ({heavy_s / floor_s:5.1f}x the floor)")
        for label, argv in (
            ("status", [*cli, "status", *config, "--spool", str(spool)]),
            ("config check", [*cli, "config", "check", *config]),
            ("store status", [*cli, "store", "status", *config, "--spool", str(spool)]),
            ("--help", [*cli, "--help"]),
            ("analyze 60 s of CSV", [*cli, "analyze", str(csv)]),
        ):
            took_s = median_s(argv, repeats, work)
            print(
                f"spasm-monitor {label:<19} {took_s:6.2f} s  ({took_s / floor_s:5.1f}x the floor,"
                f" {took_s / heavy_s:4.2f} of the heavy imports)"
            )


if __name__ == "__main__":
    main()
