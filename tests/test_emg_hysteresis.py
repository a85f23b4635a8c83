"""RunTracker: runs of a mask over a stream, against a plain-Python reference."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dsp.hysteresis import RunTracker


def reference_runs(mask: np.ndarray, hits: np.ndarray) -> list[tuple[int, int, bool]]:
    runs, i = [], 0
    while i < mask.size:
        if mask[i]:
            j = i
            while j < mask.size and mask[j]:
                j += 1
            runs.append((i, j, bool(hits[i:j].any())))
            i = j
        else:
            i += 1
    return runs


def tracked_runs(
    mask: np.ndarray, hits: np.ndarray, cuts: list[int], max_length: int | None
) -> list[tuple[int, int, bool]]:
    tracker = RunTracker(max_length)
    out: list[tuple[int, int, bool]] = []
    bounds = [0, *sorted(set(cuts)), mask.size]
    for a, b in itertools.pairwise(bounds):
        runs = tracker.process(mask[a:b], a, hits[a:b])
        out += zip(runs.start.tolist(), runs.stop.tolist(), runs.hit.tolist(), strict=True)
    runs = tracker.close(mask.size)
    out += zip(runs.start.tolist(), runs.stop.tolist(), runs.hit.tolist(), strict=True)
    return out


masks = st.lists(st.booleans(), min_size=1, max_size=300).map(np.array)


@settings(max_examples=300, deadline=None)
@given(masks, st.randoms(use_true_random=False), st.lists(st.integers(1, 299), max_size=12))
def test_runs_equal_reference_whatever_the_chunking(mask: np.ndarray, rnd: object, cuts: list[int]) -> None:
    hits = np.array([rnd.random() < 0.1 for _ in range(mask.size)]) & mask  # type: ignore[attr-defined]
    cuts = [c for c in cuts if c < mask.size]
    assert tracked_runs(mask, hits, cuts, None) == reference_runs(mask, hits)


@settings(max_examples=300, deadline=None)
@given(masks, st.lists(st.integers(1, 299), max_size=12), st.integers(2, 20))
def test_long_runs_are_cut_at_the_same_points_whatever_the_chunking(
    mask: np.ndarray, cuts: list[int], max_length: int
) -> None:
    hits = np.zeros(mask.size, bool)
    cuts = [c for c in cuts if c < mask.size]
    whole = tracked_runs(mask, hits, [], max_length)
    assert tracked_runs(mask, hits, cuts, max_length) == whole
    assert all(b - a <= max_length for a, b, _ in whole)
    # Pieces tile the reference runs exactly.
    covered = np.zeros(mask.size, bool)
    for a, b, _ in whole:
        covered[a:b] = True
    assert (covered == mask).all()


def test_hysteresis_keeps_only_runs_that_reach_the_on_threshold() -> None:
    envelope = np.array([0, 2, 3, 2, 0, 2, 2, 0, 5, 5, 2, 0], float)
    tracker = RunTracker()
    runs = tracker.process(envelope > 1.5, 0, envelope > 2.5)
    kept = [(a, b) for a, b, h in zip(runs.start, runs.stop, runs.hit, strict=True) if h]
    assert kept == [(1, 4), (8, 11)]
