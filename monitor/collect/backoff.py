"""BLE retry delays, named and chosen per error (as bleak-retry-connector does).

Each failure has its own cause, so its own pace: a wearable out of range comes back in
seconds to minutes, a busy controller in a fraction of a second, a missing adapter only
after the user acts. The schedule itself (full jitter) is :class:`monitor.backoff.Backoff`.
"""

from __future__ import annotations

import asyncio

from bleak.exc import BleakDeviceNotFoundError, BleakError

from monitor.backoff import Backoff

# Not advertising (asleep, charging, out of range): look again soon, then settle.
NOT_FOUND_BACKOFF = Backoff(first_s=0.5, max_s=30.0)
# Connect timed out: the link is marginal; give the radio room.
CONNECT_TIMEOUT_BACKOFF = Backoff(first_s=1.0, max_s=60.0)
# Connected but GATT setup failed (ATT error, disconnect during discovery): transient.
GATT_ERROR_BACKOFF = Backoff(first_s=0.25, max_s=10.0)
# No adapter, no D-Bus, HCI transport refused: needs the user; retry slowly.
ADAPTER_ERROR_BACKOFF = Backoff(first_s=5.0, max_s=120.0)
# The link dropped after streaming: rescan and reconnect at once.
DROPPED_BACKOFF = Backoff(first_s=0.0, max_s=0.0)


def backoff_for(error: BaseException) -> Backoff:
    """The backoff that fits ``error``."""
    if isinstance(error, BleakDeviceNotFoundError | LookupError):
        return NOT_FOUND_BACKOFF
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return CONNECT_TIMEOUT_BACKOFF
    if isinstance(error, BleakError):
        return GATT_ERROR_BACKOFF
    if isinstance(error, OSError):  # FileNotFoundError without D-Bus, ConnectionRefusedError on TCP HCI
        return ADAPTER_ERROR_BACKOFF
    return GATT_ERROR_BACKOFF
