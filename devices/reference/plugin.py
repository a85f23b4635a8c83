"""The reference wearable as a :class:`devices.base.DeviceProfile`: handshake and stream decoder."""

from __future__ import annotations

from collections.abc import Sequence

from devices.base import Channel, GattClient, Packet, Payload
from devices.reference import decoder
from devices.reference.profile import (
    ATT_NOTIFY_OVERHEAD_BYTES,
    BATTERY_UUID,
    CLOCK_UUID,
    CONTROL_UUID,
    COUNTER_MODULUS,
    EMG_UUID,
    IMU_UUID,
    SEQ_MODULUS,
    SERVICE_UUID,
    STREAM_MASK_EMG,
    STREAM_MASK_IMU,
    Command,
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
    """Stateless: every reference packet carries its own header (docs/protocol.md §2)."""

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
        """Tell the wearable our payload limit, then start both streams (docs/protocol.md §5)."""
        max_payload = client.mtu_size - ATT_NOTIFY_OVERHEAD_BYTES
        limit = command(Command.SET_MAX_PAYLOAD, max_payload)
        await client.write_gatt_char(CONTROL_UUID, limit, response=True)
        start = command(Command.START, STREAM_MASK_EMG | STREAM_MASK_IMU)
        await client.write_gatt_char(CONTROL_UUID, start, response=True)
        return ReferenceStreamDecoder()

    async def read_device_clock_ns(self, client: GattClient) -> int:
        """Read the clock characteristic (docs/protocol.md §6.2): device time, ns since boot."""
        return decoder.decode_device_clock_ns(await client.read_gatt_char(CLOCK_UUID))

    async def stop(self, client: GattClient) -> None:
        await client.write_gatt_char(CONTROL_UUID, command(Command.STOP, 0xFF), response=True)


PROFILE = ReferenceProfile()
