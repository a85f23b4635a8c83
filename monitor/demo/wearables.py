"""The demo's home: its wearables, where they are worn and what they measure, as ``[[device]]`` tables.

One definition for both parts of the demo. The live part connects emulated wearables with
these tables (``spasm-monitor demo``), and the simulated history feeds its synthetic signals
through :class:`~monitor.pipeline.Pipeline` configured with the same tables
(:mod:`monitor.demo.windows`), so one routing applies to both: EMG analysed where a muscle is
configured (the calf), movement spasms from every gyroscope, the knee angle from the thigh and
shank IMUs, each processor isolated from the others' failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.config import AppConfig, parse_config

DEMO_SIDE = "left"  # the injected leg (monitor.demo.history injects the left calf)


@dataclass(frozen=True, slots=True)
class DemoWearable:
    """One wearable of the demo's home.

    Attributes
    ----------
    placement : str
        Body location, the ``location`` tag.
    address : str
        Bluetooth address: the emulated wearable's static random address, as
        ``emulators.process.wearable_address`` numbers them from 1 in this order.
    keys : dict
        The other ``[[device]]`` keys: its ``muscle`` (EMG analysed) or ``joint``.
    """

    placement: str
    address: str
    keys: dict[str, str]


DEMO_WEARABLES: tuple[DemoWearable, ...] = (
    DemoWearable("calf", "F1:00:00:00:00:01", {"muscle": "gastrocnemius"}),
    DemoWearable("thigh", "F1:00:00:00:00:02", {"joint": "knee"}),
    DemoWearable("shank", "F1:00:00:00:00:03", {"joint": "knee"}),
)


def demo_device_tables() -> list[dict[str, Any]]:
    """The ``[[device]]`` tables of :data:`DEMO_WEARABLES` (reference profile, left side)."""
    return [
        {"profile": "reference", "address": w.address, "placement": w.placement, "side": DEMO_SIDE, **w.keys}
        for w in DEMO_WEARABLES
    ]


def demo_config(patient: str, timezone: str, **sections: Any) -> AppConfig:
    """The demo's configuration: ``[patient]``, the demo wearables, and any other ``sections``.

    Parameters
    ----------
    patient : str
        Patient pseudonym (``[patient] id``).
    timezone : str
        The patient's IANA timezone.
    **sections
        Further top-level tables (``ble``, ``store``...), as config.toml would hold them.

    Examples
    --------
    >>> config = demo_config("demo", "Europe/London")
    >>> [(d.placement, d.muscle, d.joint) for d in config.devices]
    [('calf', 'gastrocnemius', None), ('thigh', None, 'knee'), ('shank', None, 'knee')]
    """
    document = {"patient": {"id": patient, "timezone": timezone}, "device": demo_device_tables(), **sections}
    return parse_config(document, environ={}, source="<the demo's home>")
