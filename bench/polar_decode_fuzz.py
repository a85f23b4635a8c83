"""Fuzzing of the Polar PMD decoder at full length: 100 000 payloads per kind.

    .venv/bin/python bench/polar_decode_fuzz.py [--payloads 100000] [--seed 0]

Three kinds of seeded payloads go through ``devices.polar.decode_frame`` and through a
``PolarStreamDecoder`` (which keeps counters between frames): random bytes, frames with a
valid header (every measurement and frame type) and a random body, and the golden frames of
``tests/devices/polar/golden`` with bytes overwritten, cut or inserted. It prints how many
decoded and how many raised each ``DecodeError`` subclass; any other exception fails the
run. The test suite runs the same idea for 20 000 payloads plus hypothesis strategies.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devices.polar import DATA_UUID, DecodeError, MeasurementType, PolarStreamDecoder, decode_frame  # noqa: E402

GOLDEN_DIR = ROOT / "tests" / "devices" / "polar" / "golden"
MEASUREMENTS = np.array([0, 1, 2, 3, 5, 6, 0x42, 0xFF], np.uint8)
FRAME_TYPES = np.array([0x00, 0x01, 0x02, 0x03, 0x80, 0x81, 0x82, 0xFF], np.uint8)


def payloads(kind: str, count: int, rng: np.random.Generator) -> list[bytes]:
    """``count`` seeded payloads of one kind (``random``, ``structured`` or ``mutated``)."""
    golden = [
        bytes.fromhex(json.loads(p.read_text())["hex"].replace(" ", ""))
        for p in sorted(GOLDEN_DIR.glob("*.json"))
        if p.name != "errors.json"
    ]
    out: list[bytes] = []
    for _ in range(count):
        if kind == "random":
            out.append(rng.integers(0, 256, rng.integers(0, 260), dtype=np.uint8).tobytes())
        elif kind == "structured":
            header = bytes([rng.choice(MEASUREMENTS)]) + rng.integers(0, 256, 8, dtype=np.uint8).tobytes()
            body = rng.integers(0, 256, rng.integers(0, 250), dtype=np.uint8).tobytes()
            out.append(header + bytes([rng.choice(FRAME_TYPES)]) + body)
        else:
            frame = bytearray(golden[rng.integers(len(golden))])
            for _ in range(rng.integers(1, 6)):
                op, index = rng.integers(3), int(rng.integers(len(frame) + 1))
                if op == 0 and index < len(frame):
                    frame[index] = int(rng.integers(256))
                elif op == 1:
                    del frame[index:]
                else:
                    frame[index:index] = rng.integers(0, 256, rng.integers(1, 9), dtype=np.uint8).tobytes()
            out.append(bytes(frame))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--payloads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for kind in ("random", "structured", "mutated"):
        batch = payloads(kind, args.payloads, rng)
        outcomes: Counter[str] = Counter()
        stream = PolarStreamDecoder(
            {
                MeasurementType.ACC: (200.0, None),
                MeasurementType.GYRO: (52.0, 0.061),
                MeasurementType.ECG: (130.0, None),
            }
        )
        start = time.perf_counter()
        for payload in batch:
            try:
                decode_frame(payload, 0.5)
                outcomes["decoded"] += 1
            except DecodeError as error:
                outcomes[type(error).__name__] += 1
            with contextlib.suppress(DecodeError):  # only DecodeError may escape
                stream.decode(DATA_UUID, payload)
        elapsed_s = time.perf_counter() - start
        print(f"{kind}: {len(batch)} payloads in {elapsed_s:.1f} s, {dict(outcomes.most_common())}")


if __name__ == "__main__":
    main()
