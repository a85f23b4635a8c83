"""The spasm detector on Myo EMG: 200 Hz, 8 channels, int8 counts (offline, no radio).

The end-to-end check on collected frames is in ``test_myo_collect.py``; these tests pin
down how the detector behaves on the armband's 8-bit samples, including a known weakness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from devices.myo.protocol import EMG_MV_PER_COUNT, EMG_SAMPLE_RATE_HZ
from emulators.myo import MYO_EMG_SCENARIO, synthetic_signals
from monitor.dsp import detect_spasms
from monitor.synth import EmgScenario, TrueSpasm, generate_emg
from monitor.types import NS_PER_S, SpasmEvent

FULL_SCALE_MV = 127 * EMG_MV_PER_COUNT
ONSET_TOLERANCE_S = 0.3


def _found(events: list[SpasmEvent], channel: int, onset_s: float, offset_s: float) -> bool:
    """An event on the channel that overlaps the true spasm and starts within 0.3 s of it."""
    return any(
        e.channel == channel
        and e.onset_ns < offset_s * NS_PER_S
        and e.offset_ns > onset_s * NS_PER_S
        and abs(e.onset_ns / NS_PER_S - onset_s) < ONSET_TOLERANCE_S
        for e in events
    )


def _int8_mv(emg_mv: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.clip(np.round(emg_mv / EMG_MV_PER_COUNT), -128, 127) * EMG_MV_PER_COUNT


@pytest.fixture(scope="module")
def emulated_seed_19() -> tuple[npt.NDArray[np.int8], list[dict[str, Any]]]:
    """The emulator's seed-19 EMG (what the collector test streams): 3 spasms in 6-9 s."""
    emg_counts, _imu, spasms = synthetic_signals(19)
    return emg_counts, spasms


@pytest.mark.parametrize("start_s", [0.0, 0.3, 0.6, 1.0, 2.0])
def test_emulated_myo_spasms_are_found_whenever_the_stream_starts(
    start_s: float, emulated_seed_19: tuple[npt.NDArray[np.int8], list[dict[str, Any]]]
) -> None:
    emg_counts, spasms = emulated_seed_19
    first = round(start_s * EMG_SAMPLE_RATE_HZ)
    emg_mv = emg_counts[first : round(11 * EMG_SAMPLE_RATE_HZ)] * EMG_MV_PER_COUNT
    events = detect_spasms(emg_mv, EMG_SAMPLE_RATE_HZ, round(start_s * NS_PER_S), full_scale_mv=FULL_SCALE_MV)
    expected = [s for s in spasms if s["onset_s"] < 10.0]
    assert len(expected) == 3
    for spasm in expected:
        assert _found(events, spasm["channel"], spasm["onset_s"], spasm["offset_s"]), spasm


def _two_count_floor() -> tuple[list[TrueSpasm], npt.NDArray[np.float64]]:
    """A 2-count resting floor (20 µV RMS), seed 4: two spasms in 20 s."""
    scenario = EmgScenario(
        sample_rate_hz=EMG_SAMPLE_RATE_HZ,
        channels=8,
        duration_s=20.0,
        seed=4,
        **(MYO_EMG_SCENARIO | {"noise_rms_mv": 0.02}),
    )
    synthetic = generate_emg(scenario)
    return synthetic.spasms, synthetic.emg_mv


def test_int8_rounding_itself_loses_no_spasm_at_a_2_count_floor() -> None:
    """With exact repeats broken (1e-6 mV dither, flat test at 1e-12 mV), int8 equals float."""
    spasms, emg_mv = _two_count_floor()
    assert len(spasms) == 2
    dither = np.random.default_rng(0).uniform(-1e-6, 1e-6, emg_mv.shape)
    cases: list[tuple[npt.NDArray[np.float64], dict[str, Any]]] = [
        (emg_mv, {}),
        (_int8_mv(emg_mv) + dither, {"flat_ptp_mv": 1e-12}),
    ]
    for signal_mv, params in cases:
        events = detect_spasms(signal_mv, EMG_SAMPLE_RATE_HZ, full_scale_mv=FULL_SCALE_MV, **params)
        assert all(_found(events, s.channel, s.onset_s, s.offset_s) for s in spasms)


def test_spasms_are_found_in_int8_emg_at_a_2_count_resting_floor() -> None:
    """Repeated int8 values are not a flat line: only a flat run of 50 ms or more is."""
    spasms, emg_mv = _two_count_floor()
    events = detect_spasms(_int8_mv(emg_mv), EMG_SAMPLE_RATE_HZ, full_scale_mv=FULL_SCALE_MV)
    assert all(_found(events, s.channel, s.onset_s, s.offset_s) for s in spasms)
