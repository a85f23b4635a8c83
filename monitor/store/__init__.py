"""Durable storage: the SQLite spool every Record enters first, and the forwarder to InfluxDB.

Typical use::

    spool = Spool("spool.sqlite")
    spool.append(records)                       # durable when it returns
    writer = InfluxV1Writer(url, "spasm")       # or InfluxV2Writer(url, org, bucket, token=...)
    await Forwarder("spool.sqlite", writer).run(stop_event)

With no InfluxDB configured, :meth:`Spool.query` is the embedded store.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
