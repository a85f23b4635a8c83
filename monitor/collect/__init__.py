"""BLE collection: sessions per allow-listed wearable through bleak, Frames and Records out.

``Collector(config, sink).run()`` is the entry point; ``spasm-monitor run`` and
``spasm-monitor record`` run it from config.toml.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
