"""BLE emulation on bumble: a controller hub, a bleak backend, and process helpers.

Nothing here replaces the collector: emulation only swaps the radio. The collector keeps
talking to bleak's public API, with ``backend=`` set to the bumble backend.
"""
