"""One BLE session per allow-listed wearable: discover → connect → subscribe → decode → queue.

It talks to BLE through bleak's public API only (``BleakScanner``, ``BleakClient``); the
radio behind it is chosen by configuration. The notification callback decodes, accounts
for gaps and timestamps in place, then enqueues without awaiting: it never blocks the
stack's event handling.

Where the profile can read the wearable's clock (:class:`devices.base.ClockReader`), a
background task per connection times bursts of reads (at connect, then at growing
intervals up to :data:`CLOCK_SYNC_PERIOD_S`) and feeds them to the session's
:class:`~monitor.collect.clock.DeviceClock`; notifications never wait for it.

When the radio itself cannot be used (no adapter, no BlueZ, adapter off, no permission:
:mod:`monitor.collect.errors`), the session says so in plain words (:attr:`DeviceSession.problem`,
a ``ble_status`` record with ``cause`` and ``advice``, one log warning per new cause) and
keeps retrying slowly. On BlueZ it acquires the ATT MTU after connecting (bleak reports 23
until then), and when the wearable must lower a rate to fit it, says so
(:attr:`DeviceSession.notice`, ``rate_limited`` fields of the ``connected`` status).

Time lines restart in two ways, and neither drops a sample or writes a gap: a reboot (a new
boot identifier read at connect, or counters behind at a connection's first packet), and a
step of a device clock that stamps its packets (:mod:`monitor.collect.timebase`, which also
drops a single bad stamp as malformed). ``ble_session`` reports both, and the duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from devices.base import ClockReader, DecodeError, Packet, StreamDecoder
from devices.registry import get_profile
from monitor.backoff import Backoff
from monitor.collect.backoff import ADAPTER_ERROR_BACKOFF, DROPPED_BACKOFF, backoff_for
from monitor.collect.clock import DeviceClock, device_time_ns
from monitor.collect.config import CollectorConfig, DeviceConfig
from monitor.collect.errors import bluetooth_unavailable
from monitor.collect.gaps import SequenceTracker
from monitor.collect.mtu import acquire_mtu, describe_rate_limits, rate_limits
from monitor.collect.queue import FrameQueue
from monitor.collect.timebase import TimeBaseWatch, Verdict
from monitor.types import Record

logger = logging.getLogger(__name__)

STOP_COMMAND_TIMEOUT_S = 1.0  # best effort on shutdown: the wearable may already be gone
# Notifications held while a handshake runs (seconds of data at most; a bound, not a buffer).
MAX_EARLY_NOTIFICATIONS = 4096
# Round-trip clock synchronisation (monitor.collect.clock). Each exchange is one GATT read,
# a round trip of one or two connection intervals. A burst reads until its intersected bounds
# are within CLOCK_SYNC_TARGET_NS (a fast request and a fast response have both been seen),
# between CLOCK_SYNC_BURST_MIN and CLOCK_SYNC_BURST_MAX reads. One runs at connect, the next
# when the slope's uncertainty could have moved the line by the target: every second or two
# while the hull is young, then every 30 s.
CLOCK_SYNC_BURST_MIN = 16
CLOCK_SYNC_BURST_MAX = 128
CLOCK_SYNC_TARGET_NS = 300_000
CLOCK_SYNC_MIN_PERIOD_S = 1.0
CLOCK_SYNC_PERIOD_S = 30.0


@dataclass
class StreamBooks:
    """Per-stream accounting: sequence tracker and nominal rate."""

    rate_hz: float
    tracker: SequenceTracker

    @classmethod
    def for_packet(cls, packet: Packet) -> StreamBooks:
        return cls(packet.sample_rate_hz, SequenceTracker(packet.seq_modulus, packet.counter_modulus))


@dataclass
class SessionStats:
    """What a session saw, for its final record and for tests."""

    connects: int = 0
    drops: int = 0
    malformed: int = 0
    duplicates: int = 0
    early_dropped: int = 0  # notified before a handshake ended, beyond MAX_EARLY_NOTIFICATIONS
    frames: int = 0
    battery_percent: int | None = None
    clock_reads: int = 0  # timed reads of the device clock (round trips)
    reboots: int = 0  # seen by a new boot identifier, or by counters far behind
    time_steps: int = 0  # steps of the device clock re-anchored (monitor.collect.timebase)


class DeviceSession:
    """Collects one wearable until :meth:`stop`; reconnects after every drop."""

    def __init__(
        self, device: DeviceConfig, config: CollectorConfig, queue: FrameQueue, seed: int = 0
    ) -> None:
        self.device = device
        self.config = config
        self.queue = queue
        self.stats = SessionStats()
        self.books: dict[str, StreamBooks] = {}
        self.clock = DeviceClock()  # one crystal per wearable: every stream feeds one fit
        self.timebase = TimeBaseWatch()  # steps of a device clock that stamps its packets
        self._boot_id: int | None = None  # the wearable's boot identifier, where it gives one
        self.profile = get_profile(device.profile)
        self._rng = random.Random(seed)
        self._decoder: StreamDecoder | None = None
        self._early: list[tuple[str, bytes, int]] = []
        self.is_connected = False  # streaming now (for status lines)
        self.problem: str | None = None  # why nothing can be collected, in plain words
        self.notice: str | None = None  # what is degraded while streaming (a rate lowered by the MTU)
        self._stop = asyncio.Event()
        self._dropped = asyncio.Event()
        self._scanner_kwargs: dict[str, Any] = config.scanner_kwargs()
        self._client_kwargs: dict[str, Any] = config.client_kwargs()

    @property
    def device_id(self) -> str:
        return self.device.device_id

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Discover, connect and stream until :meth:`stop`, retrying with per-error backoff."""
        attempt = 0
        backoff: Backoff | None = None
        stopped_fields: dict[str, float | int | str] = {}
        try:
            while not self._stop.is_set():
                if backoff is not None:
                    delay_s = backoff.delay_s(attempt, self._rng, self.config.backoff_scale)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay_s)
                    if self._stop.is_set():
                        break
                try:
                    await self._connect_and_stream()
                    attempt, backoff = 0, DROPPED_BACKOFF
                except asyncio.CancelledError:
                    stopped_fields["reason"] = "cancelled before a clean stop"
                    raise
                except Exception as error:  # every failure is retried; its kind sets the pace
                    backoff = backoff_for(error)
                    attempt += 1
                    reason = f"{type(error).__name__}: {error}"
                    unavailable = bluetooth_unavailable(error, self.config.backend)
                    if unavailable is None:
                        self.problem = None
                        self._status("retrying", reason=reason, attempt=attempt)
                        logger.info("%s: %s, retry %d", self.device_id, error, attempt)
                        continue
                    backoff = ADAPTER_ERROR_BACKOFF  # the user must act: retry slowly, never give up
                    words = unavailable.reason.words
                    if self.problem != words:  # told once per cause, not at every retry
                        logger.warning(
                            "%s: nothing collected: %s [%s]; %s; retrying",
                            self.device_id,
                            words,
                            reason,
                            unavailable.advice,
                        )
                    self.problem = words
                    advice = unavailable.advice
                    self._status("retrying", reason=reason, cause=words, advice=advice, attempt=attempt)
        finally:
            # Even a cancelled session (its wearable hung the shutdown) closes its books: the
            # counts it received are in the queue and must be accounted for.
            self._status("stopped", **stopped_fields)
            self._take(self.timebase.flush())  # packets still awaiting a verdict are kept
            self._put_session_record()

    async def _discover(self) -> BLEDevice:
        """Scan until an allow-listed advertisement is seen; anything else is ignored."""

        def allowed(device: BLEDevice, adv: AdvertisementData) -> bool:
            return self.device.matches(device, adv)

        scan_kwargs = dict(self._scanner_kwargs)
        if self.device.service_uuid:  # a profile whose devices do not advertise a service scans open
            scan_kwargs["service_uuids"] = [self.device.service_uuid]
        found = await BleakScanner.find_device_by_filter(
            allowed, timeout=self.config.scan_timeout_s, **scan_kwargs
        )
        if found is None:
            raise LookupError(f"{self.device_id} not advertising within {self.config.scan_timeout_s} s")
        return found

    async def _connect_and_stream(self) -> None:
        # A stop request must not wait for a scan to time out (SIGTERM while a wearable is away).
        discover = asyncio.ensure_future(self._discover())
        stop = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait([discover, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not discover.done():
            discover.cancel()
            await asyncio.gather(discover, return_exceptions=True)
            return
        ble_device = discover.result()
        self.problem = None  # the radio works: it heard the wearable
        self._dropped.clear()
        client = BleakClient(
            ble_device,
            disconnected_callback=lambda _client: self._dropped.set(),
            timeout=self.config.connect_timeout_s,
            **self._client_kwargs,
        )
        # The backend enforces the timeout itself: cancelling a connect half-way through an HCI
        # command would leave the adapter's command queue out of step.
        await client.connect()
        sync: asyncio.Future[None] | None = None
        try:
            await acquire_mtu(client, self.device_id)
            decoder = await self._start_streams(client)
            self.stats.connects += 1
            self.is_connected = True
            self._status("connected", mtu=client.mtu_size, **self._rate_limits(decoder, client.mtu_size))
            if isinstance(self.profile, ClockReader):
                sync = asyncio.ensure_future(self._sync_clock(client, self.profile))
            stop = asyncio.ensure_future(self._stop.wait())
            dropped = asyncio.ensure_future(self._dropped.wait())
            await asyncio.wait([stop, dropped], return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            dropped.cancel()
            if self._dropped.is_set():
                self.stats.drops += 1
                self._status("disconnected", reason="link lost")
        finally:
            self.is_connected = False
            if sync is not None:
                sync.cancel()
                await asyncio.gather(sync, return_exceptions=True)
            if client.is_connected:
                await self._best_effort("stop command", self.profile.stop(client))
                await self._best_effort("disconnect", client.disconnect())

    async def _best_effort(self, step: str, action: Awaitable[object]) -> None:
        """Run one shutdown step within :data:`STOP_COMMAND_TIMEOUT_S`; log, never raise, a failure."""
        start_s = time.monotonic()
        try:
            await asyncio.wait_for(action, STOP_COMMAND_TIMEOUT_S)
        except Exception as error:  # the wearable may already be gone
            logger.info("%s: %s failed: %s: %s", self.device_id, step, type(error).__name__, error)
        elapsed_s = time.monotonic() - start_s
        if elapsed_s > STOP_COMMAND_TIMEOUT_S + 0.5:  # cancellation itself hung
            logger.warning("%s: %s took %.1f s", self.device_id, step, elapsed_s)

    def _rate_limits(self, decoder: StreamDecoder, mtu: int) -> dict[str, float | int | str]:
        """Fields of the ``connected`` status, and :attr:`notice`, for rates the MTU lowered."""
        self.notice, fields = describe_rate_limits(rate_limits(decoder), mtu)
        if self.notice is not None:
            logger.warning(
                "%s: rates lowered: %s (a larger MTU keeps the full rates)", self.device_id, self.notice
            )
        return fields

    async def _start_streams(self, client: BleakClient) -> StreamDecoder:
        """Read the battery, subscribe to every stream, then run the profile's handshake."""
        profile = self.profile
        if profile.battery_uuid is not None:
            level = await client.read_gatt_char(profile.battery_uuid)
            self.stats.battery_percent = level[0] if level else None
            self._put_battery()
            await client.start_notify(profile.battery_uuid, self._on_battery)
        if getattr(profile, "counts_restart_on_connect", False):
            # Its counts (or the session's, for a device with none) begin anew: the samples
            # missed while disconnected cannot be known, and the old time line no longer fits.
            for books in self.books.values():
                books.tracker.restart()
            self.clock.reset()
        else:  # its counts ran on: behind at the first packet is a reboot, never a repeat
            for books in self.books.values():
                books.tracker.reconnect()
        # A wearable may notify before its start command's response arrives: those packets
        # wait until the handshake has returned the decoder for the negotiated settings.
        self._decoder = None
        self._early.clear()
        for uuid in profile.stream_uuids:
            await client.start_notify(uuid, functools.partial(self._on_notification, uuid))
        decoder = await profile.start(client)
        self._check_boot(getattr(decoder, "boot_id", None))
        self._decoder = decoder
        early, self._early = self._early, []
        for uuid, data, arrival_ns in early:
            self._decode(uuid, data, arrival_ns)
        return decoder

    async def _sync_clock(self, client: BleakClient, reader: ClockReader) -> None:
        """Time bursts of device clock reads for as long as the connection lasts.

        A wearable without a readable clock (its first read fails) keeps the fit of
        arrivals alone; a read failing later means the link went, and this task with it.
        """
        while True:
            exchanges: list[tuple[int, int, int]] = []
            epoch = self.clock.epoch  # a fit restarted meanwhile is on another time base
            for attempt in range(CLOCK_SYNC_BURST_MAX):
                if (
                    attempt >= CLOCK_SYNC_BURST_MIN
                    and self.clock.burst_bound_ns(exchanges) <= CLOCK_SYNC_TARGET_NS
                ):
                    break
                send_ns = time.time_ns()
                try:
                    device_ns = await reader.read_device_clock_ns(client)
                except DecodeError as error:
                    logger.info("%s: bad device clock value: %s", self.device_id, error)
                    continue
                except Exception as error:  # older firmware without the clock, or the link went
                    if self.stats.clock_reads == 0:
                        logger.info("%s: no device clock (%s): offset from arrivals", self.device_id, error)
                    return
                exchanges.append((device_ns, send_ns, time.time_ns()))
            if self.clock.epoch == epoch:
                self.clock.add_sync(exchanges)
            self.stats.clock_reads += len(exchanges)
            best_rtt_ns = min((receive - send for _, send, receive in exchanges), default=None)
            self._put_clock_record(best_rtt_ns)
            due_s = self.clock.sync_due_s(CLOCK_SYNC_TARGET_NS)
            await asyncio.sleep(min(CLOCK_SYNC_PERIOD_S, max(CLOCK_SYNC_MIN_PERIOD_S, due_s)))

    # -- notification path (synchronous, never awaits) ---------------------------------------

    def _on_notification(self, uuid: str, _characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        arrival_ns = time.time_ns()
        if self._decoder is None:
            if len(self._early) < MAX_EARLY_NOTIFICATIONS:
                self._early.append((uuid, bytes(data), arrival_ns))
            else:
                self.stats.early_dropped += 1
            return
        self._decode(uuid, data, arrival_ns)

    def _decode(self, uuid: str, data: bytes | bytearray, arrival_ns: int) -> None:
        assert self._decoder is not None
        try:
            packets = self._decoder.decode(uuid, data)
        except DecodeError as error:
            self._put_malformed(type(error).__name__, arrival_ns, bytes=len(data))
            return
        for packet in packets:
            self._on_packet(packet, arrival_ns)

    def _on_packet(self, packet: Packet, arrival_ns: int) -> None:
        """Judge a device-stamped packet's time (a step of the device clock?), then take it."""
        first_ns = packet.device_time_ns
        if first_ns is None:  # a sample counter is the time base: it only restarts at a reboot
            self._accept(packet, arrival_ns)
            return
        end_ns = _last_sample_ns(packet, first_ns)
        residual_ns = self.clock.residual_ns(end_ns, arrival_ns)
        self._take(self.timebase.offer(packet, first_ns, end_ns, arrival_ns, residual_ns))

    def _take(self, verdict: Verdict) -> None:
        """Drop a verdict's bad stamps (counted), re-anchor at a step, accept the rest in order."""
        for packet, arrival_ns in verdict.outliers:
            # Its samples show as a gap in the counts of the next packet of its stream.
            self._put_malformed("DeviceTimeOutlier", arrival_ns, samples=packet.n_samples)
        if verdict.step_ns is not None:
            self.stats.time_steps += 1
            logger.warning(
                "%s: the device clock stepped by %+.3f s: time re-anchored",
                self.device_id,
                verdict.step_ns / 1e9,
            )
            self._restart_time_base()
            # The held packets (a second or more of them) are taken together: the new fit
            # sees all their arrivals before it stamps the first, which alone would carry
            # its own delay (tens of ms when the gateway was busy at the reconnect).
            for packet, arrival_ns in verdict.accepted:
                assert packet.device_time_ns is not None  # only device-stamped packets are held
                self.clock.add(_last_sample_ns(packet, packet.device_time_ns), arrival_ns)
            fitted_epoch = self.clock.epoch
            for packet, arrival_ns in verdict.accepted:
                self._accept(packet, arrival_ns, fitted_epoch)
            return
        for packet, arrival_ns in verdict.accepted:
            self._accept(packet, arrival_ns)

    def _check_boot(self, boot_id: int | None) -> None:
        """At connect: a new boot identifier means the counters restarted, however few they counted."""
        if boot_id is None:  # no identifier: the counters alone tell (far behind: a reboot)
            return
        if self._boot_id is not None and boot_id != self._boot_id:
            self.stats.reboots += 1
            logger.info("%s: rebooted since the last connection", self.device_id)
            self._restart_time_base()
        self._boot_id = boot_id

    def _restart_time_base(self) -> None:
        """A new time line (a reboot, a clock step): a new fit, and counts that start again."""
        for books in self.books.values():
            books.tracker.restart()
        self.clock.reset()

    def _accept(self, packet: Packet, arrival_ns: int, fitted_epoch: int | None = None) -> None:
        """Count, fit and stamp one packet, and queue its frames.

        ``fitted_epoch``: the clock's epoch in which its arrival was already added to the fit
        (None: not yet).
        """
        books = self.books.get(packet.stream)
        if books is None or books.rate_hz != packet.sample_rate_hz:
            # A new rate restarts the counter's time base (docs/protocol.md §2.2): new books.
            books = self.books[packet.stream] = StreamBooks.for_packet(packet)
        n = packet.n_samples
        step = books.tracker.step(packet.seq, packet.counter, n)
        if step.duplicate:
            self.stats.duplicates += 1
            return
        if step.reboot:
            self.stats.reboots += 1
            self.clock.reset()
        first_ns = packet.device_time_ns
        if first_ns is None:
            first_ns = device_time_ns(step.counter, books.rate_hz)
        if fitted_epoch != self.clock.epoch:
            self.clock.add(_last_sample_ns(packet, first_ns), arrival_ns)
        if step.gap_samples:
            first = step.counter - step.gap_samples
            self._put_gap(packet.stream, first, step.gap_samples, step.gap_packets, books)
        t0_ns = self.clock.to_utc_ns(first_ns)
        for frame in packet.frames(self.device_id, t0_ns, step.counter, step.counter + n - 1):
            self.queue.put(frame)
            self.stats.frames += 1

    def _on_battery(self, _characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        if data:
            self.stats.battery_percent = data[0]
            self._put_battery()

    # -- records -----------------------------------------------------------------------------

    def _put_gap(
        self, stream: str, first: int, samples: int, packets: int | None, books: StreamBooks
    ) -> None:
        rate_hz = books.rate_hz
        fields: dict[str, float | int | str | bool] = {
            "samples": samples,
            "duration_s": samples / rate_hz,
            "first_counter": first,
        }
        if packets is not None:
            fields["packets"] = packets
        tags = {"device": self.device_id, "stream": stream}
        self.queue.put(Record("ble_gap", self.clock.to_utc_ns(device_time_ns(first, rate_hz)), fields, tags))

    def _put_malformed(self, error: str, arrival_ns: int, **sizes: int) -> None:
        """Count a notification (``bytes``) or a packet's time (``samples``) refused, in a record."""
        self.stats.malformed += 1
        fields: dict[str, float | int | str | bool] = {"error": error, **sizes, "total": self.stats.malformed}
        self.queue.put(Record("ble_malformed", arrival_ns, fields, {"device": self.device_id}))

    def _put_clock_record(self, best_rtt_ns: int | None) -> None:
        """One ``ble_clock`` record per sync burst: its fastest round trip and the fit's state."""
        fields: dict[str, float | int | str | bool] = {
            "reads": self.stats.clock_reads,
            "drift_ppm": self.clock.drift_ppm,
        }
        if best_rtt_ns is not None:
            fields["best_rtt_ms"] = best_rtt_ns / 1e6
        bound_ns, floor_ns = self.clock.sync_bound_ns, self.clock.latency_floor_ns
        if bound_ns is not None:
            fields["bound_ms"] = bound_ns / 1e6
        if floor_ns is not None:
            fields["latency_floor_ms"] = floor_ns / 1e6  # how late the hull alone would stamp
        self.queue.put(Record("ble_clock", time.time_ns(), fields, {"device": self.device_id}))

    def _put_battery(self) -> None:
        if self.stats.battery_percent is not None:
            fields: dict[str, float | int | str | bool] = {"percent": self.stats.battery_percent}
            self.queue.put(Record("battery", time.time_ns(), fields, {"device": self.device_id}))

    def _status(self, state: str, **fields: float | int | str) -> None:
        self.queue.put(
            Record("ble_status", time.time_ns(), {"state": state, **fields}, {"device": self.device_id})
        )

    def _put_session_record(self) -> None:
        fields: dict[str, float | int | str | bool] = {
            "connects": self.stats.connects,
            "drops": self.stats.drops,
            "malformed": self.stats.malformed,
            "early_dropped": self.stats.early_dropped,
            "duplicates": self.stats.duplicates,
            "reboots": self.stats.reboots,
            "time_steps": self.stats.time_steps,
            "clock_outliers": self.clock.rejected_points,
            "frames": self.stats.frames,
        }
        for name, books in self.books.items():
            fields[f"{name}_received_samples"] = books.tracker.received_samples
            fields[f"{name}_gap_samples"] = books.tracker.gap_samples
            fields[f"{name}_first_counter"] = books.tracker.first_counter or 0
            fields[f"{name}_end_counter"] = books.tracker.expected_counter or 0
            fields[f"{name}_span_samples"] = books.tracker.span_samples
        fields["drift_ppm"] = self.clock.drift_ppm
        fields["clock_reads"] = self.stats.clock_reads
        bound_ns = self.clock.sync_bound_ns
        if bound_ns is not None:
            fields["clock_bound_ms"] = bound_ns / 1e6
        self.queue.put(Record("ble_session", time.time_ns(), fields, {"device": self.device_id}))


def _last_sample_ns(packet: Packet, first_ns: int) -> int:
    """Device time of ``packet``'s last sample, its first being at ``first_ns``."""
    return first_ns + device_time_ns(packet.n_samples - 1, packet.sample_rate_hz)
