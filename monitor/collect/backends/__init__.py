"""The collector's radios, chosen by name: ``bleak`` (the platform's adapter) or ``bumble``.

The collector speaks only bleak's facade (``BleakScanner``, ``BleakClient``). A radio backend
is what plugs into it: the keyword arguments for the scanner and the client (bleak's
``backend=`` and what that backend takes), and what to release when a run ends. Backends
register here by name, as ``[ble] backend`` names them; the bumble one is imported only when
chosen (bumble is a large import, and a gateway on BlueZ never needs it).

Examples
--------
>>> get_backend("bleak").client_kwargs(None, 247)
{}
>>> sorted(BACKEND_NAMES)
['bleak', 'bumble']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from monitor.errors import ConfigError


class RadioBackend(Protocol):
    """One radio: bleak keyword arguments for it, and its release at the end of a run."""

    def scanner_kwargs(self, transport: str | None) -> dict[str, Any]:
        """Keyword arguments for ``BleakScanner`` on ``transport`` (None: the radio's own)."""
        ...

    def client_kwargs(self, transport: str | None, mtu_bytes: int) -> dict[str, Any]:
        """Keyword arguments for ``BleakClient``, asking for an ATT MTU of ``mtu_bytes``."""
        ...

    async def close(self) -> None:
        """Release what the scanners and clients of this event loop opened."""
        ...


class PlatformBackend:
    """bleak's own backend for the platform (BlueZ, CoreBluetooth, WinRT): bleak's defaults.

    The platform's stack negotiates the MTU itself, and the adapter outlives the run.
    """

    def scanner_kwargs(self, transport: str | None) -> dict[str, Any]:
        return {}

    def client_kwargs(self, transport: str | None, mtu_bytes: int) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None


def _bumble() -> RadioBackend:
    from monitor.collect.backends.bumble import BumbleBackend

    return BumbleBackend()


_REGISTRY: dict[str, Callable[[], RadioBackend]] = {"bleak": PlatformBackend, "bumble": _bumble}
BACKEND_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_backend(name: str) -> RadioBackend:
    """The radio backend registered as ``name``.

    Raises
    ------
    ConfigError
        ``name`` is not a registered backend.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"ble.backend must be one of {', '.join(BACKEND_NAMES)}, got {name!r}") from None
    return factory()
