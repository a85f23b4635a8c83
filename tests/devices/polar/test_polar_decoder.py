"""Polar PMD decoder: golden frames, spec-encoder round trips, counters, and fuzzing.

The golden cases (``golden/*.json``, sources in ``golden/README.md``) pin the format to
Polar's reading of it. The round trips check the decoder against the emulator's encoders,
written separately from the specification. The fuzz tests prove the contract: any payload
decodes or raises a ``DecodeError`` subclass, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.polar import decoder as polar_decoder
from devices.polar.decoder import decode_frame
from devices.polar.pmd import DATA_UUID, DecodeError, MeasurementType
from devices.polar.profile import COUNTER_MODULUS, PolarStreamDecoder
from emulators.polar_wire import delta_frame, raw_frame
from monitor.collect.gaps import SequenceTracker

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_CASES = sorted(p for p in GOLDEN_DIR.glob("*.json") if p.name != "errors.json")
ERROR_CASES: list[dict[str, Any]] = json.loads((GOLDEN_DIR / "errors.json").read_text())["cases"]
TS_NS = 724_060_800_000_000_000  # 2022-12-11T08:00:00 in Polar device time (TimeSystemExplained.md)


def _bytes(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=lambda p: p.stem)
def test_golden_frame_decodes_to_documented_values(path: Path) -> None:
    case = json.loads(path.read_text())
    frame = decode_frame(_bytes(case["hex"]), case["factor"])
    assert frame.measurement is MeasurementType[case["measurement"]]
    assert frame.timestamp_ns == case["timestamp_ns"]
    assert frame.frame_type == case["frame_type"]
    expected = np.array(case["expected_counts"], dtype=np.float64) * case["scale"]
    np.testing.assert_allclose(frame.samples, expected, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c["name"])
def test_malformed_frame_raises_its_named_decode_error(case: dict[str, Any]) -> None:
    with pytest.raises(getattr(polar_decoder, case["error"])):
        decode_frame(_bytes(case["hex"]), 1.0)


# -- decoder against the emulator's spec encoders -------------------------------------------

int16_samples = st.integers(1, 40).flatmap(
    lambda n: st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=n, max_size=n).map(
        lambda rows: np.array(rows, dtype=np.int64)
    )
)


@given(int16_samples, st.integers(0, 2**63))
@settings(max_examples=200, deadline=None)
def test_delta_frames_round_trip_through_the_spec_encoder(counts: Any, timestamp_ns: int) -> None:
    for kind, frame_type, factor, scale in (
        (MeasurementType.ACC, 0x81, 0.244140625, 0.244140625 / 1000.0),  # mG × FACTOR → g
        (MeasurementType.ACC, 0x80, 2.0**-12, 2.0**-12),  # g × FACTOR
        (MeasurementType.GYRO, 0x80, 0.06103515625, 0.06103515625),  # deg/s × FACTOR
    ):
        frame = decode_frame(delta_frame(kind, timestamp_ns, frame_type, counts), factor)
        assert frame.timestamp_ns == timestamp_ns
        np.testing.assert_array_equal(frame.samples, counts * scale)


@given(int16_samples)
@settings(max_examples=100, deadline=None)
def test_raw_frames_round_trip_through_the_spec_encoder(counts: Any) -> None:
    acc = decode_frame(raw_frame(MeasurementType.ACC, TS_NS, 0x01, counts))
    np.testing.assert_array_equal(acc.samples, counts / 1000.0)
    ecg = decode_frame(raw_frame(MeasurementType.ECG, TS_NS, 0x00, counts.reshape(-1, 1) * 100))
    np.testing.assert_allclose(ecg.samples, counts.reshape(-1, 1) * 0.1)


# -- sample counters ------------------------------------------------------------------------


def _acc_frames(first_k: int, n: int, count: int, period_ns: float, base_ns: int = TS_NS) -> list[bytes]:
    """``count`` raw ACC frames of ``n`` samples, sample k at ``base + k·period``."""
    zeros = np.zeros((n, 3), np.int64)
    return [
        raw_frame(MeasurementType.ACC, base_ns + round((first_k + (i + 1) * n - 1) * period_ns), 0x01, zeros)
        for i in range(count)
    ]


def test_counters_follow_device_time_and_count_a_lost_frame_exactly() -> None:
    decoder = PolarStreamDecoder({MeasurementType.ACC: (200.0, None)})
    frames = _acc_frames(0, 36, 6, 5e6)
    del frames[3]  # lost on the air
    counters = [decoder.decode(DATA_UUID, f)[0].counter for f in frames]
    first = round(TS_NS * 200 / 1e9)  # device time in samples since 2000
    assert counters == [first, first + 36, first + 72, first + 144, first + 180]
    packet = decoder.decode(DATA_UUID, _acc_frames(216, 36, 1, 5e6)[0])[0]
    assert packet.stream == "acc"
    assert packet.counter_modulus == COUNTER_MODULUS


def test_a_true_rate_off_nominal_never_shows_as_a_gap() -> None:
    """A sensor 0.8 % fast for 5 000 frames (45 min): contiguous counters, no spurious gap."""
    decoder = PolarStreamDecoder({MeasurementType.ECG: (130.0, None)})
    period_ns = 1e9 / 130.0 / 1.008
    zeros = np.zeros((73, 1), np.int64)
    counters = []
    for i in range(5_000):
        payload = raw_frame(MeasurementType.ECG, TS_NS + round((i * 73 + 72) * period_ns), 0, zeros)
        counters.append(decoder.decode(DATA_UUID, payload)[0].counter)
    assert np.all(np.diff(counters) == 73)


def test_device_clock_reset_reanchors_on_the_new_time() -> None:
    """An H10 back at 2019-01-01 after a power-off: the counter jumps back (the session's reboot).

    Within one connection a clock set back (or a leap beyond a minute of lost frames) only
    continues the count: the samples follow on, and the session judges the time.
    """
    decoder = PolarStreamDecoder({MeasurementType.ACC: (200.0, None)})
    before = decoder.decode(DATA_UUID, _acc_frames(0, 36, 1, 5e6)[0])[0].counter
    assert before is not None
    reset_ns = 599_616_000_000_000_000
    same_connection = decoder.decode(DATA_UUID, _acc_frames(0, 36, 1, 5e6, base_ns=reset_ns)[0])[0]
    assert same_connection.counter == before + 36
    after_power_off = PolarStreamDecoder({MeasurementType.ACC: (200.0, None)})  # a new connection
    after = after_power_off.decode(DATA_UUID, _acc_frames(0, 36, 1, 5e6, base_ns=reset_ns)[0])[0].counter
    assert after == round(reset_ns * 200 / 1e9)
    # The session's tracker takes the jump back as a reboot (new clock fit), not as duplicates.
    tracker = SequenceTracker(counter_modulus=COUNTER_MODULUS)
    tracker.step(None, before, 36)
    assert tracker.step(None, after, 36).reboot
    assert before is not None
    assert after is not None
    assert (before - after) > COUNTER_MODULUS // 1024


# -- fuzzing --------------------------------------------------------------------------------

GOLDEN_PAYLOADS = [_bytes(json.loads(p.read_text())["hex"]) for p in GOLDEN_CASES]
headers = st.builds(
    lambda kind, ts, frame_type: bytes([kind]) + ts.to_bytes(8, "little") + bytes([frame_type]),
    st.sampled_from([0, 1, 2, 3, 5, 6, 0x42, 0xC2, 0xFF]),
    st.integers(0, 2**64 - 1),
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x80, 0x81, 0x82, 0xFF]),
)
structured = st.builds(lambda h, body: h + body, headers, st.binary(max_size=260))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    payload = bytearray(draw(st.sampled_from(GOLDEN_PAYLOADS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        index = draw(st.integers(0, max(0, len(payload) - 1)))
        if op == "flip" and payload:
            payload[index] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del payload[index:]
        else:
            payload[index:index] = draw(st.binary(min_size=1, max_size=8))
    return bytes(payload)


@given(st.one_of(st.binary(max_size=300), structured, mutated()), st.sampled_from([None, 1.0, 2.44e-4, 1e30]))
@settings(max_examples=600, deadline=None)
def test_decoder_raises_only_decode_errors(payload: bytes, factor: float | None) -> None:
    try:
        frame = decode_frame(payload, factor)
    except DecodeError:
        return
    assert frame.n_samples >= 1
    assert frame.samples.dtype == np.float64


@given(st.lists(st.one_of(structured, mutated()), min_size=1, max_size=20))
@settings(max_examples=120, deadline=None)
def test_stream_decoder_raises_only_decode_errors(payloads: list[bytes]) -> None:
    started: dict[MeasurementType, tuple[float, float | None]] = {
        MeasurementType.ACC: (200.0, None),
        MeasurementType.GYRO: (52.0, 0.061),
        MeasurementType.ECG: (130.0, None),
    }
    decoder = PolarStreamDecoder(started)
    for payload in payloads:
        try:
            packets = decoder.decode(DATA_UUID, payload)
        except DecodeError:
            continue
        for packet in packets:
            assert packet.counter is not None
            assert 0 <= packet.counter < COUNTER_MODULUS


def test_decoder_survives_20k_seeded_random_and_mutated_payloads() -> None:
    """Plain seeded loop (cheaper per case than hypothesis): random, then mutated golden frames."""
    rng = np.random.default_rng(8)
    errors = 0
    for i in range(20_000):
        if i % 2:
            payload = rng.integers(0, 256, rng.integers(0, 250), dtype=np.uint8).tobytes()
            payload = bytes([rng.choice([0, 2, 5])]) + payload  # mostly types that parse further
        else:
            frame = bytearray(GOLDEN_PAYLOADS[i // 2 % len(GOLDEN_PAYLOADS)])
            for index in rng.integers(0, len(frame), rng.integers(1, 4)):
                frame[index] = int(rng.integers(0, 256))
            payload = bytes(frame[: rng.integers(0, len(frame) + 1)]) if i % 4 == 0 else bytes(frame)
        try:
            decode_frame(payload, 0.5)
        except DecodeError:
            errors += 1
    assert 0 < errors < 20_000
