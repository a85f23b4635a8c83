"""BLE device profiles: UUIDs, handshakes and pure decoders to Packets (bytes only).

The emulated wearables that speak these protocols live beside this package, in
:mod:`emulators`.
"""
