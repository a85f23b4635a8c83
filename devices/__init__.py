"""BLE device profiles: UUIDs, decoders to Frames, and emulated wearables."""
