"""Ganglion decoders: golden packets from OpenBCI's spec, the firmware transcription, fuzzing.

The golden cases (``golden/*.json``, sources in ``golden/README.md``) pin the bit layout to
the worked examples of OpenBCI's "Ganglion Data Format" page. The round trips run the
emulator's transcription of the firmware's packing (written from the firmware source, not
from the decoder) into the decoder. The fuzz tests prove the contract: any payload, in any
order, decodes or raises a ``DecodeError`` subclass, never anything else.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter

from bench.matching import score_events
from devices.base import DecodeError, Packet, Payload
from devices.ganglion import (
    PROFILE,
    BadImpedanceError,
    Deltas,
    EmptyPacketError,
    GanglionProfile,
    GanglionStreamDecoder,
    Impedance,
    LengthMismatchError,
    RawSample,
    UnknownCharacteristicError,
    UnknownPacketIdError,
    parse,
)
from devices.ganglion.protocol import (
    INPUT_RANGE_MV,
    MV_PER_COUNT,
    RECEIVE_UUID,
    SAMPLES_PER_CYCLE,
    SEND_UUID,
    SERVICE_UUID,
    DeltaBits,
)
from emulators.ganglion import synthetic_counts
from emulators.ganglion_firmware import GanglionFirmware
from monitor.collect.gaps import SequenceTracker
from monitor.dsp import detect_spasms
from monitor.synth import EmgScenario, SyntheticEmg, generate_emg
from monitor.types import SensorKind, SpasmEvent

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_CASES = sorted(GOLDEN_DIR.glob("*.json"))
IntArray = npt.NDArray[np.int64]


def _golden(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=[p.stem for p in GOLDEN_CASES])
def test_golden_packets_decode_to_the_spec_examples(path: Path) -> None:
    case = _golden(path)
    parsed = parse(bytes.fromhex(case["packet_hex"]))
    if case["kind"] == "raw":
        assert isinstance(parsed, RawSample)
        assert parsed.counts.tolist() == case["counts"]
    elif case["kind"] == "deltas":
        assert isinstance(parsed, Deltas)
        assert parsed.deltas.tolist() == case["deltas"]
        assert (parsed.ring_level, parsed.bits.value, parsed.aux) == (
            case["ring_level"],
            case["bits"],
            case.get("aux"),
        )
    else:
        assert parsed == Impedance(case["channel"], case["impedance_kohm"])


def test_golden_cases_cover_every_packet_kind() -> None:
    kinds = {_golden(p)["kind"] for p in GOLDEN_CASES}
    bits = {_golden(p).get("bits") for p in GOLDEN_CASES}
    assert kinds == {"raw", "deltas", "impedance"}
    assert {18, 19} <= bits


def test_raw_then_delta_packet_gives_samples_in_mv_with_exact_counters() -> None:
    raw = _golden(GOLDEN_DIR / "raw_small.json")
    delta = _golden(GOLDEN_DIR / "delta19_negative.json")
    decoder = GanglionStreamDecoder()
    (first,) = decoder.decode(RECEIVE_UUID, bytes.fromhex(raw["packet_hex"]))
    (second,) = decoder.decode(RECEIVE_UUID, bytes.fromhex(delta["packet_hex"]))
    assert (first.counter, first.seq, first.n_samples) == (0, 0, 1)
    assert (second.counter, second.seq, second.n_samples) == (1, 1, 2)
    expected_counts = np.array(raw["counts"][0]) - np.cumsum(
        delta["deltas"], axis=0
    )  # new = previous - delta
    np.testing.assert_allclose(second.samples, expected_counts * MV_PER_COUNT)
    assert second.sample_rate_hz == 200.0
    (frame,) = second.frames("dev", t0_ns=0, seq_first=1, seq_last=1)
    assert frame.kind is SensorKind.EMG
    assert frame.samples.shape == (2, 4)


def test_scale_factor_matches_the_spec_and_brainflow() -> None:
    # Ganglion Data Format: 1.2 V / (8388607 · 1.5 · 51) per count; brainflow's eeg_scale in µV.
    brainflow_uv_per_count = 1.2e6 / (8388607.0 * 1.5 * 51.0)
    np.testing.assert_allclose(MV_PER_COUNT * 1e3, brainflow_uv_per_count, rtol=1e-12)
    np.testing.assert_allclose(MV_PER_COUNT, 1.8700e-6, rtol=1e-4)
    np.testing.assert_allclose(INPUT_RANGE_MV, 15.686, atol=1e-3)


# -- the firmware transcription, decoded ---------------------------------------------------------


def _firmware_packets(counts: IntArray, use_accel: bool = False) -> list[bytes]:
    firmware = GanglionFirmware(use_accel=use_accel)
    firmware.start()
    packets = [firmware.process([int(v) for v in sample]) for sample in counts]
    return [p for p in packets if p is not None]


def _decode_all(decoder: GanglionStreamDecoder, packets: list[bytes]) -> list[Packet]:
    return [p for payload in packets for p in decoder.decode(RECEIVE_UUID, payload)]


@pytest.mark.parametrize("use_accel", [False, True], ids=["19bit", "18bit"])
def test_firmware_packets_decode_to_the_samples_within_the_documented_rounding(use_accel: bool) -> None:
    counts = synthetic_counts(seed=3, loop_s=10.0)[: 3 * SAMPLES_PER_CYCLE]
    packets = _firmware_packets(counts, use_accel)
    assert len(packets) == 3 * 101  # one raw and 100 delta packets per 201-sample cycle
    assert [p[0] for p in packets[:3]] == ([0, 1, 2] if use_accel else [0, 101, 102])
    decoded = _decode_all(GanglionStreamDecoder(), packets)
    samples_mv = np.vstack([p.samples for p in decoded])
    assert samples_mv.shape == counts.shape
    assert [p.counter for p in decoded[:3]] == [0, 1, 3]
    np.testing.assert_array_equal(np.diff([p.counter for p in decoded]), [p.n_samples for p in decoded[:-1]])
    # Bit 0 carries the sign, so each delta may be one count off: the error grows by at most
    # one count a sample and returns to zero at every raw packet.
    error_counts = np.abs(np.round(samples_mv / MV_PER_COUNT) - counts).max(axis=1)
    since_raw = np.arange(counts.shape[0]) % SAMPLES_PER_CYCLE
    assert np.all(error_counts <= since_raw)
    assert np.all(error_counts[since_raw == 0] == 0)


def test_delta_beyond_the_field_width_wraps_until_the_next_raw_packet() -> None:
    counts = np.zeros((2 * SAMPLES_PER_CYCLE, 4), dtype=np.int64)
    counts[50:, 0] = 600_000  # one step of 1.12 mV in 5 ms, beyond the 19-bit field (2^19 counts)
    assert DeltaBits.B19.max_step_counts < 600_000
    firmware = GanglionFirmware()
    packets = [p for p in (firmware.process([int(v) for v in s]) for s in counts) if p is not None]
    assert firmware.delta_overflows == 1
    decoded = np.vstack([p.samples for p in _decode_all(GanglionStreamDecoder(), packets)]) / MV_PER_COUNT
    assert np.abs(decoded[50:SAMPLES_PER_CYCLE, 0] - counts[50:SAMPLES_PER_CYCLE, 0]).min() > 1000  # wrapped
    np.testing.assert_allclose(decoded[SAMPLES_PER_CYCLE:], counts[SAMPLES_PER_CYCLE:], atol=1)  # repaired


# -- losses ---------------------------------------------------------------------------------------


@dataclass
class _Books:
    tracker: SequenceTracker = field(default_factory=lambda: SequenceTracker(1 << 32, 1 << 32))
    received: int = 0
    gaps: int = 0

    def feed(self, packets: list[Packet]) -> None:
        for packet in packets:
            step = self.tracker.step(packet.seq, packet.counter, packet.n_samples)
            self.received += packet.n_samples
            self.gaps += step.gap_samples


def _cycles(n_cycles: int, seed: int = 5) -> tuple[IntArray, list[bytes]]:
    counts = synthetic_counts(seed=seed, loop_s=10.0)[: n_cycles * SAMPLES_PER_CYCLE]
    return counts, _firmware_packets(counts)


def test_after_a_lost_packet_nothing_is_emitted_until_the_raw_packet_and_the_gap_is_exact() -> None:
    counts, packets = _cycles(3)
    lost = 40  # a delta packet in the first cycle (samples 79, 80)
    decoder = GanglionStreamDecoder()
    books = _Books()
    decoded = [decoder.decode(RECEIVE_UUID, p) for i, p in enumerate(packets) if i != lost]
    books.feed([p for ps in decoded for p in ps])
    assert decoder.unanchored_packets == 100 - lost  # the rest of the cycle cannot be rebuilt
    assert books.received + books.gaps == counts.shape[0]
    assert books.gaps == SAMPLES_PER_CYCLE - (2 * lost - 1)  # from the lost packet to the raw one
    emitted = [p for ps in decoded for p in ps]
    after = next(p for p in emitted if p.counter == SAMPLES_PER_CYCLE)
    np.testing.assert_allclose(after.samples[0] / MV_PER_COUNT, counts[SAMPLES_PER_CYCLE])


def test_offset_mode_keeps_the_waveform_with_a_constant_error_until_the_raw_packet() -> None:
    counts, packets = _cycles(2)
    decoder = GanglionStreamDecoder(after_loss="offset")
    emitted = [
        p for i, payload in enumerate(packets) if i != 30 for p in decoder.decode(RECEIVE_UUID, payload)
    ]
    by_counter = {p.counter: p.samples / MV_PER_COUNT for p in emitted}
    errors = np.array([by_counter[c][0] - counts[c] for c in range(61, SAMPLES_PER_CYCLE, 2)])
    spread = errors.max(axis=0) - errors.min(axis=0)
    assert np.abs(errors).max() > 100  # visibly off: the lost deltas are missing from the sum
    assert spread.max() <= SAMPLES_PER_CYCLE  # yet a constant, up to the sign-bit rounding
    np.testing.assert_allclose(by_counter[SAMPLES_PER_CYCLE][0], counts[SAMPLES_PER_CYCLE])


def test_losing_a_whole_cycle_aliases_as_documented() -> None:
    """101 packets lost in a row look like none: the documented limit of a 201-sample cycle."""
    counts, packets = _cycles(3)
    books = _Books()
    decoder = GanglionStreamDecoder()
    books.feed(
        [
            p
            for i, payload in enumerate(packets)
            if not 50 <= i < 151
            for p in decoder.decode(RECEIVE_UUID, payload)
        ]
    )
    assert books.received + books.gaps == counts.shape[0] - SAMPLES_PER_CYCLE


async def test_a_reconnected_board_reads_as_a_restart_to_the_session_tracker() -> None:
    """The board counts from zero at every connection; the session must restart, not drop or gap."""
    _, packets = _cycles(1)
    profile = GanglionProfile()
    tracker = SequenceTracker(1 << 32, 1 << 32)
    steps = []
    for _ in range(3):  # short connections: a plain restart at 0 would read as a repeat
        decoder = await profile.start(_RecordingClient("F1:00:00:00:00:01"))
        steps += [tracker.step(p.seq, p.counter, p.n_samples) for p in _decode_all(decoder, packets[:10])]
    restarts = [i for i, step in enumerate(steps) if step.reboot]
    assert restarts == [10, 20]
    assert not any(step.duplicate for step in steps)
    assert sum(step.gap_samples for step in steps) == 0
    assert tracker.received_samples == 3 * 19
    other = await profile.start(_RecordingClient("F1:00:00:00:00:02"))
    assert other.counter_base == 0  # another board's count is its own


# -- messages, impedance, errors --------------------------------------------------------------


def test_ascii_messages_and_impedance_are_kept_and_give_no_samples() -> None:
    decoder = GanglionStreamDecoder()
    assert decoder.decode(RECEIVE_UUID, bytes([206]) + b"stop runn") == ()
    assert decoder.decode(RECEIVE_UUID, bytes([207]) + b"ing\n") == ()
    assert decoder.decode(RECEIVE_UUID, bytes([205]) + b"7Z") == ()
    assert decoder.messages == ["stop running\n"]
    assert decoder.impedance_kohm == {5: 7}


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"", EmptyPacketError),
        (bytes(19), LengthMismatchError),
        (bytes([101]) + bytes(20), LengthMismatchError),
        (bytes([208]) + bytes(19), UnknownPacketIdError),
        (bytes([255]) + bytes(19), UnknownPacketIdError),
        (bytes([201]) + b"12", BadImpedanceError),
        (bytes([201]) + b"Z", BadImpedanceError),
        (bytes([203]) + b"1x2Z", BadImpedanceError),
    ],
)
def test_each_malformation_raises_its_named_error(payload: bytes, error: type[DecodeError]) -> None:
    with pytest.raises(error) as caught:
        parse(payload)
    assert caught.value.advice


def test_notifications_of_another_characteristic_are_rejected() -> None:
    with pytest.raises(UnknownCharacteristicError):
        GanglionStreamDecoder().decode(SEND_UUID, bytes(20))


def test_profile_recognises_ganglion_advertisements_only() -> None:
    assert PROFILE.name == "ganglion"
    assert PROFILE.battery_uuid is None
    assert PROFILE.recognises("Ganglion-1a2b", [])
    assert PROFILE.recognises("Simblee", [SERVICE_UUID.upper()])
    assert not PROFILE.recognises("Simblee", [])
    assert not PROFILE.recognises("SMREF-01", [SERVICE_UUID])
    assert not PROFILE.recognises(None, [SERVICE_UUID])


class _RecordingClient:
    def __init__(self, address: str = "") -> None:
        self.address = address
        self.writes: list[tuple[str, bytes]] = []

    @property
    def mtu_size(self) -> int:
        return 23

    async def write_gatt_char(self, char_specifier: str, data: Payload, response: bool = True) -> None:
        self.writes.append((char_specifier, bytes(data)))

    async def read_gatt_char(self, char_specifier: str) -> bytearray:
        raise AssertionError("the Ganglion handshake reads nothing")

    async def start_notify(self, char_specifier: str, callback: Any) -> None:
        raise AssertionError("the session subscribes, not the profile")


async def test_start_writes_b_and_stop_writes_s_to_the_send_characteristic() -> None:
    client = _RecordingClient()
    decoder = await PROFILE.start(client)
    await PROFILE.stop(client)
    assert client.writes == [(SEND_UUID, b"b"), (SEND_UUID, b"s")]
    assert isinstance(decoder, GanglionStreamDecoder)


# -- fuzz -----------------------------------------------------------------------------------------


def _decodes(decoder: GanglionStreamDecoder, payload: bytes) -> list[Packet] | None:
    try:
        return list(decoder.decode(RECEIVE_UUID, payload))
    except DecodeError:
        return None


def _valid_packets() -> list[bytes]:
    _, packets19 = _cycles(1, seed=7)
    packets18 = _firmware_packets(synthetic_counts(seed=8, loop_s=10.0)[:SAMPLES_PER_CYCLE], use_accel=True)
    golden = [bytes.fromhex(_golden(p)["packet_hex"]) for p in GOLDEN_CASES]
    return [*packets19[:20], *packets18[:20], *golden, bytes([206]) + b"hi", bytes([207]) + b"!"]


VALID = _valid_packets()


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    packet = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "extend", "id"]))
        if op == "flip" and packet:
            packet[draw(st.integers(0, len(packet) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del packet[draw(st.integers(0, len(packet))) :]
        elif op == "extend":
            packet += draw(st.binary(max_size=8))
        elif packet:
            packet[0] = draw(st.integers(0, 255))
    return bytes(packet)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.binary(max_size=40))
def test_random_bytes_parse_or_raise_decode_error(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse(payload)


@settings(max_examples=250, deadline=None, derandomize=True)
@given(st.lists(_mutated(), max_size=30))
def test_mutated_streams_decode_or_raise_decode_error(payloads: list[bytes]) -> None:
    decoder = GanglionStreamDecoder(after_loss="offset")
    for payload in payloads:
        for packet in _decodes(decoder, payload) or ():
            assert packet.samples.shape[1] == 4
            assert np.isfinite(packet.samples).all()
            assert packet.counter is not None
            assert packet.counter >= 0


def _seeded_payloads(n: int) -> Iterator[bytes]:
    rng = np.random.default_rng(20261125)
    for i in range(n):
        if i % 2:
            yield rng.bytes(int(rng.integers(0, 24)))
        else:
            mutated = bytearray(VALID[i % len(VALID)])
            for index in rng.integers(0, len(mutated), size=int(rng.integers(1, 4))):
                mutated[index] = int(rng.integers(0, 256))
            yield bytes(mutated[: int(rng.integers(0, len(mutated) + 2))])


def test_decoder_survives_30k_random_and_mutated_payloads() -> None:
    decoder = GanglionStreamDecoder()
    outcomes = [_decodes(decoder, payload) for payload in _seeded_payloads(30_000)]
    assert 0 < sum(o is None for o in outcomes) < len(outcomes)  # both paths were exercised
    assert any(o for o in outcomes)  # and some payloads gave samples


# -- what the codec does to spasm detection ---------------------------------------------------


def _f1(events: list[SpasmEvent], rec: SyntheticEmg) -> tuple[int, float]:
    tp = fp = fn = 0
    for channel in range(4):
        scores = score_events(
            [(s.onset_s, s.offset_s) for s in rec.spasms if s.channel == channel],
            [(e.onset_ns / 1e9, e.offset_ns / 1e9) for e in events if e.channel == channel],
        )
        tp, fp, fn = tp + scores.tp, fp + scores.fp, fn + scores.fn
    return tp, 2 * tp / (2 * tp + fp + fn)


def test_spasms_survive_the_ganglion_codec_as_at_200_hz() -> None:
    """Same spasms found after the firmware's delta coding and our decoding as before it.

    The signal is 2 min of synthetic EMG through the ADC model of the emulator (sinc³ to
    200 Hz); this seed has 14 delta overflows (motion spikes), which the codec wraps.
    """
    rec = generate_emg(EmgScenario(sample_rate_hz=1000.0, channels=4, duration_s=120.0, seed=2))
    emg_mv = rec.emg_mv
    for _ in range(3):  # the emulator's ADC model
        emg_mv = lfilter(np.full(5, 0.2), [1.0], emg_mv, axis=0)
    at_200_hz_mv = emg_mv[4::5]
    firmware = GanglionFirmware()
    counts = np.round(at_200_hz_mv / MV_PER_COUNT).astype(np.int64)
    packets = [p for p in (firmware.process([int(v) for v in s]) for s in counts) if p is not None]
    decoded_mv = np.vstack([p.samples for p in _decode_all(GanglionStreamDecoder(), packets)])
    assert firmware.delta_overflows > 0
    tp_200, f1_200 = _f1(detect_spasms(at_200_hz_mv, 200.0), rec)
    tp_codec, f1_codec = _f1(detect_spasms(decoded_mv, 200.0), rec)
    assert tp_codec == tp_200 == len(rec.spasms)
    assert f1_codec >= f1_200 - 0.05
