"""Polar H10 and Verity Sense as a :class:`devices.base.DeviceProfile`: PMD handshake and decoder.

Handshake (:meth:`PolarProfile.start`), in the SDK's order (``BlePMDClient.kt``): indications
of the control point on, read the control point for the offered measurement types, then
for each wanted type GET_MEASUREMENT_SETTINGS, pick values among the offered ones, and
REQUEST_MEASUREMENT_START with them; its response carries the FACTOR that scales
delta-coded samples. ``ERROR_ALREADY_IN_STATE`` (a stream left running by a lost link) is
answered with STOP then START; any other refusal raises :class:`PolarCommandError`.

What is started, for spasm and range-of-motion monitoring:

- ACC on every device, at the highest offered rate up to 200 Hz (H10: 200 Hz; Verity Sense:
  52 Hz, its only rate) and 8 g range: a myoclonic jerk or clonus beat (3-8 Hz, harmonics to
  ~20 Hz) needs tens of Hz of bandwidth, and a strong jerk or a fall passes 4 g; 8 g keeps
  4 mg resolution, far below the tilt resolution a range-of-motion angle needs.
- GYRO where offered (Verity Sense: 52 Hz, 2000 deg/s): angular velocity is the IMU's
  evidence of a spasm and the input of the joint angle.
- ECG where offered (H10: 130 Hz, its only rate): heart rate response to spasms, at 390 B/s.

Sample counters: PMD frames carry the device time of their last sample, not a counter.
Each stream's counter starts at ``round(t_first × rate)`` (device time in samples), so all
streams of a device share one time base; within a connection it then advances by the
samples received plus the samples missing between frames, measured from the timestamps
with a running estimate of the true sample period (so a rate a little off nominal never
shows as a gap). PMD time is the device's local time, which steps (daylight saving time, a
phone's time sync): a timestamp that goes back, or leaps further ahead than
:data:`MAX_MISSING_S`, continues the count without a gap, and the session, which sees the
arrival times, tells a step of the device clock from a bad stamp
(``monitor.collect.timebase``). Each packet also carries the device time of its first sample
(:attr:`devices.base.Packet.device_time_ns`, from the frame's timestamp): streams sit at
their own phase on the device clock, which a whole-sample counter cannot express. The
session's clock fit (``monitor.collect.clock``) maps that device time to UTC.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from devices.base import Channel, GattClient, Packet, Payload
from devices.polar.decoder import PmdFrame, TimestampOutOfRangeError, decode_frame
from devices.polar.pmd import (
    BATTERY_LEVEL_UUID,
    CONTROL_POINT_UUID,
    DATA_UUID,
    DEVICE_STOPPED_CODE,
    HEART_RATE_SERVICE_UUID,
    LOCAL_NAME_PREFIX,
    MEASUREMENT_TYPE_MASK,
    PMD_TIME_MAX_NS,
    POLAR_SERVICE_UUID,
    RESPONSE_CODE,
    SERVICE_UUID,
    DecodeError,
    MeasurementType,
    Opcode,
    PolarCommandError,
    PolarDeviceError,
    PolarResponseError,
    Response,
    ResponseStatus,
    Settings,
    SettingType,
    get_settings_command,
    parse_features,
    parse_response,
    parse_settings,
    start_command,
    stop_command,
)
from devices.polar.psftp import (
    NS_PER_MS,
    PFTP_QUERY_GET_LOCAL_TIME,
    PSFTP_MTU_UUID,
    RFC76_STATUS_ERROR_OR_RESPONSE,
    RFC76_STATUS_LAST,
    ClockDecodeError,
    PsFtpError,
    decode_local_time_ns,
    parse_rfc76_frame,
    rfc76_query_frames,
)
from monitor.types import NS_PER_S, SensorKind

logger = logging.getLogger(__name__)

RESPONSE_TIMEOUT_S = 5.0  # the SDK waits 30 s; a live sensor answers within a connection interval or two
# A counter range no device time can reach: 2**40 samples at 200 Hz is 174 years, so a
# clock reset (an H10 back to 2019 after a power-off) is far more than half the range behind
# and the session sees a reboot, not a run of duplicates.
COUNTER_MODULUS = 1 << 40
PERIOD_SMOOTHING = 0.05  # weight of one frame in the running estimate of the true sample period
MAX_RESTARTS = 20  # per connection: a device that keeps stopping a stream is left alone
PERIOD_TOLERANCE = 0.05  # frames further than 5 % off the nominal period never update it
# Within one connection frames are lost only while the sensor's queue overflows or a stream
# it stopped is started again (seconds); a stamp further ahead than this is a step of the
# device clock or a bad stamp, not a minute of lost frames, so it counts no missing samples.
MAX_MISSING_S = 60.0
# A clock read (PS-FTP GET_LOCAL_TIME) answers within a connection interval or two; one that
# does not means the link is going, and the session then stops reading the clock.
CLOCK_READ_TIMEOUT_S = 2.0
ATT_WRITE_OVERHEAD_BYTES = 3  # ATT opcode + handle
# The device truncates its time to the ms: the time it latched lies up to 1 ms (of device
# time) after the value it returns. A read waits this long after the session's send stamp
# before it writes the query, so the value's own instant still falls within the session's
# window (1 ms, plus 10 µs for a device clock up to 0.9 % slow; see read_device_clock_ns).
CLOCK_QUANTUM_WAIT_NS = NS_PER_MS + 10_000

# What to start, in order, and the preferred value of each setting (see the module docstring).
WANTED: dict[MeasurementType, dict[SettingType, int]] = {
    MeasurementType.ACC: {SettingType.SAMPLE_RATE: 200, SettingType.RANGE: 8, SettingType.RESOLUTION: 16},
    MeasurementType.GYRO: {SettingType.SAMPLE_RATE: 200, SettingType.RANGE: 2000, SettingType.RESOLUTION: 16},
    MeasurementType.ECG: {SettingType.SAMPLE_RATE: 130, SettingType.RESOLUTION: 14},
}
STREAM_KEYS: dict[MeasurementType, str] = {
    MeasurementType.ACC: "acc",
    MeasurementType.GYRO: "gyr",
    MeasurementType.ECG: "ecg",
}
CHANNELS: dict[MeasurementType, tuple[Channel, ...]] = {
    MeasurementType.ACC: (Channel("acc", SensorKind.ACC, slice(None)),),
    MeasurementType.GYRO: (Channel("gyr", SensorKind.GYR, slice(None)),),
    MeasurementType.ECG: (Channel("ecg", SensorKind.ECG, slice(None)),),
}
_DATA_UUID = DATA_UUID.lower()


def choose(offered: Settings, preferred: dict[SettingType, int]) -> dict[SettingType, int]:
    """One value per offered setting: the preferred one, else the largest below it, else the smallest.

    Settings without a preference (CHANNELS, RANGE_MILLIUNIT) take the largest offered value.

    Examples
    --------
    >>> offered = Settings({SettingType.SAMPLE_RATE: (25, 50, 100, 200), SettingType.RANGE: (2, 4, 8)})
    >>> choose(offered, {SettingType.SAMPLE_RATE: 130, SettingType.RANGE: 8})
    {<SettingType.SAMPLE_RATE: 0>: 100, <SettingType.RANGE: 2>: 8}
    """
    selected: dict[SettingType, int] = {}
    for kind, values in offered.values.items():
        if kind is SettingType.FACTOR or not values:
            continue
        want = preferred.get(kind)
        if want is None:
            selected[kind] = max(values)
        elif want in values:
            selected[kind] = want
        else:
            below = [v for v in values if v < want]
            selected[kind] = max(below) if below else min(values)
    return selected


@dataclass
class _StreamState:
    """What the decoder keeps between frames of one measurement."""

    rate_hz: float
    factor: float | None
    period_ns: float  # running estimate of the true sample period, device ns
    last_timestamp_ns: int | None = None
    next_counter: int = 0


class PolarStreamDecoder:
    """Adapts :func:`decode_frame` to the session: negotiated settings plus sample counters.

    Parameters
    ----------
    started : dict of MeasurementType to (rate_hz, factor)
        Each started measurement's sample rate (Hz) and FACTOR (None when not given).
    """

    def __init__(self, started: dict[MeasurementType, tuple[float, float | None]]) -> None:
        self._streams = {
            kind: _StreamState(rate_hz, factor, NS_PER_S / rate_hz)
            for kind, (rate_hz, factor) in started.items()
        }

    @property
    def rates_hz(self) -> dict[MeasurementType, float]:
        return {kind: state.rate_hz for kind, state in self._streams.items()}

    def decode(self, uuid: str, payload: Payload) -> Sequence[Packet]:
        """One Packet per PMD data frame; raises a :class:`devices.polar.profile.DecodeError`."""
        if uuid.lower() != _DATA_UUID:
            return ()
        frame = decode_frame(payload, self._factor(payload))
        state = self._streams.get(frame.measurement)
        if state is None:  # a type we did not start (another app's stream): counted as malformed
            raise UnexpectedStreamError(f"PMD {frame.measurement.name} frame, but it was not started")
        first_ns = frame.timestamp_ns - round((frame.n_samples - 1) * state.period_ns)
        if not 0 <= first_ns <= frame.timestamp_ns < PMD_TIME_MAX_NS:  # 0 or 2**64-1: unset, or corrupt
            raise TimestampOutOfRangeError(
                f"PMD timestamp {frame.timestamp_ns} ns puts {frame.n_samples} samples outside 2000-2099"
            )
        counter = self._counter(state, frame)
        return (
            Packet(
                STREAM_KEYS[frame.measurement],
                state.rate_hz,
                frame.samples,
                CHANNELS[frame.measurement],
                counter=counter % COUNTER_MODULUS,
                counter_modulus=COUNTER_MODULUS,
                # Streams sit at their own phase on the device clock; counter / rate would
                # round it to a whole sample (up to 9.6 ms at 52 Hz).
                device_time_ns=first_ns,
            ),
        )

    def _factor(self, payload: Payload) -> float | None:
        """FACTOR of the frame's measurement, looked up before decoding (it scales the samples)."""
        if len(payload) == 0 or payload[0] & MEASUREMENT_TYPE_MASK not in _KINDS:
            return None
        state = self._streams.get(MeasurementType(payload[0] & MEASUREMENT_TYPE_MASK))
        return None if state is None else state.factor

    @staticmethod
    def _counter(state: _StreamState, frame: PmdFrame) -> int:
        """Device sample counter of the frame's first sample (see the module docstring)."""
        n = frame.n_samples
        nominal_ns = NS_PER_S / state.rate_hz
        elapsed_ns = 0 if state.last_timestamp_ns is None else frame.timestamp_ns - state.last_timestamp_ns
        if state.last_timestamp_ns is None:  # first frame of the connection: anchor on its time
            counter = round((frame.timestamp_ns - (n - 1) * state.period_ns) / nominal_ns)
        elif not 0 < elapsed_ns <= MAX_MISSING_S * NS_PER_S + n * state.period_ns:
            # The device clock went back or leapt ahead (its local time was set, or one stamp
            # is bad): the samples themselves follow on; the session judges the time.
            counter = state.next_counter
        else:
            missing = max(0, round(elapsed_ns / state.period_ns - n))
            counter = state.next_counter + missing
            if missing == 0:
                period_ns = elapsed_ns / n
                if abs(period_ns - nominal_ns) < PERIOD_TOLERANCE * nominal_ns:
                    state.period_ns += PERIOD_SMOOTHING * (period_ns - state.period_ns)
        state.last_timestamp_ns = frame.timestamp_ns
        state.next_counter = counter + n
        return counter


class UnexpectedStreamError(DecodeError):
    """A data frame of a measurement type this session did not start."""


_KINDS = {int(k) for k in MeasurementType}


class PolarProfile:
    """Polar sensors speaking PMD: H10 chest strap (ACC + ECG), Verity Sense (ACC + GYRO).

    Also a :class:`devices.base.ClockReader`: :meth:`read_device_clock_ns` asks the device
    its time over PS-FTP (``GET_LOCAL_TIME``), the clock that stamps PMD frames.
    """

    name = "polar"
    service_uuid = SERVICE_UUID
    stream_uuids = (DATA_UUID,)
    battery_uuid: str | None = BATTERY_LEVEL_UUID

    def __init__(self) -> None:
        # One PS-FTP answer channel per connected client (a new client on each connection).
        self._psftp: weakref.WeakKeyDictionary[GattClient, _PsFtpAnswers] = weakref.WeakKeyDictionary()

    def recognises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """The SDK's name rule (``"Polar <model> <id>"``); without a name, the PMD service, or
        Polar's 0xFEEE beside Heart Rate (what the sensors list in their advertisements)."""
        if local_name is not None:
            words = local_name.strip().split(" ")
            if words[0] == LOCAL_NAME_PREFIX and len(words) > 2:
                return True
        services = {u.lower() for u in service_uuids}
        return SERVICE_UUID in services or {POLAR_SERVICE_UUID, HEART_RATE_SERVICE_UUID} <= services

    async def start(self, client: GattClient) -> PolarStreamDecoder:
        """Start ACC (+GYRO, +ECG where offered); returns the decoder for what was negotiated."""
        control = _ControlPoint(client)
        await client.start_notify(CONTROL_POINT_UUID, control.on_indication)
        offered = parse_features(await client.read_gatt_char(CONTROL_POINT_UUID))
        if MeasurementType.ACC not in offered:
            raise PolarResponseError("this Polar device offers no ACC stream over PMD")
        started: dict[MeasurementType, tuple[float, float | None]] = {}
        for kind, preferred in WANTED.items():
            if kind not in offered:
                continue
            settings = parse_settings((await control.command(get_settings_command(kind))).parameters)
            selected = choose(settings, preferred)
            if SettingType.SAMPLE_RATE not in selected:
                raise PolarResponseError(f"Polar {kind.name} settings offer no sample rate")
            response = await control.command(start_command(kind, selected), allow_already=True)
            if response.status == ResponseStatus.ERROR_ALREADY_IN_STATE:
                await control.command(stop_command(kind))
                response = await control.command(start_command(kind, selected))
            factor = parse_settings(response.parameters).factor
            started[kind] = (float(selected[SettingType.SAMPLE_RATE]), factor)
            control.start_commands[kind] = start_command(kind, selected)
        return PolarStreamDecoder(started)

    async def read_device_clock_ns(self, client: GattClient) -> int:
        """One PS-FTP ``GET_LOCAL_TIME`` query: device time, ns on the PMD time base (since
        2000-01-01 of the device's local time), as the device truncated it to the ms.

        The query is written to the PS-FTP MTU characteristic (without response, as the
        SDK does) and the answer awaited as its notifications, so the session's timing of
        this call spans both. The device latches its time ``t`` between the query's arrival
        and its answer, but returns ``floor(t)`` to the ms: ``floor(t)`` itself happened up
        to 1 ms before ``t``, possibly before the query was sent. So the query is written
        only :data:`CLOCK_QUANTUM_WAIT_NS` after this call began: ``floor(t)`` then still
        falls after the session's send stamp and (being at most ``t``) before its receive
        stamp, and the round-trip bounds hold as they are. The wait widens each exchange by
        1 ms, but the bursts' intersected bounds recover most of it: reads that land just
        before a ms tick bound the offset tightly from below, reads just after one from above.

        Raises
        ------
        ClockDecodeError
            A malformed answer (the session skips the read).
        PsFtpError, CoarseClockError, PolarResponseError
            The device has no such query, gives whole seconds only, or did not answer
            within :data:`CLOCK_READ_TIMEOUT_S`: the session keeps the fit of arrivals.
        """
        entered_ns = time.time_ns()
        answers = self._psftp.get(client)
        if answers is None:
            answers = _PsFtpAnswers()
            await client.start_notify(PSFTP_MTU_UUID, answers.on_notification)
            self._psftp[client] = answers
        answers.clear()
        while (remaining_ns := entered_ns + CLOCK_QUANTUM_WAIT_NS - time.time_ns()) > 0:
            await asyncio.sleep(remaining_ns / NS_PER_S)
        max_frame = max(ATT_WRITE_OVERHEAD_BYTES + 1, client.mtu_size - ATT_WRITE_OVERHEAD_BYTES)
        for frame in rfc76_query_frames(PFTP_QUERY_GET_LOCAL_TIME, max_frame_bytes=max_frame):
            await client.write_gatt_char(PSFTP_MTU_UUID, frame, response=False)
        return decode_local_time_ns(await answers.message(CLOCK_READ_TIMEOUT_S))

    async def stop(self, client: GattClient) -> None:
        """STOP every stream this profile starts (best effort; no response awaited)."""
        for kind in WANTED:
            await client.write_gatt_char(CONTROL_POINT_UUID, stop_command(kind), response=True)


class _PsFtpAnswers:
    """RFC76 frames notified on the PS-FTP MTU characteristic, joined into messages."""

    def __init__(self) -> None:
        self._frames: asyncio.Queue[bytes] = asyncio.Queue()

    def on_notification(self, _characteristic: object, data: bytearray) -> None:
        # Called from the stack's event handling: never block.
        self._frames.put_nowait(bytes(data))

    def clear(self) -> None:
        """Forget frames of an earlier answer (one that came after its read gave up)."""
        while not self._frames.empty():
            self._frames.get_nowait()

    async def message(self, timeout_s: float) -> bytes:
        """The next answer's payload (SDK ``suspendReadResponse``); raises on an error code."""
        payload = bytearray()
        index = 0
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    frame = parse_rfc76_frame(await self._frames.get())
                    if frame.sequence != index % 16 or frame.next != (index > 0):
                        raise ClockDecodeError(f"PS-FTP frame {frame.sequence} out of sequence at {index}")
                    index += 1
                    if frame.status == RFC76_STATUS_ERROR_OR_RESPONSE:
                        if frame.error:
                            raise PsFtpError(frame.error)
                        return bytes(payload)
                    payload += frame.payload
                    if frame.status == RFC76_STATUS_LAST:
                        return bytes(payload)
        except TimeoutError:
            raise PolarResponseError(f"no answer to PS-FTP GET_LOCAL_TIME within {timeout_s} s") from None


class _ControlPoint:
    """Sends control point commands and waits for their indicated responses.

    It also answers the device's own ``ONLINE_MEASUREMENT_STOPPED`` (0x01 + types): the
    link stays up but the stream went quiet, so it sends that stream's START again (at most
    :data:`MAX_RESTARTS` times per connection); the samples missed show as a gap.
    """

    def __init__(self, client: GattClient) -> None:
        self._client = client
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()
        self.start_commands: dict[int, bytes] = {}  # measurement type → its START, once started
        self.restarts = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def on_indication(self, _characteristic: object, data: bytearray) -> None:
        # Called from the stack's event handling: never block.
        if data and data[0] == RESPONSE_CODE:
            self._responses.put_nowait(bytes(data))
        elif data and data[0] == DEVICE_STOPPED_CODE:
            for kind in data[1:]:
                command = self.start_commands.get(kind & MEASUREMENT_TYPE_MASK)
                if command is not None and self.restarts < MAX_RESTARTS:
                    self.restarts += 1
                    task = asyncio.ensure_future(self._restart(command))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _restart(self, command: bytes) -> None:
        try:
            await self.command(command, allow_already=True)
        except PolarDeviceError as error:  # the session sees the silence; a reconnect retries
            logger.warning("Polar stream %s stopped by the device, restart refused: %s", command[1], error)

    async def command(self, payload: bytes, *, allow_already: bool = False) -> Response:
        """Write ``payload`` and return its (joined) response; raise on an error status."""
        while not self._responses.empty():  # a late answer to an earlier, timed-out command
            self._responses.get_nowait()
        await self._client.write_gatt_char(CONTROL_POINT_UUID, payload, response=True)
        first = await self._receive(payload[0])
        parameters, part = first.parameters, first
        while part.more:
            part = await self._receive(payload[0])
            parameters += part.parameters
        result = Response(first.opcode, first.measurement, first.status, False, parameters)
        if result.ok or (allow_already and result.status == ResponseStatus.ERROR_ALREADY_IN_STATE):
            return result
        raise PolarCommandError(payload[0], payload[1] if len(payload) > 1 else 0, result.status)

    async def _receive(self, opcode: int) -> Response:
        while True:
            try:
                data = await asyncio.wait_for(self._responses.get(), RESPONSE_TIMEOUT_S)
            except TimeoutError:
                raise PolarResponseError(
                    f"no answer to PMD {Opcode(opcode).name} within {RESPONSE_TIMEOUT_S} s"
                ) from None
            response = parse_response(data)
            if response.opcode == opcode:  # the SDK skips responses to other commands too
                return response


PROFILE = PolarProfile()
