"""Peer detector wrappers used by the accuracy benchmark (bench/peers.py).

The peers come with the ``bench`` extras, which the test suite installs: nothing here is
skipped when they are missing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
import scipy.signal

from bench.matching import match_events
from bench.peers import PeerFailedWarning, biosppy_intervals, neurokit_intervals

SAMPLE_RATE_HZ = 1000.0
DURATION_S = 15.0
NOISE_RMS_MV = 0.005
BURST_RMS_MV = 0.5
BURSTS_S = [(3.0, 5.0), (10.0, 12.0)]
# Surface EMG band used to shape the bursts (De Luca et al. 2010: 20–450 Hz).
BURST_BAND_HZ = (20.0, 450.0)

Peer = Callable[[npt.ArrayLike, float], list[tuple[float, float]]]
PEERS: list[Peer] = [neurokit_intervals, biosppy_intervals]


def _two_bursts(sample_rate_hz: float = SAMPLE_RATE_HZ, seed: int = 7) -> npt.NDArray[np.float64]:
    """White noise with two 2 s bursts of band-limited noise at BURSTS_S."""
    rng = np.random.default_rng(seed)
    emg_mv = rng.normal(0.0, NOISE_RMS_MV, round(DURATION_S * sample_rate_hz))
    high_hz = min(BURST_BAND_HZ[1], 0.45 * sample_rate_hz)
    sos = scipy.signal.butter(
        4, (BURST_BAND_HZ[0], high_hz), btype="bandpass", fs=sample_rate_hz, output="sos"
    )
    for onset_s, offset_s in BURSTS_S:
        start, stop = round(onset_s * sample_rate_hz), round(offset_s * sample_rate_hz)
        burst = scipy.signal.sosfilt(sos, rng.normal(0.0, 1.0, stop - start))
        emg_mv[start:stop] += burst * BURST_RMS_MV / np.sqrt(np.mean(burst**2))
    return emg_mv


@pytest.mark.parametrize("peer", PEERS)
def test_peer_finds_both_bursts(peer: Peer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PeerFailedWarning)
        intervals = peer(_two_bursts(), SAMPLE_RATE_HZ)

    for onset_s, offset_s in intervals:
        assert 0.0 <= onset_s < offset_s <= DURATION_S
    matched_bursts = {t for t, _ in match_events(BURSTS_S, intervals)}
    assert matched_bursts == {0, 1}, intervals


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("sample_rate_hz", [200.0, 250.0])
def test_peer_runs_below_1khz_without_failing(peer: Peer, sample_rate_hz: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PeerFailedWarning)
        intervals = peer(_two_bursts(sample_rate_hz), sample_rate_hz)

    assert isinstance(intervals, list)


@pytest.mark.parametrize("peer", PEERS)
def test_library_failure_returns_nothing_and_warns(peer: Peer) -> None:
    too_short_to_filter = np.zeros(5)

    with pytest.warns(PeerFailedWarning, match="no intervals returned"):
        assert peer(too_short_to_filter, SAMPLE_RATE_HZ) == []


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize(
    ("emg_mv", "sample_rate_hz"),
    [(np.zeros((10, 2)), 1000.0), (np.array([0.0, np.nan, 0.0]), 1000.0), (np.zeros(10), 0.0)],
)
def test_invalid_input_is_rejected_up_front(
    peer: Peer, emg_mv: npt.NDArray[np.float64], sample_rate_hz: float
) -> None:
    with pytest.raises(ValueError, match=r"emg_mv|sample_rate_hz"):
        peer(emg_mv, sample_rate_hz)
