"""The ATT MTU on BlueZ, and the rates a small MTU costs.

bleak's BlueZ backend does not learn the MTU when it connects: ``mtu_size`` answers 23 (with a
warning) until ``BleakClientBlueZDBus._acquire_mtu()`` has asked BlueZ for it through
``AcquireWrite`` or ``AcquireNotify`` on a characteristic (bleak 0.18 to 3.x; bleak's docs
name ``await client._backend._acquire_mtu()`` as the way). A profile that sizes its packets
from ``mtu_size`` (the reference wearable's ``SET_MAX_PAYLOAD``) would otherwise make the
wearable fall back to 20-byte packets and lower rates on every Linux gateway.

The call is private bleak API, so it is made only where bleak's BlueZ contract is seen (the
backend has ``_acquire_mtu`` and an unknown ``_mtu_size``), before any notification is
started (``AcquireNotify`` would clash with one), and a failure only costs the MTU.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bleak import BleakClient

from devices.base import RateLimit

logger = logging.getLogger(__name__)

# The ATT MTU the collector asks for unless [ble] mtu_bytes says otherwise: the largest that
# fits one 251-byte link-layer payload of the LE Data Packet Length Extension (Bluetooth Core
# 4.2) less L2CAP's 4-byte header, so a notification never spans two link-layer packets.
DEFAULT_MTU_BYTES = 247


async def acquire_mtu(client: BleakClient, device_id: str) -> None:
    """Make ``client.mtu_size`` the negotiated MTU on bleak's BlueZ backend; elsewhere a no-op.

    Parameters
    ----------
    client : BleakClient
        Connected, services discovered, no notification started yet.
    device_id : str
        For the log line.
    """
    backend: Any = getattr(client, "_backend", None)
    acquire = getattr(backend, "_acquire_mtu", None)
    if acquire is None or getattr(backend, "_mtu_size", 0) is not None:
        return  # CoreBluetooth, WinRT and bumble know their MTU; or it was acquired already
    try:
        await acquire()
    except Exception as error:  # BlueZ < 5.46 without AcquireWrite/AcquireNotify; an encrypted link
        logger.warning(
            "%s: BlueZ did not tell the MTU (%s: %s): packets are sized for 23 bytes",
            device_id,
            type(error).__name__,
            error,
        )


def rate_limits(decoder: object) -> tuple[RateLimit, ...]:
    """The streams a profile's handshake found slowed down by the MTU (none for most profiles)."""
    limits = getattr(decoder, "rate_limits", ())
    return tuple(limit for limit in limits if isinstance(limit, RateLimit))


def describe_rate_limits(
    limits: Sequence[RateLimit], mtu: int
) -> tuple[str | None, dict[str, float | int | str]]:
    """The status-line words and the ``connected`` status fields for ``limits``.

    Examples
    --------
    >>> describe_rate_limits([RateLimit("emg", 1000.0, 250.0)], 23)
    ('EMG 250 Hz (not 1000): MTU 23', {'rate_limited': 'EMG 250 Hz (not 1000): MTU 23', \
'emg_rate_hz': 250.0, 'emg_default_rate_hz': 1000.0})
    >>> describe_rate_limits([], 247)
    (None, {})
    """
    if not limits:
        return None, {}
    words = ", ".join(
        f"{lim.stream.upper()} {lim.rate_hz:g} Hz (not {lim.default_rate_hz:g})" for lim in limits
    )
    words += f": MTU {mtu}"
    fields: dict[str, float | int | str] = {"rate_limited": words}
    for lim in limits:
        fields[f"{lim.stream}_rate_hz"] = lim.rate_hz
        fields[f"{lim.stream}_default_rate_hz"] = lim.default_rate_hz
    return words, fields
