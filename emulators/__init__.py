"""Emulated wearables: bumble GATT servers speaking each profile's protocol, with ground truth.

Each module is one profile's emulator (``python -m emulators.reference``, ``emulators.polar``,
``emulators.myo``, ``emulators.ganglion``); :mod:`emulators.base` is what they share (the
link, faults, stats), :mod:`emulators.hub` the virtual controllers they meet the collector
on, and :mod:`emulators.process` starts and stops them as processes. They may draw
synthetic physiology from :mod:`monitor.synth`; :mod:`devices` stays bytes-only.

Nothing here replaces the collector: emulation only swaps the radio. The collector keeps
talking to bleak's public API, with the bumble backend (:mod:`monitor.collect.backends`).
"""
