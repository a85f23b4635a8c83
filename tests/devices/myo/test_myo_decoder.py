"""Myo decoders and profile: golden cases, named errors, handshake bytes, and fuzzing.

Golden cases live in ``golden/*.json``: payload bytes built from ``myohw.h``'s documented
layouts, or rebuilt from a frame of a real armband published with its decoded values,
each with its source. The fuzz tests prove the decoders' contract: any payload on any
characteristic either decodes or raises a ``DecodeError`` subclass, nothing else.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import DecodeError as BaseDecodeError
from devices.myo import (
    PROFILE,
    DecodeError,
    EmgLengthError,
    ImuLengthError,
    MyoStreamDecoder,
    UnknownCharacteristicError,
    decode_emg,
    decode_imu,
)
from devices.myo.protocol import (
    COMMAND_UUID,
    CONTROL_SERVICE_UUID,
    EMG_DATA_UUIDS,
    EMG_MV_PER_COUNT,
    IMU_DATA_UUID,
    FirmwareVersion,
)
from devices.reference.protocol import SERVICE_UUID as REFERENCE_SERVICE_UUID
from devices.registry import PROFILES, recognise
from monitor.types import SensorKind

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN = sorted(GOLDEN_DIR.glob("*.json"))
PUBLISHED_FRAME = GOLDEN_DIR / "imu_libmyo_frame_myodaemon.json"
ALL_UUIDS = [*EMG_DATA_UUIDS, IMU_DATA_UUID]


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_payload_decodes_to_its_documented_values(path: Path) -> None:
    case = _load(path)
    assert case["source"]
    payload = bytes.fromhex(case["payload_hex"])
    (packet,) = MyoStreamDecoder().decode(case["characteristic"].upper(), payload)  # UUID case is free
    expected = case["expected"]
    if "emg_counts" in expected:
        np.testing.assert_allclose(decode_emg(payload), np.array(expected["emg_counts"]) * EMG_MV_PER_COUNT)
        assert (packet.stream, packet.sample_rate_hz, packet.seq, packet.seq_modulus) == ("emg", 200.0, 2, 4)
        assert packet.counter is None
        np.testing.assert_array_equal(packet.samples, decode_emg(payload))
    else:
        imu = decode_imu(payload)
        # 1e-6: the published values are printed to 7 significant digits.
        np.testing.assert_allclose(imu.quaternion, expected["quaternion"], atol=1e-6)
        np.testing.assert_allclose(imu.acc_g, expected["acc_g"], atol=1e-6)
        np.testing.assert_allclose(imu.gyr_dps, expected["gyr_dps"], atol=1e-6)
        acc, gyr, quat = packet.frames("myo", t0_ns=7, seq_first=0, seq_last=0)
        assert (acc.kind, gyr.kind, quat.kind) == (SensorKind.ACC, SensorKind.GYR, SensorKind.QUAT)
        assert (packet.stream, packet.sample_rate_hz, packet.seq, packet.counter) == ("imu", 50.0, None, None)
        np.testing.assert_allclose(quat.samples[0], imu.quaternion)
        np.testing.assert_allclose(acc.samples[0], imu.acc_g)
        np.testing.assert_allclose(gyr.samples[0], imu.gyr_dps)


def test_published_frame_is_gravity_at_rest_and_a_unit_quaternion() -> None:
    """Little-endian with the header's scales gives 1 g and |q| = 1 on a real armband's frame."""
    payload = bytes.fromhex(_load(PUBLISHED_FRAME)["payload_hex"])
    imu = decode_imu(payload)
    assert np.linalg.norm(imu.acc_g) == pytest.approx(1.0, abs=0.05)
    assert np.linalg.norm(imu.quaternion) == pytest.approx(1.0, abs=1e-3)
    swapped = decode_imu(np.frombuffer(payload, "<i2").astype(">i2").tobytes())
    assert abs(np.linalg.norm(swapped.acc_g) - 1.0) > 1.0  # big-endian, as the header claims, is not


def test_each_emg_characteristic_is_its_place_in_the_rotation() -> None:
    decoder = MyoStreamDecoder()
    payload = bytes(range(16))
    assert [decoder.decode(uuid, payload)[0].seq for uuid in EMG_DATA_UUIDS] == [0, 1, 2, 3]
    samples = decoder.decode(EMG_DATA_UUIDS[0], payload)[0].samples
    np.testing.assert_allclose(samples, np.arange(16).reshape(2, 8) * EMG_MV_PER_COUNT)  # sample 1 first


def test_quaternion_frame_is_optional() -> None:
    payload = bytes.fromhex(_load(PUBLISHED_FRAME)["payload_hex"])
    (packet,) = MyoStreamDecoder(quaternion=False).decode(IMU_DATA_UUID, payload)
    assert [f.kind for f in packet.frames("myo", 0, 0, 0)] == [SensorKind.ACC, SensorKind.GYR]


@pytest.mark.parametrize(
    ("uuid", "payload", "error"),
    [
        (EMG_DATA_UUIDS[0], bytes(15), EmgLengthError),
        (EMG_DATA_UUIDS[3], bytes(17), EmgLengthError),
        (EMG_DATA_UUIDS[1], b"", EmgLengthError),
        (IMU_DATA_UUID, bytes(19), ImuLengthError),
        (IMU_DATA_UUID, bytes(21), ImuLengthError),
        (COMMAND_UUID, bytes(16), UnknownCharacteristicError),
        ("not-a-uuid", bytes(20), UnknownCharacteristicError),
    ],
)
def test_each_malformation_raises_its_named_error(
    uuid: str, payload: bytes, error: type[DecodeError]
) -> None:
    with pytest.raises(error) as caught:
        MyoStreamDecoder().decode(uuid, payload)
    assert isinstance(caught.value, BaseDecodeError)
    assert caught.value.advice  # the user is told what to do


def test_command_bytes_follow_the_header() -> None:
    """myohw_command_set_mode_t and myohw_command_set_sleep_mode_t, as myo-raw and pyomyo send them."""
    from devices.myo.protocol import (
        ClassifierMode,
        EmgMode,
        ImuMode,
        SleepMode,
        set_mode_command,
        set_sleep_mode_command,
    )

    assert set_mode_command(EmgMode.SEND_EMG_RAW, ImuMode.SEND_DATA, ClassifierMode.DISABLED) == bytes(
        [0x01, 0x03, 0x03, 0x01, 0x00]
    )  # pyomyo start_raw_unfiltered writes exactly these bytes
    assert set_mode_command(EmgMode.NONE, ImuMode.NONE, ClassifierMode.DISABLED) == bytes([1, 3, 0, 0, 0])
    assert set_sleep_mode_command(SleepMode.NEVER_SLEEP) == bytes([0x09, 0x01, 0x01])


class _RecordingClient:
    """A GattClient that records writes (the handshake needs nothing else)."""

    mtu_size = 23

    def __init__(self) -> None:
        self.writes: list[tuple[str, bytes, bool]] = []

    async def write_gatt_char(self, char_specifier: str, data: Any, response: bool = False) -> None:
        self.writes.append((char_specifier, bytes(data), response))

    async def read_gatt_char(self, char_specifier: str) -> bytearray:
        raise AssertionError("the Myo handshake reads nothing")

    async def start_notify(self, char_specifier: str, callback: Any) -> None:
        raise AssertionError("the session subscribes, not the profile")


async def test_handshake_keeps_awake_then_starts_raw_emg_and_imu_and_stop_reverts() -> None:
    client = _RecordingClient()
    decoder = await PROFILE.start(client)
    assert isinstance(decoder, MyoStreamDecoder)
    await PROFILE.stop(client)
    assert client.writes == [
        (COMMAND_UUID, bytes.fromhex("090101"), True),
        (COMMAND_UUID, bytes.fromhex("0103030100"), True),
        (COMMAND_UUID, bytes.fromhex("0103000000"), True),
        (COMMAND_UUID, bytes.fromhex("090100"), True),
    ]


def test_profile_is_registered_and_recognises_a_myo_advertisement() -> None:
    assert PROFILES["myo"] is PROFILE
    assert PROFILE.stream_uuids == (*EMG_DATA_UUIDS, IMU_DATA_UUID)
    assert PROFILE.battery_uuid == "00002a19-0000-1000-8000-00805f9b34fb"
    assert PROFILE.service_uuid == CONTROL_SERVICE_UUID == "d5060001-a904-deb9-4748-2c7f4a124842"
    assert recognise("renamed", [CONTROL_SERVICE_UUID.upper()]) == "myo"
    assert recognise("Myo", []) == "myo"
    assert recognise("Myo", [REFERENCE_SERVICE_UUID]) == "reference"  # the service UUID decides first
    assert not PROFILE.recognises("SMREF-01", [REFERENCE_SERVICE_UUID])


def test_firmware_version_round_trips() -> None:
    version = FirmwareVersion(1, 5, 1970, 2)
    assert FirmwareVersion.from_bytes(version.to_bytes()) == version
    with pytest.raises(ValueError, match="8 bytes"):
        FirmwareVersion.from_bytes(bytes(7))


# -- fuzzing -------------------------------------------------------------------------------


def _decodes_or_raises_decode_error(uuid: str, payload: bytes) -> bool:
    try:
        packets = MyoStreamDecoder().decode(uuid, payload)
    except DecodeError:
        return False
    for packet in packets:
        assert np.isfinite(packet.samples).all()
    return True


@settings(max_examples=400, deadline=None)
@given(
    uuid=st.sampled_from([*ALL_UUIDS, COMMAND_UUID]) | st.text(max_size=40), payload=st.binary(max_size=64)
)
def test_random_payloads_on_any_characteristic_decode_or_raise_decode_error(
    uuid: str, payload: bytes
) -> None:
    _decodes_or_raises_decode_error(uuid, payload)


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    uuid = draw(st.sampled_from(ALL_UUIDS))
    size = 20 if uuid == IMU_DATA_UUID else 16
    good = bytearray(draw(st.binary(min_size=size, max_size=size)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "extend", "splice"]))
        if kind == "flip" and good:
            index = draw(st.integers(0, len(good) - 1))
            good[index] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            good = good[: draw(st.integers(0, len(good)))]
        elif kind == "extend":
            good += draw(st.binary(min_size=1, max_size=8))
        elif kind == "splice" and good:
            index = draw(st.integers(0, len(good)))
            good[index:index] = draw(st.binary(max_size=4))
    return uuid, bytes(good)


@settings(max_examples=400, deadline=None)
@given(case=_mutated())
def test_mutated_payloads_decode_or_raise_decode_error(case: tuple[str, bytes]) -> None:
    _decodes_or_raises_decode_error(*case)


def test_decoder_survives_20k_seeded_random_and_mutated_payloads() -> None:
    rng = random.Random(8)
    valid = 0
    for _ in range(20_000):
        uuid = rng.choice(ALL_UUIDS)
        size = rng.choice([16, 20, rng.randrange(0, 40)])
        payload = bytearray(rng.randbytes(size))
        if payload and rng.random() < 0.5:
            payload[rng.randrange(len(payload))] ^= 1 << rng.randrange(8)
        valid += _decodes_or_raises_decode_error(uuid, bytes(payload))
    assert valid > 1000  # the right sizes on the right characteristics do decode
