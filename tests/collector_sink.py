"""What the tests of the real collector against emulated wearables share: its sink and config.

:class:`Sink` keeps every item the collector delivers, and a test awaits a condition on
them (:meth:`Sink.until`) instead of sleeping; :func:`one_wearable_config` connects to the
first emulated wearable over the bumble backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from emulators.process import Emulated, wearable_address
from monitor.collect import CollectorConfig, DeviceConfig
from monitor.types import Frame, Record

WAIT_S = 30.0  # a ceiling for each awaited state, not a choreography


class Sink:
    """Keeps every item the collector delivers; a test awaits a condition on them."""

    def __init__(self) -> None:
        self.items: list[Frame | Record] = []
        self._changed = asyncio.Event()

    def __call__(self, item: Frame | Record) -> None:
        self.items.append(item)
        self._changed.set()

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        """Return once ``condition()`` holds; AssertionError naming ``what`` after :data:`WAIT_S`."""

        async def wait() -> None:
            while not condition():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), WAIT_S)
        except TimeoutError:
            raise AssertionError(f"not within {WAIT_S} s: {what}") from None

    def frames(self, sensor: str) -> list[Frame]:
        return [i for i in self.items if isinstance(i, Frame) and i.stream.sensor == sensor]

    def records(self, measurement: str) -> list[Record]:
        return [i for i in self.items if isinstance(i, Record) and i.measurement == measurement]


def one_wearable_config(emulated: Emulated) -> CollectorConfig:
    """The collector of the first emulated wearable, with short timeouts and backoff."""
    return CollectorConfig(
        (DeviceConfig(address=wearable_address(1)),),
        backend="bumble",
        bumble_transport=emulated.collector_transport,
        backoff_scale=0.2,
        scan_timeout_s=5.0,
        connect_timeout_s=5.0,
    )
