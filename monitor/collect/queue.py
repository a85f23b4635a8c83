"""A bounded queue of Frames and Records that counts overflow instead of growing.

The notification callback must never block, so it cannot wait for room: on a full queue
the new item is dropped and counted, and the count is reported as a ``collector_overflow``
record as soon as there is room again. Memory stays bounded whatever the consumer does.
"""

from __future__ import annotations

import asyncio
import time

from monitor.types import Frame, Record

DEFAULT_MAX_ITEMS = 10_000  # ≈ 25 s of 8 wearables (EMG 40 + IMU 2×10 frames/s each)

Item = Frame | Record


class FrameQueue:
    """Bounded FIFO between the BLE sessions (producers) and the pipeline (consumer)."""

    def __init__(self, max_items: int = DEFAULT_MAX_ITEMS) -> None:
        if max_items < 2:
            raise ValueError(f"max_items must be at least 2, got {max_items}")
        self._queue: asyncio.Queue[Item] = asyncio.Queue(max_items)
        self.dropped_items = 0  # since the start
        self._unreported = 0

    def put(self, item: Item) -> bool:
        """Enqueue without waiting; returns False (and counts it) when the queue is full."""
        if self._unreported and self._queue.qsize() < self._queue.maxsize - 1:
            self._queue.put_nowait(
                Record("collector_overflow", time.time_ns(), {"dropped_items": self._unreported})
            )
            self._unreported = 0
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped_items += 1
            self._unreported += 1
            return False
        return True

    async def get(self) -> Item:
        return await self._queue.get()

    def get_nowait(self) -> Item | None:
        """The next item, or None when empty."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def qsize(self) -> int:
        return self._queue.qsize()
