"""Event-level scoring used by the accuracy benchmark (bench/matching.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.matching import (
    EventScores,
    confusion_matrix,
    format_confusion,
    match_events,
    score_events,
    summarize_errors_ms,
)


def _overlap_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _brute_force_best(
    true: list[tuple[float, float]], detected: list[tuple[float, float]]
) -> tuple[int, float]:
    """(most matches, most total overlap) over every one-to-one matching of overlapping pairs."""
    best = (0, 0.0)
    n, m = len(true), len(detected)
    for k in range(1, min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                overlaps = [_overlap_s(true[r], detected[c]) for r, c in zip(rows, cols, strict=True)]
                if all(o > 0 for o in overlaps):
                    best = max(best, (k, sum(overlaps)))
    return best


def test_detection_spanning_two_truths_matches_only_one() -> None:
    true = [(0.0, 1.0), (2.0, 3.0)]
    detected = [(0.2, 2.5)]  # overlaps truth 0 by 0.8 s and truth 1 by 0.5 s

    assert match_events(true, detected) == [(0, 0)]
    scores = score_events(true, detected)
    assert (scores.tp, scores.fp, scores.fn) == (1, 0, 1)
    assert scores.precision == 1.0
    assert scores.recall == 0.5


def test_truth_covering_two_detections_matches_only_one() -> None:
    true = [(0.0, 10.0)]
    detected = [(1.0, 2.0), (3.0, 6.0)]

    assert match_events(true, detected) == [(0, 1)]  # the larger overlap
    scores = score_events(true, detected)
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 0)


def test_disjoint_intervals_do_not_match() -> None:
    true = [(0.0, 1.0), (5.0, 6.0)]
    detected = [(1.5, 4.5), (6.5, 7.0)]

    assert match_events(true, detected) == []
    scores = score_events(true, detected)
    assert (scores.tp, scores.fp, scores.fn) == (0, 2, 2)
    assert scores.f1 == 0.0


def test_touching_intervals_do_not_match() -> None:
    assert match_events([(0.0, 1.0)], [(1.0, 2.0)]) == []


def test_zero_length_interval_never_matches() -> None:
    assert match_events([(0.0, 2.0)], [(1.0, 1.0)]) == []


def test_assignment_maximizes_matches_where_greedy_fails() -> None:
    # Greedy by largest overlap takes (true 0, det 0) = 0.95 s first, leaving true 1 with no
    # partner. The optimum pairs true 0 with det 1 and true 1 with det 0: two matches.
    true = [(0.0, 1.0), (0.9, 1.05)]
    detected = [(0.05, 1.0), (0.0, 0.1)]

    assert match_events(true, detected) == [(0, 1), (1, 0)]
    assert score_events(true, detected).tp == 2


def test_assignment_maximizes_total_overlap_among_maximal_matchings() -> None:
    # Both matchings have two pairs; the crossed one has 1.8 s of overlap against 0.2 s.
    true = [(0.0, 1.0), (1.0, 2.0)]
    detected = [(0.9, 1.9), (0.1, 1.1)]

    assert match_events(true, detected) == [(0, 1), (1, 0)]


def test_match_order_does_not_depend_on_input_order() -> None:
    true = [(4.0, 5.0), (0.0, 1.0), (2.0, 3.0)]
    detected = [(2.5, 3.5), (0.5, 1.5)]

    assert match_events(true, detected) == [(1, 1), (2, 0)]


def test_timing_errors_are_detected_minus_true_in_truth_order() -> None:
    true = [(10.0, 12.0), (1.0, 2.0)]
    detected = [(0.9, 2.3), (10.2, 11.5)]

    scores = score_events(true, detected)
    np.testing.assert_allclose(scores.onset_errors_s, [0.2, -0.1])
    np.testing.assert_allclose(scores.offset_errors_s, [-0.5, 0.3])


@pytest.mark.parametrize(
    ("true", "detected", "expected"),
    [
        ([], [], (1.0, 1.0, 1.0)),
        ([(0.0, 1.0)], [], (1.0, 0.0, 0.0)),
        ([], [(0.0, 1.0)], (0.0, 1.0, 0.0)),
    ],
)
def test_empty_sides_have_defined_scores(
    true: list[tuple[float, float]],
    detected: list[tuple[float, float]],
    expected: tuple[float, float, float],
) -> None:
    scores = score_events(true, detected)
    assert (scores.precision, scores.recall, scores.f1) == expected
    assert scores.onset_errors_s.shape == (0,)
    assert scores.offset_errors_s.shape == (0,)


def test_scores_accept_an_array_of_shape_n_by_2() -> None:
    scores = score_events(np.array([[0.0, 1.0]]), np.array([[0.5, 1.5]]))
    assert isinstance(scores, EventScores)
    assert scores.tp == 1


@pytest.mark.parametrize(
    "bad",
    [[(1.0, 0.0)], [(0.0, math.nan)], [(0.0, 1.0, 2.0)]],
)
def test_malformed_intervals_are_rejected(bad: list[tuple[float, ...]]) -> None:
    with pytest.raises(ValueError, match="true"):
        match_events(bad, [(0.0, 1.0)])  # type: ignore[arg-type]


_interval = st.tuples(st.floats(0.0, 20.0, allow_nan=False), st.floats(0.0, 5.0, allow_nan=False)).map(
    lambda start_length: (start_length[0], start_length[0] + start_length[1])
)


@settings(max_examples=300, deadline=None)
@given(true=st.lists(_interval, max_size=12), detected=st.lists(_interval, max_size=12))
def test_counts_are_consistent_and_each_index_matches_at_most_once(
    true: list[tuple[float, float]], detected: list[tuple[float, float]]
) -> None:
    matches = match_events(true, detected)
    scores = score_events(true, detected)

    assert scores.tp + scores.fn == len(true)
    assert scores.tp + scores.fp == len(detected)
    assert len({t for t, _ in matches}) == len(matches)
    assert len({d for _, d in matches}) == len(matches)
    assert all(_overlap_s(true[t], detected[d]) > 0 for t, d in matches)


@settings(max_examples=200, deadline=None)
@given(true=st.lists(_interval, max_size=5), detected=st.lists(_interval, max_size=5))
def test_matching_is_optimal_against_brute_force(
    true: list[tuple[float, float]], detected: list[tuple[float, float]]
) -> None:
    matches = match_events(true, detected)
    best_count, best_overlap_s = _brute_force_best(true, detected)

    assert len(matches) == best_count
    total_s = sum(_overlap_s(true[t], detected[d]) for t, d in matches)
    assert total_s == pytest.approx(best_overlap_s, abs=1e-9)


def test_confusion_matrix_rows_are_true_columns_are_predicted() -> None:
    labels = ["tonic", "clonus", "myoclonic"]
    matrix = confusion_matrix(
        ["tonic", "tonic", "clonus", "myoclonic"],
        ["tonic", "clonus", "clonus", "tonic"],
        labels,
    )
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 0]])
    assert matrix.dtype == np.int64


def test_confusion_matrix_rejects_unknown_labels_and_length_mismatch() -> None:
    with pytest.raises(ValueError, match="not in labels"):
        confusion_matrix(["tonic"], ["mixed"], ["tonic", "clonus"])
    with pytest.raises(ValueError, match="length"):
        confusion_matrix(["tonic"], [], ["tonic"])


def test_format_confusion_is_an_aligned_table() -> None:
    text = format_confusion(np.array([[12, 0], [3, 100]]), ["tonic", "clonus"])
    lines = text.splitlines()

    assert len(lines) == 3
    assert len({len(line) for line in lines}) == 1  # every line the same width
    assert lines[0].split()[-2:] == ["tonic", "clonus"]
    assert lines[1].split() == ["tonic", "12", "0"]
    assert lines[2].split() == ["clonus", "3", "100"]


def test_format_confusion_rejects_a_matrix_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        format_confusion(np.zeros((2, 3)), ["a", "b"])


def test_error_summary_is_median_and_p90_of_magnitude_in_ms() -> None:
    median_ms, p90_ms = summarize_errors_ms(np.array([-0.010, 0.020, 0.030]))
    assert median_ms == pytest.approx(20.0)
    assert p90_ms == pytest.approx(28.0)


def test_error_summary_of_nothing_is_nan() -> None:
    median_ms, p90_ms = summarize_errors_ms([])
    assert math.isnan(median_ms)
    assert math.isnan(p90_ms)
