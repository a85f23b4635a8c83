"""The bumble radio: bleak backends on bumble's stack, for USB HCI dongles and the emulation hub.

bleak 3.x takes custom backend classes through ``backend=``, so the collector keeps using
bleak's public API unchanged while the radio is bumble: a USB HCI dongle (``usb:0``), where
the platform has no usable stack, or a virtual controller of the emulation hub
(``tcp-client:127.0.0.1:PORT``). ``BleakScanner(backend=BumbleScanner)`` and
``BleakClient(backend=BumbleClient)`` take the bumble transport as ``bumble_transport=``
(bleak forwards unknown keyword arguments to the backend); :class:`BumbleBackend` gives the
collector both, as the ``bumble`` entry of :mod:`monitor.collect.backends`.

One bumble host serves every scanner and client of a transport in a process and event loop,
as one adapter serves every BleakClient on a real gateway. :func:`close_hosts` releases them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address
from bumble.transport import open_transport
from bumble.transport.common import Transport

from monitor.collect.mtu import DEFAULT_MTU_BYTES

GATEWAY_ADDRESS = "C0:FF:EE:00:00:01"  # static random address of the gateway host

_T = TypeVar("_T")


async def _att_transaction(request: Awaitable[_T]) -> _T:
    """Await one ATT request; a caller that stops waiting does not cancel it in the stack.

    A request once sent gets its response (ATT allows one outstanding request per bearer), as
    in an OS stack behind bleak. Cancelling bumble's wait instead races the response: it
    arrives for a cancelled future (``InvalidStateError`` inside bumble's packet handler) or
    is taken for the next request's.
    """
    transaction = asyncio.ensure_future(request)
    # Retrieved here, so a failure after the caller left is not reported as never retrieved.
    transaction.add_done_callback(lambda done: done.cancelled() or done.exception())
    return await asyncio.shield(transaction)


class BumbleHost:
    """The bumble host (one ``Device``) behind every scanner and client of one transport."""

    _hosts: ClassVar[dict[tuple[str, int], BumbleHost]] = {}
    _opening: ClassVar[dict[tuple[str, int], asyncio.Lock]] = {}

    def __init__(self, transport: Transport, device: Device) -> None:
        self.transport = transport
        self.device = device
        self.connect_lock = asyncio.Lock()  # bumble allows one pending LE connection at a time
        self.scanners = 0
        self.scan_lock = asyncio.Lock()  # start/stop decisions must see each other's effect

    @classmethod
    async def get(cls, spec: str) -> BumbleHost:
        """The host for transport ``spec`` in the running event loop, opened on first use."""
        key = (spec, id(asyncio.get_running_loop()))
        # Sessions start together: without the lock each would open (and reset) the same controller.
        async with cls._opening.setdefault(key, asyncio.Lock()):
            host = cls._hosts.get(key)
            if host is None:
                transport = await open_transport(spec)
                device = Device.with_hci(
                    "spasm-monitor", Address(GATEWAY_ADDRESS), transport.source, transport.sink
                )
                await device.power_on()
                host = cls._hosts[key] = BumbleHost(transport, device)
        return host

    async def start_scanning(self) -> None:
        async with self.scan_lock:
            self.scanners += 1
            if not self.device.is_scanning:
                await asyncio.shield(self.device.start_scanning(filter_duplicates=False))

    async def stop_scanning(self) -> None:
        async with self.scan_lock:
            self.scanners = max(0, self.scanners - 1)
            if self.scanners == 0 and self.device.is_scanning:
                await asyncio.shield(self.device.stop_scanning())


async def close_hosts() -> None:
    """Close every bumble host opened in the running event loop."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in BumbleHost._hosts if k[1] == loop_id]:
        host = BumbleHost._hosts.pop(key)
        BumbleHost._opening.pop(key, None)
        await host.transport.close()


_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
)


def _uuid128(value: UUID) -> str:
    """bleak's 128-bit lower-case form (``str()`` of a 16-bit bumble UUID is not a UUID)."""
    return str(uuid.UUID(bytes=value.to_bytes(force_128=True)[::-1]))


def _address(address: Address) -> str:
    return address.to_string(with_type_qualifier=False)


class BumbleScanner(BaseBleakScanner):
    """Scanner backend: reports advertisements heard by the bumble host."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str,
        *,
        bluez: Any,
        cb: Any,
        bumble_transport: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._spec = bumble_transport
        self._host: BumbleHost | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._host = await BumbleHost.get(self._spec)
        self._host.device.on("advertisement", self._on_advertisement)
        await self._host.start_scanning()

    async def stop(self) -> None:
        if self._host is not None:
            self._host.device.remove_listener("advertisement", self._on_advertisement)
            await self._host.stop_scanning()
            self._host = None

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        data = advertisement.data
        entries = [entry for kind in _UUID_LISTS for entry in data.get_all(kind) if isinstance(entry, list)]
        uuids = list(
            dict.fromkeys(_uuid128(u) for entry in entries for u in entry)
        )  # bumble may repeat a list
        if not self.is_allowed_uuid(uuids):
            return
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
        local_name = name if isinstance(name, str) else None
        adv = AdvertisementData(local_name, {}, {}, uuids, None, advertisement.rssi, (advertisement,))
        address = _address(advertisement.address)
        device = self.create_or_update_device(address, address, local_name, advertisement, adv)
        self.call_detection_callbacks(device, adv)


class BumbleClient(BaseBleakClient):
    """Client backend: one LE connection of the bumble host, its GATT client as bleak objects."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        bumble_transport: str,
        mtu: int = DEFAULT_MTU_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._spec = bumble_transport
        self._mtu = mtu
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            raise BleakError("Not connected")
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        host = await BumbleHost.get(self._spec)
        async with host.connect_lock:
            target = Address(self.address, Address.RANDOM_DEVICE_ADDRESS)
            connection = await host.device.connect(target, timeout=self._timeout)
        self._connection = connection
        self._closing = False
        connection.on("disconnection", self._on_disconnection)
        try:
            self._peer = Peer(connection)
            await self._peer.request_mtu(self._mtu)
            self.services = await self._discover()
        except BaseException:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        try:
            await connection.disconnect()
        except Exception:  # already gone: the link dropped while we were closing it
            self._on_disconnection(0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("no supported profile needs pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("no supported profile needs pairing")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await _att_transaction(characteristic.obj.read_value()))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await _att_transaction(descriptor.obj.read_value()))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        await _att_transaction(characteristic.obj.write_value(bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        await _att_transaction(descriptor.obj.write_value(bytes(data), with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        # bumble calls the subscriber synchronously from the host's packet handler, as the OS
        # backends call bleak's: the callback must not block.
        await characteristic.obj.subscribe(lambda value: callback(bytearray(value)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await characteristic.obj.unsubscribe(force=True)

    def _on_disconnection(self, _reason: int) -> None:
        if self._connection is None:
            return
        self._connection = None
        self._peer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _discover(self) -> BleakGATTServiceCollection:
        assert self._peer is not None
        collection = BleakGATTServiceCollection()
        for service in await self._peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, _uuid128(service.uuid))
            collection.add_service(bleak_service)
            for characteristic in await service.discover_characteristics():
                properties: list[CharacteristicPropertyName] = [
                    name for bit, name in CHARACTERISTIC_PROPERTIES.items() if characteristic.properties & bit
                ]
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    _uuid128(characteristic.uuid),
                    properties,
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                for descriptor in await characteristic.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, _uuid128(descriptor.type), bleak_characteristic
                        )
                    )
        return collection


class BumbleBackend:
    """The ``bumble`` radio of :mod:`monitor.collect.backends`: these classes on a transport."""

    def scanner_kwargs(self, transport: str | None) -> dict[str, Any]:
        return {"backend": BumbleScanner, "bumble_transport": transport}

    def client_kwargs(self, transport: str | None, mtu_bytes: int) -> dict[str, Any]:
        return {"backend": BumbleClient, "bumble_transport": transport, "mtu": mtu_bytes}

    async def close(self) -> None:
        await close_hosts()
