"""The bumble-backed bleak backend, used through bleak's public API only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from devices.reference import CONTROL_UUID, EMG_UUID, INFO_UUID, SERVICE_UUID, decode
from devices.reference.protocol import Command, DeviceInfo, StreamType, command
from emulators.process import Emulated, start_emulated, wearable_address
from monitor.collect.backends.bumble import BumbleClient, BumbleScanner, close_hosts


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[Emulated]:
    started = start_emulated(2, tmp_path)
    yield started
    started.stop()


async def test_scan_connect_read_write_and_notify_through_bleak(emulated: Emulated) -> None:
    spec = emulated.collector_transport
    seen: dict[str, AdvertisementData] = {}
    both = {wearable_address(1), wearable_address(2)}
    heard_both = asyncio.Event()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        seen[device.address] = adv
        if set(seen) >= both:
            heard_both.set()

    try:
        async with BleakScanner(
            on_advertisement, [SERVICE_UUID], backend=BumbleScanner, bumble_transport=spec
        ):
            await asyncio.wait_for(heard_both.wait(), 10.0)  # each advertises every 50 ms
        assert set(seen) == both
        adv = seen[wearable_address(1)]
        assert adv.local_name == "SMREF-01"
        assert adv.service_uuids == [SERVICE_UUID]

        packets: asyncio.Queue[bytearray] = asyncio.Queue()

        def on_emg(_characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
            packets.put_nowait(data)

        client = BleakClient(wearable_address(1), backend=BumbleClient, bumble_transport=spec, timeout=10.0)
        await asyncio.wait_for(client.connect(), 15.0)
        try:
            assert client.mtu_size == 247
            service = client.services.get_service(SERVICE_UUID)
            assert service is not None
            assert "notify" in service.get_characteristic(EMG_UUID).properties  # type: ignore[union-attr]
            info = DeviceInfo.from_bytes(bytes(await asyncio.wait_for(client.read_gatt_char(INFO_UUID), 5.0)))
            assert (info.emg_channels, info.emg_rate_hz, info.imu_rate_hz) == (4, 1000.0, 100.0)
            await asyncio.wait_for(client.start_notify(EMG_UUID, on_emg), 5.0)
            await asyncio.wait_for(client.write_gatt_char(CONTROL_UUID, command(Command.START, 1), True), 5.0)
            first = decode(await asyncio.wait_for(packets.get(), 5.0))
            second = decode(await asyncio.wait_for(packets.get(), 5.0))
            assert first.stream is StreamType.EMG
            assert (second.seq - first.seq, second.counter - first.counter) == (1, 25)
        finally:
            await asyncio.wait_for(client.disconnect(), 5.0)
        assert not client.is_connected
    finally:
        await close_hosts()


async def test_a_request_its_caller_abandons_still_completes_in_the_stack(
    emulated: Emulated, caplog: pytest.LogCaptureFixture
) -> None:
    """A shutdown that stops waiting for a read must not leave the ATT bearer out of step.

    The request is on the air once sent: its response must end that transaction, not arrive
    for a cancelled wait (an error inside bumble's packet handler) or for the next request.
    """
    spec = emulated.collector_transport
    client = BleakClient(wearable_address(1), backend=BumbleClient, bumble_transport=spec, timeout=10.0)
    try:
        await asyncio.wait_for(client.connect(), 15.0)
        for attempt in range(40):
            abandoned = asyncio.create_task(client.read_gatt_char(INFO_UUID))
            await asyncio.sleep(attempt * 50e-6)  # cancel before, as and after the response arrives
            abandoned.cancel()
            await asyncio.gather(abandoned, return_exceptions=True)
            info = DeviceInfo.from_bytes(bytes(await asyncio.wait_for(client.read_gatt_char(INFO_UUID), 5.0)))
            assert info.emg_channels == 4
        await asyncio.wait_for(client.disconnect(), 5.0)
    finally:
        await close_hosts()
    bumble_complaints = [r for r in caplog.records if r.name.startswith("bumble") and r.levelname != "DEBUG"]
    assert not bumble_complaints, [r.getMessage() for r in bumble_complaints]
