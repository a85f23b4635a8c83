"""The reference wearable as a :class:`devices.base.DeviceProfile`: handshake and stream decoder."""

from __future__ import annotations

from collections.abc import Sequence

from devices.base import Channel, GattClient, Packet, Payload, RateLimit
from devices.reference import decoder
from devices.reference.protocol import (
    ATT_MTU_ASSUMED,
    ATT_NOTIFY_OVERHEAD_BYTES,
    BATTERY_UUID,
    CLOCK_UUID,
    CONTROL_UUID,
    COUNTER_MODULUS,
    EMG_UUID,
    IMU_UUID,
    INFO_UUID,
    SEQ_MODULUS,
    SERVICE_UUID,
    STREAM_MASK_EMG,
    STREAM_MASK_IMU,
    Command,
    DeviceInfo,
    StreamType,
    command,
)
from monitor.types import SensorKind

_ALL_COLUMNS = slice(None)
CHANNELS: dict[StreamType, tuple[Channel, ...]] = {
    StreamType.EMG: (Channel("emg", SensorKind.EMG, _ALL_COLUMNS),),
    StreamType.IMU: (
        Channel("acc", SensorKind.ACC, slice(0, 3)),
        Channel("gyr", SensorKind.GYR, slice(3, 6)),
    ),
    StreamType.ACC: (Channel("acc", SensorKind.ACC, _ALL_COLUMNS),),
    StreamType.GYR: (Channel("gyr", SensorKind.GYR, _ALL_COLUMNS),),
}


class ReferenceStreamDecoder:
    """Stateless: every reference packet carries its own header (docs/protocol.md §2).

    ``rate_limits`` lists the streams the handshake found slowed down by a small MTU;
    ``boot_id`` is the wearable's boot identifier (docs/protocol.md §4), None without one.
    """

    def __init__(self, rate_limits: Sequence[RateLimit] = (), boot_id: int | None = None) -> None:
        self.rate_limits = tuple(rate_limits)
        self.boot_id = boot_id

    def decode(self, uuid: str, payload: Payload) -> Sequence[Packet]:
        packet = decoder.decode(payload)
        # ACC and GYR packets (the MTU-23 fallback) count their own seq and share the IMU
        # sample counter (docs/protocol.md §7), so each is tracked as a stream of its own.
        stream = "emg" if packet.stream is StreamType.EMG else packet.stream.name.lower()
        return (
            Packet(
                stream,
                packet.sample_rate_hz,
                packet.samples,
                CHANNELS[packet.stream],
                seq=packet.seq,
                seq_modulus=SEQ_MODULUS,
                counter=packet.counter,
                counter_modulus=COUNTER_MODULUS,
            ),
        )


class ReferenceProfile:
    """The reference open wearable (docs/protocol.md); a :class:`devices.base.ClockReader`."""

    name = "reference"
    service_uuid = SERVICE_UUID
    stream_uuids = (EMG_UUID, IMU_UUID)
    battery_uuid: str | None = BATTERY_UUID

    def recognises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        return SERVICE_UUID in (u.lower() for u in service_uuids)

    async def start(self, client: GattClient) -> ReferenceStreamDecoder:
        """Tell the wearable our payload limit, then start both streams (docs/protocol.md §5).

        Below ATT MTU 247 the wearable may lower its rates (§7), and a user must hear of it:
        the device information is read at the full payload limit (its default rates) and at
        this link's, and the streams that slowed down become the decoder's ``rate_limits``.
        """
        max_payload = client.mtu_size - ATT_NOTIFY_OVERHEAD_BYTES
        limits: list[RateLimit] = []
        if client.mtu_size < ATT_MTU_ASSUMED:
            limits = await self._rate_limits(client, max_payload)
        else:
            await client.write_gatt_char(
                CONTROL_UUID, command(Command.SET_MAX_PAYLOAD, max_payload), response=True
            )
        # Read at every connection: a new boot identifier says the counters restarted (§4).
        boot_id = await self._boot_id(client)
        start = command(Command.START, STREAM_MASK_EMG | STREAM_MASK_IMU)
        await client.write_gatt_char(CONTROL_UUID, start, response=True)
        return ReferenceStreamDecoder(limits, boot_id)

    async def _boot_id(self, client: GattClient) -> int | None:
        """The boot identifier in the device information, None if the firmware has none."""
        try:
            return DeviceInfo.from_bytes(bytes(await client.read_gatt_char(INFO_UUID))).boot_id
        except ValueError:  # another info layout: the session falls back on the counters alone
            return None

    async def _rate_limits(self, client: GattClient, max_payload: int) -> list[RateLimit]:
        """Set the payload limit to ``max_payload``; the streams it slowed down (§4, §7)."""
        full = command(Command.SET_MAX_PAYLOAD, ATT_MTU_ASSUMED - ATT_NOTIFY_OVERHEAD_BYTES)
        await client.write_gatt_char(CONTROL_UUID, full, response=True)  # no stream runs yet
        try:
            default = DeviceInfo.from_bytes(bytes(await client.read_gatt_char(INFO_UUID)))
        except (ValueError, KeyError):  # firmware with another info layout: nothing to compare
            default = None
        await client.write_gatt_char(
            CONTROL_UUID, command(Command.SET_MAX_PAYLOAD, max_payload), response=True
        )
        if default is None:
            return []
        try:
            now = DeviceInfo.from_bytes(bytes(await client.read_gatt_char(INFO_UUID)))
            rates = {
                "emg": (default.emg_rate_hz, now.emg_rate_hz),
                "imu": (default.imu_rate_hz, now.imu_rate_hz),
            }
        except (ValueError, KeyError):  # an unknown rate code
            return []
        return [RateLimit(name, full_hz, hz) for name, (full_hz, hz) in rates.items() if hz < full_hz]

    async def read_device_clock_ns(self, client: GattClient) -> int:
        """Read the clock characteristic (docs/protocol.md §6.2): device time, ns since boot."""
        return decoder.decode_device_clock_ns(await client.read_gatt_char(CLOCK_UUID))

    async def stop(self, client: GattClient) -> None:
        await client.write_gatt_char(CONTROL_UUID, command(Command.STOP, 0xFF), response=True)


PROFILE = ReferenceProfile()
