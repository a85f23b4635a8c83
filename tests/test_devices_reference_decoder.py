"""Reference-wearable decoder: golden cases from docs/protocol.md, and fuzzing.

The fuzz tests prove the decoder's contract: any payload either decodes or raises a
``DecodeError`` subclass, nothing else. Hypothesis explores structure-aware mutations
here; ``test_decoder_survives_100k_random_and_mutated_payloads`` adds 100 000 seeded
random and mutated payloads to every run (about 2 s). ``bench/decode_fuzz.py`` runs
the hypothesis strategies for 100 000 examples each.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.reference import (
    BadHeaderError,
    DecodeError,
    LengthMismatchError,
    StreamType,
    TruncatedPacketError,
    UnknownStreamError,
    UnsupportedVersionError,
    decode,
    encode_packet,
)
from devices.reference.decoder import MAX_DEVICE_CLOCK_US, BadClockValueError, decode_device_clock_ns
from devices.reference.protocol import (
    ATT_MTU_ASSUMED,
    ATT_NOTIFY_OVERHEAD_BYTES,
    EMG_MAX_NOTIFICATIONS_PER_S,
    IMU_MAX_NOTIFICATIONS_PER_S,
    DeviceInfo,
    encode_device_clock,
    fallback_rate_hz,
    max_samples_per_packet,
)
from monitor.types import SensorKind

# Golden case from docs/protocol.md §2.4: EMG, 2 channels, 2 samples, seq 0x1234, counter 100000.
GOLDEN_EMG = bytes.fromhex("01 01 3412 a0860100 02 02 00 00 0200 feff e803 18fc".replace(" ", ""))
# Golden IMU case (§2.4): one sample, acc (0, 0, 1 g) at ±2 g, gyr (0, 0, -250 dps) at ±250 dps.
GOLDEN_IMU = bytes.fromhex("01 02 0100 0a000000 01 06 04 00 0000 0000 0040 0000 0000 0080".replace(" ", ""))


def test_golden_emg_packet_decodes_to_documented_values() -> None:
    packet = decode(GOLDEN_EMG)
    assert packet.stream is StreamType.EMG
    assert (packet.seq, packet.counter, packet.sample_rate_hz) == (0x1234, 100_000, 1000.0)
    np.testing.assert_allclose(packet.samples, [[0.001, -0.001], [0.5, -0.5]])


def test_golden_imu_packet_splits_into_acc_and_gyr_frames() -> None:
    packet = decode(GOLDEN_IMU)
    assert packet.sample_rate_hz == 100.0
    acc, gyr = packet.frames("dev", t0_ns=5, seq_first=1, seq_last=1)
    assert (acc.kind, gyr.kind) == (SensorKind.ACC, SensorKind.GYR)
    np.testing.assert_allclose(acc.samples, [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(gyr.samples, [[0.0, 0.0, -250.0]])
    assert acc.t0_ns == 5


@pytest.mark.parametrize("stream", list(StreamType))
def test_encode_then_decode_round_trips_every_stream(stream: StreamType) -> None:
    channels = 4 if stream is StreamType.EMG else (6 if stream is StreamType.IMU else 3)
    raw = np.random.default_rng(1).integers(-32768, 32767, size=(9, channels)).astype(np.int16)
    packet = decode(encode_packet(stream, 65535, 2**32 - 1, raw, 4, 3))
    assert (packet.seq, packet.counter, packet.n_samples) == (65535, 2**32 - 1, 9)
    rescaled = decode(encode_packet(stream, 0, 0, np.ones((1, channels), np.int16), 4, 3)).samples[0]
    np.testing.assert_allclose(packet.samples, raw * rescaled)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (GOLDEN_EMG[:11], TruncatedPacketError),
        (b"\x02" + GOLDEN_EMG[1:], UnsupportedVersionError),
        (GOLDEN_EMG[:1] + b"\x09" + GOLDEN_EMG[2:], UnknownStreamError),
        (GOLDEN_EMG[:9] + b"\x09" + GOLDEN_EMG[10:], BadHeaderError),  # 9 EMG channels
        (GOLDEN_EMG[:8] + b"\x00" + GOLDEN_EMG[9:], BadHeaderError),  # 0 samples
        (GOLDEN_EMG[:10] + b"\x07" + GOLDEN_EMG[11:], BadHeaderError),  # rate code 7
        (GOLDEN_EMG[:11] + b"\x04" + GOLDEN_EMG[12:], BadHeaderError),  # scale code 4
        (GOLDEN_EMG + b"\x00", LengthMismatchError),
        (GOLDEN_EMG[:-1], LengthMismatchError),
    ],
)
def test_each_malformation_raises_its_named_error(payload: bytes, error: type[DecodeError]) -> None:
    with pytest.raises(error) as caught:
        decode(payload)
    assert caught.value.advice  # the user is told what to do


def test_packets_fit_the_assumed_mtu() -> None:
    payload_bytes = ATT_MTU_ASSUMED - ATT_NOTIFY_OVERHEAD_BYTES
    assert max_samples_per_packet(payload_bytes, 4) == 29
    assert max_samples_per_packet(payload_bytes, 6) == 19
    assert max_samples_per_packet(23 - ATT_NOTIFY_OVERHEAD_BYTES, 3) == 1  # MTU-23 fallback: ACC, GYR


def test_mtu_23_fallback_rates_are_the_documented_ones() -> None:
    """docs/protocol.md §7: EMG 4 ch at 250 Hz, ACC and GYR at 50 Hz; nothing changes at MTU 247."""
    small, large = 23 - ATT_NOTIFY_OVERHEAD_BYTES, ATT_MTU_ASSUMED - ATT_NOTIFY_OVERHEAD_BYTES
    assert fallback_rate_hz(1000.0, max_samples_per_packet(small, 4), EMG_MAX_NOTIFICATIONS_PER_S) == 250.0
    assert fallback_rate_hz(100.0, max_samples_per_packet(small, 3), IMU_MAX_NOTIFICATIONS_PER_S) == 50.0
    assert fallback_rate_hz(1000.0, 1000, EMG_MAX_NOTIFICATIONS_PER_S) == 1000.0  # never above the default
    assert fallback_rate_hz(1000.0, min(25, max_samples_per_packet(large, 4)), 250.0) == 1000.0
    assert fallback_rate_hz(100.0, min(10, max_samples_per_packet(large, 6)), 50.0) == 100.0


def test_golden_clock_value_decodes_to_documented_time() -> None:
    """docs/protocol.md §6.2: 40 e2 01 00 00 00 00 00 is 123 456 µs since boot."""
    assert decode_device_clock_ns(bytes.fromhex("40e2010000000000")) == 123_456_000
    assert decode_device_clock_ns(encode_device_clock(MAX_DEVICE_CLOCK_US)) == MAX_DEVICE_CLOCK_US * 1000


def test_clock_value_beyond_int64_ns_raises_bad_clock_value() -> None:
    """2**64 - 1 µs is no uptime, and as ns it would overflow every UTC stamp after it."""
    with pytest.raises(BadClockValueError):
        decode_device_clock_ns(encode_device_clock(2**64 - 1))


@pytest.mark.parametrize("size", [0, 1, 7, 9, 12])
def test_clock_value_of_wrong_length_raises_bad_clock_value(size: int) -> None:
    with pytest.raises(BadClockValueError) as caught:
        decode_device_clock_ns(bytes(size))
    assert isinstance(caught.value, DecodeError)


def test_device_info_round_trips() -> None:
    info = DeviceInfo((1, 2, 3), 4, 0, 0, 4, 2)
    assert DeviceInfo.from_bytes(info.to_bytes()) == info
    assert (info.emg_rate_hz, info.imu_rate_hz) == (1000.0, 100.0)


def test_device_info_carries_a_boot_identifier_and_reads_the_older_10_byte_form() -> None:
    """docs/protocol.md §4: u32 boot identifier after the reserved byte; 0 or absent: none."""
    info = DeviceInfo((1, 2, 3), 4, 0, 0, 4, 2, boot_id=0xDEADBEEF)
    raw = info.to_bytes()
    assert raw.hex() == "01010203040000040200efbeadde"
    assert DeviceInfo.from_bytes(raw) == info
    assert DeviceInfo.from_bytes(raw[:10]).boot_id is None
    assert DeviceInfo.from_bytes(raw[:10] + bytes(4)).boot_id is None
    with pytest.raises(ValueError, match="must be 14"):
        DeviceInfo.from_bytes(raw[:12])


def _decode_or_decode_error(payload: bytes) -> bool:
    try:
        decode(payload)
    except DecodeError:
        return False
    return True


@st.composite
def _mutated_packets(draw: st.DrawFn) -> bytes:
    stream = draw(st.sampled_from(list(StreamType)))
    channels = draw(st.integers(1, 8)) if stream is StreamType.EMG else (6 if stream is StreamType.IMU else 3)
    n = draw(st.integers(1, 30))
    raw = np.frombuffer(draw(st.binary(min_size=2 * n * channels, max_size=2 * n * channels)), "<i2")
    good = bytearray(
        encode_packet(
            stream,
            draw(st.integers(0, 65535)),
            draw(st.integers(0, 2**32 - 1)),
            raw.reshape(n, channels),
            draw(st.integers(0, 6)),
            draw(st.integers(0, 3)),
        )
    )
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "extend", "set"]))
        if op == "flip" and good:
            index = draw(st.integers(0, len(good) - 1))
            good[index] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del good[draw(st.integers(0, len(good))) :]
        elif op == "extend":
            good += draw(st.binary(max_size=8))
        elif good:
            good[draw(st.integers(0, min(11, len(good) - 1)))] = draw(st.integers(0, 255))
    return bytes(good)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_decode_error(payload: bytes) -> None:
    _decode_or_decode_error(payload)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(_mutated_packets())
def test_mutated_packets_decode_or_raise_decode_error(payload: bytes) -> None:
    if _decode_or_decode_error(payload):
        packet = decode(payload)
        assert packet.samples.shape[0] >= 1
        assert np.isfinite(packet.samples).all()


def test_decoder_survives_100k_random_and_mutated_payloads() -> None:
    rng = np.random.default_rng(20261125)
    valid = [
        encode_packet(StreamType.EMG, 1, 1, np.ones((25, 4), np.int16), 0, 0),
        encode_packet(StreamType.IMU, 2, 2, np.ones((10, 6), np.int16), 4, 2),
        encode_packet(StreamType.ACC, 3, 3, np.ones((1, 3), np.int16), 5, 1),
    ]
    decoded = 0
    for i in range(100_000):
        if i % 2:
            payload = rng.bytes(int(rng.integers(0, 260)))
        else:
            mutated = bytearray(valid[i % 3])
            for index in rng.integers(0, len(mutated), size=int(rng.integers(1, 4))):
                mutated[index] = int(rng.integers(0, 256))
            payload = bytes(mutated[: int(rng.integers(0, len(mutated) + 2))])
        decoded += _decode_or_decode_error(payload)
    assert 0 < decoded < 100_000  # both paths were exercised
