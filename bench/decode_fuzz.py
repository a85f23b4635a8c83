"""Hypothesis fuzzing of the reference decoder at full length: 100 000 examples per strategy.

    .venv/bin/python bench/decode_fuzz.py [--examples 100000]

Runs the two strategies of ``tests/test_devices_reference_decoder.py`` (random bytes, and
valid packets with bit flips, truncations, extensions and header overwrites) for
``--examples`` each, and prints how many payloads decoded and how many raised each
``DecodeError`` subclass. Any other exception fails the run. The test suite runs the same
strategies for 1 500 examples each plus 100 000 seeded numpy-generated payloads.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.reference import DecodeError, decode
from tests.test_devices_reference_decoder import _mutated_packets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=100_000)
    args = parser.parse_args()
    outcomes: Counter[str] = Counter()

    def check(payload: bytes) -> None:
        try:
            decode(payload)
        except DecodeError as error:
            outcomes[type(error).__name__] += 1
        else:
            outcomes["decoded"] += 1

    fuzz_settings = settings(
        max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    start = time.perf_counter()
    for strategy in (st.binary(max_size=300), _mutated_packets()):

        def one(payload: bytes) -> None:
            check(payload)

        given(strategy)(fuzz_settings(one))()
    elapsed_s = time.perf_counter() - start
    total = sum(outcomes.values())
    print(f"{total} payloads in {elapsed_s:.1f} s; no exception other than DecodeError subclasses")
    for name, count in outcomes.most_common():
        print(f"  {name}: {count}")


if __name__ == "__main__":
    main()
