"""What the tests of the real collector against emulated wearables share.

Every such test starts emulators (:mod:`emulators.process`), runs the real
:class:`~monitor.collect.Collector` in its own event loop over the bumble backend
(:func:`collecting`, :func:`bumble_config`), and waits on what it expects instead of
sleeping:

- the items the collector delivers (:class:`Sink`, :meth:`Waiter.until`): so many samples
  of a stream, a reconnect, a gap record;
- the emulators' acknowledgements over their control channel (:func:`order`): ``drop``
  answers once the link is down, ``pause`` once the stats file counts everything notified,
  ``faults_taken`` once pending packet faults have taken their packets (emulators.base);
- the books: after ``pause``, :meth:`Sink.until_accounted` waits until every sample the
  wearable counted as sent is received or in a gap record.

Every wait has a ceiling (:data:`WAIT_S`), never a choreography; a condition that never
comes fails the test with what was awaited.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from emulators.process import Child, Emulated, wearable_address
from monitor.collect import Collector, CollectorConfig, DeviceConfig
from monitor.types import Frame, Record

WAIT_S = 30.0  # a ceiling for each awaited state, not a choreography
STOP_S = 15.0  # a ceiling for the collector's clean stop


class Waiter:
    """Something that changes as items arrive, and conditions awaited on it."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Wake every :meth:`until` to test its condition again."""
        self._changed.set()

    async def until(self, condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        """Return once ``condition()`` holds; AssertionError naming ``what`` after ``timeout_s``."""

        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout_s)
        except TimeoutError:
            raise AssertionError(f"not within {timeout_s} s: {what}") from None


class Sink(Waiter):
    """Keeps every item the collector delivers, indexed by device, for cheap conditions.

    Devices are the stream's device (frames) or the ``device`` tag (records); ``None``
    selects every device.
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Frame | Record] = []
        self._frames: dict[tuple[str, str], list[Frame]] = defaultdict(list)
        self._frames_of_sensor: dict[str, list[Frame]] = defaultdict(list)
        self._samples: dict[tuple[str, str], int] = defaultdict(int)
        self._records: dict[str, list[Record]] = defaultdict(list)
        self._since_connect: dict[tuple[str, str], int] = defaultdict(int)

    def __call__(self, item: Frame | Record) -> None:
        self.items.append(item)
        if isinstance(item, Frame):
            key = (item.stream.device, item.stream.sensor)
            self._frames[key].append(item)
            self._frames_of_sensor[item.stream.sensor].append(item)
            self._samples[key] += item.n_samples
            self._since_connect[key] += item.n_samples
        else:
            self._records[item.measurement].append(item)
            if item.measurement == "ble_status" and item.fields.get("state") == "connected":
                device = str(item.tags.get("device"))
                for key in [k for k in self._since_connect if k[0] == device]:
                    self._since_connect[key] = 0
        self.changed()

    def frames(self, sensor: str, device: str | None = None) -> list[Frame]:
        """Frames of ``sensor`` (of ``device``), in arrival order."""
        return list(self._frames[(device, sensor)] if device is not None else self._frames_of_sensor[sensor])

    def records(self, measurement: str, device: str | None = None) -> list[Record]:
        """Records of ``measurement`` (tagged with ``device``), in arrival order."""
        records = self._records[measurement]
        return [r for r in records if device is None or r.tags.get("device") == device]

    def samples(self, sensor: str, device: str | None = None) -> int:
        """Samples received in frames of ``sensor`` (of ``device``)."""
        if device is not None:
            return self._samples[(device, sensor)]
        return sum(n for (_, s), n in self._samples.items() if s == sensor)

    def samples_since_connect(self, sensor: str, device: str) -> int:
        """Samples of ``sensor`` received since ``device``'s last ``connected`` status."""
        return self._since_connect[(device, sensor)]

    def states(self, device: str | None = None) -> list[str]:
        """The ``state`` of every ``ble_status`` record (of ``device``)."""
        return [str(r.fields["state"]) for r in self.records("ble_status", device)]

    def connects(self, device: str | None = None) -> int:
        """How often the collector reported ``device`` connected."""
        return self.states(device).count("connected")

    def gaps(self, stream: str, device: str | None = None) -> list[Record]:
        """``ble_gap`` records of ``stream`` (the record's ``stream`` tag)."""
        return [r for r in self.records("ble_gap", device) if r.tags["stream"] == stream]

    def accounted(
        self, sensor: str, device: str | None = None, gap_stream: str | None = None
    ) -> tuple[int, int]:
        """(samples received in ``sensor`` frames, samples in ``gap_stream`` gap records).

        ``gap_stream`` is the gap records' ``stream`` tag, ``sensor`` unless given (a
        reference wearable's IMU packets are counted by their ``acc`` frames, its gaps
        tagged ``imu``).
        """
        gaps = self.gaps(gap_stream or sensor, device)
        return self.samples(sensor, device), sum(int(r.fields["samples"]) for r in gaps)

    async def until_samples(
        self, samples: int, sensor: str, device: str | None = None, timeout_s: float = WAIT_S
    ) -> None:
        """Wait until ``samples`` samples of ``sensor`` (of ``device``) have arrived in frames."""
        await self.until(
            lambda: self.samples(sensor, device) >= samples,
            f"{samples} samples of {device or 'any'} {sensor}",
            timeout_s,
        )

    async def until_gaps(self, count: int, stream: str, device: str | None = None) -> None:
        """Wait until ``count`` gap records of ``stream`` (of ``device``) have arrived."""
        await self.until(lambda: len(self.gaps(stream, device)) >= count, f"{count} {stream} gaps")

    async def until_accounted(
        self, sent: int, sensor: str, device: str | None = None, gap_stream: str | None = None
    ) -> None:
        """Wait until ``sent`` samples of ``sensor`` are received or in gap records.

        ``sent`` comes from the wearable's stats after ``pause``, so nothing is sent after
        it: every sample either arrives or shows in a gap record, whose samples the next
        packet reveals.
        """

        def accounted() -> bool:
            received, gaps = self.accounted(sensor, device, gap_stream)
            return received + gaps >= sent

        what = f"{device or 'every device'} {sensor}: {sent} samples sent, accounted for"
        try:
            await self.until(accounted, what)
        except AssertionError as error:
            received, gaps = self.accounted(sensor, device, gap_stream)
            raise AssertionError(f"{error} (received {received}, in gaps {gaps})") from None


def sent_samples(stream_stats: dict[str, Any]) -> int:
    """Samples a stream's stats say were sent: its span of device sample counters."""
    return int(stream_stats["end_counter"]) - int(stream_stats["first_counter"])


def bumble_config(
    emulated: Emulated, devices: int | Sequence[DeviceConfig], **overrides: Any
) -> CollectorConfig:
    """The collector of emulated wearables over the bumble backend, with short timeouts and backoff.

    ``devices``: that many reference wearables (:func:`~emulators.process.wearable_address`
    1, 2, ...), or the devices themselves.
    """
    if isinstance(devices, int):
        devices = tuple(DeviceConfig(address=wearable_address(i + 1)) for i in range(devices))
    options: dict[str, Any] = {
        "backend": "bumble",
        "bumble_transport": emulated.collector_transport,
        "backoff_scale": 0.2,
        "scan_timeout_s": 5.0,
        "connect_timeout_s": 5.0,
        **overrides,
    }
    return CollectorConfig(tuple(devices), **options)


def one_wearable_config(emulated: Emulated) -> CollectorConfig:
    """The collector of the first emulated reference wearable."""
    return bumble_config(emulated, 1)


@asynccontextmanager
async def collecting(config: CollectorConfig, sink: Sink) -> AsyncIterator[Collector]:
    """Run the collector into ``sink`` for the block; stop it cleanly (within :data:`STOP_S`) after."""
    collector = Collector(config, sink=sink)
    task = asyncio.create_task(collector.run())
    try:
        yield collector
    finally:
        collector.stop()
        await asyncio.wait_for(task, STOP_S)


async def order(wearable: Child, command: dict[str, Any]) -> None:
    """Send ``command`` to an emulator and wait for its acknowledgement (ValueError: refused)."""
    await asyncio.to_thread(wearable.send, command)


async def pause(emulated: Emulated, index: int) -> dict[str, Any]:
    """Stop wearable ``index`` notifying and return its stats: what it sent, all of it."""
    await order(emulated.wearables[index], {"cmd": "pause"})
    return emulated.stats(index)
