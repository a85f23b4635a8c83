"""Polar device clock over PS-FTP (GET_LOCAL_TIME): query bytes, answer decoding, the read.

The query's bytes and the answer's layout are the SDK's (``BlePsFtpUtils.kt``,
``pftp_request.proto``; see :mod:`devices.polar.profile`); the answers here come from the
emulator's own encoders, written separately. Any answer decodes or raises a
``DecodeError`` subclass, or a device error when the device has no usable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.base import ClockReader, NotifyHandler, Payload
from devices.polar import profile as polar_profile
from devices.polar.pmd import POLAR_EPOCH_UNIX_NS, DecodeError, PolarDeviceError, PolarResponseError
from devices.polar.profile import CLOCK_QUANTUM_WAIT_NS, PolarProfile
from devices.polar.psftp import (
    PFTP_QUERY_GET_LOCAL_TIME,
    PSFTP_MTU_UUID,
    ClockDecodeError,
    CoarseClockError,
    PsFtpError,
    decode_local_time_ns,
    parse_rfc76_frame,
    rfc76_query_frames,
)
from emulators.polar_wire import local_time_message, rfc76_frames

# TimeSystemExplained.md's example timestamp (2022-12-11T08:00:00; its text says 11-12), + 123.456789 ms.
DEVICE_NS = 724_060_800_123_456_789


def test_get_local_time_query_is_the_sdks_bytes() -> None:
    # RFC76 header 0x02 (first frame, LAST, sequence 0), RFC60 query header: id 4, bit 15 set.
    assert rfc76_query_frames(PFTP_QUERY_GET_LOCAL_TIME) == [bytes([0x02, 0x04, 0x80])]
    frames = rfc76_query_frames(PFTP_QUERY_GET_LOCAL_TIME, bytes(40), max_frame_bytes=20)
    assert [f[0] for f in frames] == [0x06, 0x17, 0x23]  # MORE seq 0, MORE+next seq 1, LAST+next seq 2
    assert b"".join(f[1:] for f in frames) == bytes([0x04, 0x80]) + bytes(40)


def test_local_time_answer_decodes_to_device_ns_truncated_to_the_ms() -> None:
    assert decode_local_time_ns(local_time_message(DEVICE_NS)) == DEVICE_NS // 1_000_000 * 1_000_000
    # The PMD time base: ns since 2000-01-01 (POLAR_EPOCH_UNIX_NS before it in Unix time).
    unix_s = (decode_local_time_ns(local_time_message(DEVICE_NS)) + POLAR_EPOCH_UNIX_NS) // 10**9
    assert datetime.fromtimestamp(unix_s, UTC) == datetime(2022, 12, 11, 8, 0, 0, tzinfo=UTC)


def test_answers_without_millis_or_with_impossible_dates_are_refused() -> None:
    no_millis = bytes.fromhex("0a0708e80f1006180f1206080a101e182d")  # 2024-06-15 10:30:45
    with pytest.raises(CoarseClockError):
        decode_local_time_ns(no_millis)
    february_30 = bytes.fromhex("0a0708e80f1002181e1209080a101e182d20fb03")
    with pytest.raises(ClockDecodeError):
        decode_local_time_ns(february_30)


@given(st.binary(max_size=64))
def test_any_answer_decodes_or_raises_a_decode_or_device_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError, CoarseClockError):
        decode_local_time_ns(data)
    with contextlib.suppress(DecodeError):
        parse_rfc76_frame(data)


class FakePsFtp:
    """A GATT client whose PS-FTP MTU characteristic answers like the emulator, after ``delay_s``."""

    def __init__(self, device_ns: int, answer: list[bytes] | None = None, delay_s: float = 0.001) -> None:
        self.mtu_size = 23
        self.device_ns = device_ns
        self.answer = answer
        self.delay_s = delay_s
        self.handler: NotifyHandler | None = None
        self.writes: list[tuple[bytes, int]] = []  # (bytes, time.time_ns() at the write)

    def start_notify(self, char_specifier: str, callback: NotifyHandler) -> Awaitable[None]:
        assert char_specifier == PSFTP_MTU_UUID
        self.handler = callback
        return asyncio.sleep(0)

    def write_gatt_char(self, char_specifier: str, data: Payload, response: bool = True) -> Awaitable[None]:
        assert char_specifier == PSFTP_MTU_UUID
        assert not response
        self.writes.append((bytes(data), time.time_ns()))
        frames = (
            self.answer if self.answer is not None else rfc76_frames(local_time_message(self.device_ns), 20)
        )
        loop = asyncio.get_running_loop()
        for frame in frames:
            loop.call_later(self.delay_s, self._notify, frame)
        return asyncio.sleep(0)

    def _notify(self, frame: bytes) -> None:
        assert self.handler is not None
        self.handler(None, bytearray(frame))

    def read_gatt_char(self, char_specifier: str) -> Awaitable[bytearray]:
        raise AssertionError("PS-FTP is never read")


async def test_read_writes_the_query_after_the_quantum_wait_and_returns_the_answer() -> None:
    profile = PolarProfile()
    assert isinstance(profile, ClockReader)
    client = FakePsFtp(DEVICE_NS)
    entered_ns = time.time_ns()
    assert await profile.read_device_clock_ns(client) == DEVICE_NS // 1_000_000 * 1_000_000
    assert await profile.read_device_clock_ns(client) == DEVICE_NS // 1_000_000 * 1_000_000
    assert [data for data, _ in client.writes] == [bytes([0x02, 0x04, 0x80])] * 2
    # The value is truncated to the ms: the query leaves no earlier than 1 ms after the call.
    assert client.writes[0][1] - entered_ns >= CLOCK_QUANTUM_WAIT_NS


async def test_a_multi_frame_answer_is_joined() -> None:
    frames = rfc76_frames(local_time_message(DEVICE_NS), 8)
    assert len(frames) > 2
    client = FakePsFtp(0, frames)
    assert await PolarProfile().read_device_clock_ns(client) == DEVICE_NS // 1_000_000 * 1_000_000


async def test_refused_out_of_sequence_and_silent_reads_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polar_profile, "CLOCK_READ_TIMEOUT_S", 0.05)
    with pytest.raises(PsFtpError) as refused:
        await PolarProfile().read_device_clock_ns(FakePsFtp(0, [bytes([0x00, 201, 0])]))
    assert refused.value.code == 201
    assert not isinstance(refused.value, DecodeError)
    frames = rfc76_frames(local_time_message(DEVICE_NS), 8)
    with pytest.raises(ClockDecodeError):
        await PolarProfile().read_device_clock_ns(FakePsFtp(0, frames[1:]))
    with pytest.raises(PolarResponseError) as silent:
        await PolarProfile().read_device_clock_ns(FakePsFtp(0, [], delay_s=0.0))
    assert isinstance(silent.value, PolarDeviceError)
