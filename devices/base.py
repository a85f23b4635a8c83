"""What every device profile gives the collector: a plugin interface, after Telegraf's.

A profile (one package per wearable kind under ``devices/``) knows bytes and the
handshake that makes a wearable stream; nothing about sessions, reconnects or clocks.
The collector (``monitor.collect.session``) drives any profile through this interface:

1. :meth:`DeviceProfile.start` runs the wearable's own handshake on a connected GATT
   client (settings, start command, subscriptions to its response channel) and returns
   a :class:`StreamDecoder` configured for what was negotiated (rates, ranges).
2. Every notification of a characteristic in :attr:`DeviceProfile.stream_uuids` goes to
   :meth:`StreamDecoder.decode`, which returns :class:`Packet` objects or raises a
   :class:`DecodeError` subclass, never anything else.
3. The session unwraps :attr:`Packet.seq` and :attr:`Packet.counter` to find gaps, maps
   device time to UTC with its fitted clock, and turns packets into Frames.
4. Optionally, a profile whose wearable can tell its clock over GATT also implements
   :class:`ClockReader`; the session then times round trips to it to pin the clock's
   offset (the fit of arrivals alone carries the link's latency floor). Profiles without
   it need no change.

The pure byte-level decoders stay plain functions in each profile's module, fuzzed on
their own; a :class:`StreamDecoder` only adds what a protocol keeps between packets
(negotiated settings, the previous sample of a delta-coded stream).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from monitor.errors import DeviceError
from monitor.types import Frame, SensorKind, StreamId

Payload = bytes | bytearray | memoryview


class DecodeError(DeviceError):
    """A notification is not a valid packet of its profile; it is counted and skipped."""

    default_advice = "the packet was counted and skipped; if this repeats, check the wearable's firmware"


@dataclass(frozen=True, slots=True)
class Channel:
    """How a slice of a packet's sample columns becomes one Frame stream.

    Attributes
    ----------
    sensor : str
        Sensor name in the frame's :class:`~monitor.types.StreamId` (``"emg"``, ``"acc"``).
    kind : SensorKind
        What the columns measure, so their unit.
    columns : slice
        Columns of :attr:`Packet.samples` that belong to it.
    """

    sensor: str
    kind: SensorKind
    columns: slice


@dataclass(frozen=True, slots=True, eq=False)
class Packet:
    """One decoded notification: consecutive samples of one stream, in physical units.

    Attributes
    ----------
    stream : str
        Stream key within the device (``"emg"``, ``"imu"``, ``"acc"``); sequence numbers
        and counters are tracked per key.
    sample_rate_hz : float
        Nominal sample rate, Hz.
    samples : ndarray, shape (n, channels)
        mV for EMG/ECG, g for acc, deg/s for gyr.
    channels : tuple of Channel
        How the columns split into Frames (an IMU packet gives an acc and a gyr Frame).
    seq : int or None
        Wire packet sequence number, or None when the protocol has none.
    seq_modulus : int
        Sequence numbers wrap at this value.
    counter : int or None
        Device sample counter of the first sample, or None when the protocol has none.
        Without one the session derives it from ``seq`` (packets of equal size) or, with
        neither, counts samples as they arrive (gaps then cannot be seen).
    counter_modulus : int
        Counters wrap at this value.
    device_time_ns : int or None
        Device clock time of the first sample, ns, for a protocol that stamps its packets
        instead of counting samples on one grid (Polar PMD: streams of one device sit at
        different phases, which ``counter / rate`` would round to a whole sample). When
        given, the session fits and stamps this time; every stream of the device must give
        it on the same clock. None: ``counter / sample_rate_hz``.
    """

    stream: str
    sample_rate_hz: float
    samples: npt.NDArray[np.float64]
    channels: tuple[Channel, ...]
    seq: int | None = None
    seq_modulus: int = 1 << 16
    counter: int | None = None
    counter_modulus: int = 1 << 32
    device_time_ns: int | None = None

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    def frames(self, device: str, t0_ns: int, seq_first: int, seq_last: int) -> list[Frame]:
        """Frames of this packet, its first sample at UTC ``t0_ns`` (ns)."""
        return [
            Frame(
                StreamId(device, channel.sensor),
                channel.kind,
                self.sample_rate_hz,
                t0_ns,
                seq_first,
                seq_last,
                self.samples[:, channel.columns],
            )
            for channel in self.channels
        ]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A stream the link's MTU made the wearable slow down (reference: docs/protocol.md §7)."""

    stream: str  # the profile's name of the stream, e.g. "emg"
    default_rate_hz: float  # what it sends on a link of the profile's assumed MTU
    rate_hz: float  # what it sends on this link


class StreamDecoder(Protocol):
    """Per-connection decoder: what :meth:`DeviceProfile.start` negotiated, plus delta state.

    A decoder may also carry ``boot_id: int | None``, the wearable's boot identifier read
    during the handshake (the reference wearable's, docs/protocol.md §4): the session takes a
    new value for a reboot (new counts, new clock fit), whatever the counters say; and
    ``rate_limits``, the :class:`RateLimit` of each stream a small MTU slowed down.
    """

    def decode(self, uuid: str, payload: Payload) -> Sequence[Packet]:
        """Packets in one notification of characteristic ``uuid``; raises :class:`DecodeError`."""
        ...


NotifyHandler = Callable[[Any, bytearray], None]


class GattClient(Protocol):
    """The part of ``bleak.BleakClient`` a handshake uses (so profiles need no bleak import)."""

    @property
    def mtu_size(self) -> int: ...

    def write_gatt_char(
        self, char_specifier: str, data: Payload, response: bool = ...
    ) -> Awaitable[None]: ...

    def read_gatt_char(self, char_specifier: str) -> Awaitable[bytearray]: ...

    def start_notify(self, char_specifier: str, callback: NotifyHandler) -> Awaitable[None]: ...


@runtime_checkable
class ClockReader(Protocol):
    """Optional capability of a profile: read the wearable's own clock over GATT.

    The session detects it with ``isinstance(profile, ClockReader)`` and times each call
    (UTC before and after) for a round-trip synchronisation (Cristian 1989, "Probabilistic
    clock synchronization", Distributed Computing 3:146-158): the device time read was
    latched between the two, so the midpoint is off by at most half the round trip.
    """

    async def read_device_clock_ns(self, client: GattClient) -> int:
        """One read of the device clock, in ns, on the time base the session stamps the
        profile's packets with: ``Packet.device_time_ns`` where the protocol stamps its
        packets (Polar PMD: ns since 2000-01-01), else the sample counters' (sample ``k`` of a
        stream at rate ``r`` Hz is at ``k / r`` s; the reference wearable: since boot).

        Raises :class:`DecodeError` on a malformed value, and the client's error when the
        wearable has no clock to read (older firmware): the session then falls back to
        the fit of arrivals.
        """
        ...


class DeviceProfile(Protocol):
    """One kind of wearable, as the collector needs it.

    A profile may also set ``counts_restart_on_connect = True`` when its sample counts (or
    the session's own, for a device that sends none) start anew at each connection: the
    session then restarts its trackers and clock fit on reconnect instead of reading the
    new count as a continuation.

    Attributes
    ----------
    name : str
        Registry key (``profile = "polar"`` in ``config.toml``).
    service_uuid : str
        Primary service it advertises; discovery and the allow-list match on it.
    stream_uuids : tuple of str
        Characteristics whose notifications carry samples.
    battery_uuid : str or None
        Battery level characteristic (read + notify, u8 percent), if the device has one.
    """

    # Read-only, so a profile can declare them as plain class attributes.
    @property
    def name(self) -> str: ...

    @property
    def service_uuid(self) -> str: ...

    @property
    def stream_uuids(self) -> tuple[str, ...]: ...

    @property
    def battery_uuid(self) -> str | None: ...

    def recognises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """True if an advertisement comes from this kind of device (``devices scan``)."""
        ...

    async def start(self, client: GattClient) -> StreamDecoder:
        """Configure and start every stream; the session subscribes to ``stream_uuids`` first."""
        ...

    async def stop(self, client: GattClient) -> None:
        """Stop streaming (best effort: the device may already be gone)."""
        ...
