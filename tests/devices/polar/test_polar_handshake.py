"""Polar PMD handshake and control point bytes, against a scripted GATT client.

The scripted device answers as the SDK's ``BlePMDClient`` expects (``0xF0, opcode, type,
status, more, parameters``); the tests check the exact bytes the profile writes and how it
reacts to refusals, continuation responses and silence.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable

import pytest

from devices.base import NotifyHandler, Payload
from devices.polar import profile as polar_profile
from devices.polar.pmd import (
    CONTROL_POINT_UUID,
    MeasurementType,
    PolarCommandError,
    PolarResponseError,
    ResponseStatus,
    Settings,
    SettingType,
    encode_settings,
    parse_features,
    parse_response,
    parse_settings,
    start_command,
)
from devices.polar.profile import PROFILE, choose
from devices.registry import recognise

H10_ACC_SETTINGS = encode_settings(
    {SettingType.SAMPLE_RATE: (25, 50, 100, 200), SettingType.RESOLUTION: (16,), SettingType.RANGE: (2, 4, 8)}
)
H10_ECG_SETTINGS = encode_settings({SettingType.SAMPLE_RATE: (130,), SettingType.RESOLUTION: (14,)})
SENSE_IMU = {SettingType.SAMPLE_RATE: (52,), SettingType.RESOLUTION: (16,), SettingType.CHANNELS: (3,)}
GYRO_FACTOR = 2000 / 32768


class ScriptedPolar:
    """A GATT client whose control point answers from a script, as indications."""

    def __init__(
        self,
        features: int,
        settings: dict[int, bytes],
        start_status: dict[int, list[int]] | None = None,
        factor: dict[int, float] | None = None,
        split_settings: bool = False,
        silent: bool = False,
    ) -> None:
        self.features = features
        self.settings = settings
        self.start_status = start_status or {}
        self.factor = factor or {}
        self.split_settings = split_settings
        self.silent = silent
        self.writes: list[bytes] = []
        self._written = asyncio.Event()
        self._indicate: NotifyHandler | None = None

    @property
    def mtu_size(self) -> int:
        return 247

    def read_gatt_char(self, char_specifier: str) -> Awaitable[bytearray]:
        async def read() -> bytearray:
            assert char_specifier == CONTROL_POINT_UUID
            return bytearray([0x0F, self.features, 0x00])

        return read()

    def start_notify(self, char_specifier: str, callback: NotifyHandler) -> Awaitable[None]:
        async def subscribe() -> None:
            assert char_specifier == CONTROL_POINT_UUID
            self._indicate = callback

        return subscribe()

    def write_gatt_char(self, char_specifier: str, data: Payload, response: bool = True) -> Awaitable[None]:
        async def write() -> None:
            assert char_specifier == CONTROL_POINT_UUID
            value = bytes(data)
            self.writes.append(value)
            self._written.set()
            if not self.silent:
                for part in self._answer(value):
                    asyncio.get_running_loop().call_soon(self._deliver, part)

        return write()

    async def until_writes(self, count: int) -> None:
        """Return once the profile has written ``count`` commands."""
        while len(self.writes) < count:
            self._written.clear()
            await self._written.wait()

    def deliver_now(self, part: bytes) -> None:
        """An indication the device sends unasked."""
        self._deliver(part)

    def _deliver(self, part: bytes) -> None:
        assert self._indicate is not None
        self._indicate(None, bytearray(part))

    def _answer(self, value: bytes) -> list[bytes]:
        opcode, kind = value[0], value[1]
        if opcode == 1:
            params = self.settings[kind]
            if self.split_settings:  # the SDK's "more" flag: parameters continue in a second indication
                return [bytes([0xF0, 1, kind, 0, 1]) + params[:4], bytes([0xF0, 1, kind, 0, 0]) + params[4:]]
            return [bytes([0xF0, 1, kind, 0, 0]) + params]
        if opcode == 2:
            statuses = self.start_status.get(kind, [])
            status = statuses.pop(0) if statuses else 0
            factor = bytes([SettingType.FACTOR, 1]) + struct.pack("<f", self.factor.get(kind, 1.0))
            return [bytes([0xF0, 2, kind, status, 0]) + (factor if status == 0 else b"")]
        return [bytes([0xF0, opcode, kind, 0, 0])]


def _h10(**kwargs: object) -> ScriptedPolar:
    return ScriptedPolar(0b101, {2: H10_ACC_SETTINGS, 0: H10_ECG_SETTINGS}, **kwargs)  # type: ignore[arg-type]


async def test_h10_starts_acc_at_200hz_8g_and_ecg_at_130hz() -> None:
    client = _h10()
    decoder = await PROFILE.start(client)
    assert [w.hex() for w in client.writes] == [
        "0102",
        "02020001c80001011000020108 00".replace(" ", ""),
        "0100",
        "02000001820001010e00",
    ]
    assert decoder.rates_hz == {MeasurementType.ACC: 200.0, MeasurementType.ECG: 130.0}


async def test_verity_sense_starts_acc_and_gyro_and_keeps_the_gyro_factor() -> None:
    settings = {
        2: encode_settings({**SENSE_IMU, SettingType.RANGE: (8,)}),
        5: encode_settings({**SENSE_IMU, SettingType.RANGE: (2000,)}),
    }
    client = ScriptedPolar(0b1101110, settings, factor={5: GYRO_FACTOR}, split_settings=True)
    decoder = await PROFILE.start(client)
    assert decoder.rates_hz == {MeasurementType.ACC: 52.0, MeasurementType.GYRO: 52.0}
    assert client.writes[3] == start_command(
        MeasurementType.GYRO,
        {
            SettingType.SAMPLE_RATE: 52,
            SettingType.RESOLUTION: 16,
            SettingType.CHANNELS: 3,
            SettingType.RANGE: 2000,
        },
    )
    assert decoder._streams[MeasurementType.GYRO].factor == pytest.approx(GYRO_FACTOR)


async def test_refused_start_raises_a_device_error_naming_the_status() -> None:
    client = _h10(start_status={2: [ResponseStatus.ERROR_DEVICE_IN_CHARGER]})
    with pytest.raises(PolarCommandError, match="ERROR_DEVICE_IN_CHARGER") as raised:
        await PROFILE.start(client)
    assert raised.value.status == ResponseStatus.ERROR_DEVICE_IN_CHARGER
    assert raised.value.advice  # tells the user what to do


async def test_stream_left_running_is_stopped_then_started_again() -> None:
    client = _h10(start_status={2: [ResponseStatus.ERROR_ALREADY_IN_STATE]})
    await PROFILE.start(client)
    assert [w[:2].hex() for w in client.writes[:4]] == ["0102", "0202", "0302", "0202"]


async def test_device_without_acc_or_without_answers_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PolarResponseError, match="no ACC"):
        await PROFILE.start(ScriptedPolar(0b1, {0: H10_ECG_SETTINGS}))
    monkeypatch.setattr(polar_profile, "RESPONSE_TIMEOUT_S", 0.05)
    with pytest.raises(PolarResponseError, match="no answer"):
        await PROFILE.start(_h10(silent=True))


async def test_stop_writes_stop_for_every_stream() -> None:
    client = _h10()
    await PROFILE.stop(client)
    assert [w.hex() for w in client.writes] == ["0302", "0305", "0300"]


def test_control_point_parsers() -> None:
    assert parse_features(bytes([0x0F, 0b101, 0])) == {MeasurementType.ECG, MeasurementType.ACC}
    with pytest.raises(PolarResponseError):
        parse_features(b"\x0f")
    response = parse_response(bytes([0xF0, 1, 2, 0, 0]) + H10_ACC_SETTINGS)
    assert response.ok
    assert not response.more
    offered = parse_settings(response.parameters)
    assert offered.values[SettingType.SAMPLE_RATE] == (25, 50, 100, 200)
    assert choose(offered, polar_profile.WANTED[MeasurementType.ACC]) == {
        SettingType.SAMPLE_RATE: 200,
        SettingType.RESOLUTION: 16,
        SettingType.RANGE: 8,
    }
    assert choose(Settings({SettingType.SAMPLE_RATE: (52,)}), {SettingType.SAMPLE_RATE: 200}) == {
        SettingType.SAMPLE_RATE: 52
    }
    with pytest.raises(PolarResponseError):
        parse_settings(bytes([0, 2, 0xC8]))  # two rates promised, one byte given


@pytest.mark.parametrize(
    ("name", "services", "expected"),
    [
        ("Polar H10 1A2B3C4D", [], "polar"),
        ("Polar Sense B5C2AE21", ["0000180d-0000-1000-8000-00805f9b34fb"], "polar"),
        (None, ["0000180d-0000-1000-8000-00805f9b34fb", "0000feee-0000-1000-8000-00805f9b34fb"], "polar"),
        ("Polar", [], None),
        ("SMREF-01", ["0000180d-0000-1000-8000-00805f9b34fb"], None),
    ],
)
def test_advertisements_of_polar_sensors_are_recognised(
    name: str | None, services: list[str], expected: str | None
) -> None:
    assert PROFILE.recognises(name, services) is (expected == "polar")
    if expected:
        assert recognise(name, services) == expected  # no other registered profile claims it


async def test_stream_stopped_by_the_device_is_started_again() -> None:
    client = _h10()
    await PROFILE.start(client)
    client.deliver_now(bytes([0x01, MeasurementType.ACC]))  # ONLINE_MEASUREMENT_STOPPED: ACC
    await asyncio.wait_for(client.until_writes(5), 5.0)
    assert client.writes[4] == client.writes[1]  # the same START as the handshake's
