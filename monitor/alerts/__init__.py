"""Alert rules over the record stream: spasm spikes, long tonic spasms, device offline, poor signal.

:class:`AlertEngine` is the pure rule logic (time from the records); :class:`Notifier`
sends through apprise; :class:`AlertService` stores every alert as an ``alert`` record and
notifies it. Thresholds: :class:`AlertThresholds` (``[alerts]`` in config.toml, read by
:func:`monitor.config.alerts.read_alerts`), the same definition the Grafana alert rules are
exported from.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
