"""Synthetic physiology with exact ground truth, for tests, benchmarks, demo and emulators."""

from monitor.synth.emg import (
    EmgScenario,
    SyntheticEmg,
    TrueArtefact,
    TrueSpasm,
    generate_emg,
)

__all__ = ["EmgScenario", "SyntheticEmg", "TrueArtefact", "TrueSpasm", "generate_emg"]
