"""Event-level scoring of detected activation intervals against ground truth.

An *event* is an interval ``(onset_s, offset_s)`` in seconds. A true event and a detected
event may be matched only if they overlap (their intersection is longer than zero), and each
event is matched at most once. Among all such one-to-one matchings, :func:`match_events`
returns one that first maximizes the number of matches and then the total overlap, so the
score of a detector never depends on the order in which it reported its events.

Everything here is pure numpy/scipy; nothing depends on the detector being scored.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MS_PER_S = 1000.0


def match_events(
    true: Sequence[tuple[float, float]] | FloatArray,
    detected: Sequence[tuple[float, float]] | FloatArray,
) -> list[tuple[int, int]]:
    """Match true and detected intervals one-to-one by overlap.

    Parameters
    ----------
    true : sequence of (onset_s, offset_s), or array_like, shape (n_true, 2)
        Ground-truth intervals, in s. Order does not matter.
    detected : sequence of (onset_s, offset_s), or array_like, shape (n_detected, 2)
        Detected intervals, in s. Order does not matter.

    Returns
    -------
    list of (int, int)
        Pairs ``(true_index, detected_index)`` sorted by ``true_index``. Every index appears
        at most once, and every pair overlaps by more than zero seconds.

    Raises
    ------
    ValueError
        If an interval is not finite or ends before it starts.

    Notes
    -----
    The assignment is exact: it maximizes the number of matched pairs, and among those the
    total overlap (s). It is solved with :func:`scipy.optimize.linear_sum_assignment` on each
    connected component of the overlap graph, so long recordings with thousands of events
    cost no more than many small problems. Zero-length intervals overlap nothing and are
    never matched.

    Examples
    --------
    A detection spanning two true events is matched to the one it overlaps more:

    >>> match_events([(0.0, 1.0), (2.0, 3.0)], [(0.5, 2.9)])
    [(1, 0)]
    """
    true_s = _as_intervals(true, "true")
    detected_s = _as_intervals(detected, "detected")
    pairs = _overlapping_pairs(true_s, detected_s)
    if not pairs:
        return []

    matches: list[tuple[int, int]] = []
    for true_idx, det_idx in _components(pairs, len(true_s)):
        overlap_s = _overlap_matrix(true_s[true_idx], detected_s[det_idx])
        # Lexicographic objective as one weight: any extra match is worth more than all the
        # overlap in the component, so the count is maximized first, then the total overlap.
        match_bonus = 1.0 + float(overlap_s.sum())
        weight = np.where(overlap_s > 0.0, match_bonus + overlap_s, 0.0)
        rows, cols = linear_sum_assignment(weight, maximize=True)
        for row, col in zip(rows, cols, strict=True):
            if overlap_s[row, col] > 0.0:
                matches.append((int(true_idx[row]), int(det_idx[col])))
    matches.sort()
    return matches


@dataclass(frozen=True, slots=True)
class EventScores:
    """Event-level detection scores of one detector on one recording.

    Attributes
    ----------
    tp, fp, fn : int
        Matched true events; detections matched to nothing; true events left unmatched.
    precision, recall, f1 : float
        ``tp / (tp + fp)`` (1 when nothing was detected), ``tp / (tp + fn)`` (1 when there is
        nothing to detect), and their harmonic mean (0 when both are 0).
    onset_errors_s, offset_errors_s : ndarray, shape (tp,)
        Detected minus true onset (offset), in s, for each matched pair, in the order of the
        true events. Positive means the detector was late.
    """

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    onset_errors_s: FloatArray
    offset_errors_s: FloatArray


def score_events(
    true: Sequence[tuple[float, float]] | FloatArray,
    detected: Sequence[tuple[float, float]] | FloatArray,
) -> EventScores:
    """Score detected intervals against true intervals after :func:`match_events`.

    Parameters
    ----------
    true : sequence of (onset_s, offset_s), or array_like, shape (n_true, 2)
        Ground-truth intervals, in s.
    detected : sequence of (onset_s, offset_s), or array_like, shape (n_detected, 2)
        Detected intervals, in s.

    Returns
    -------
    EventScores
        Counts, precision, recall, F1 and the per-match timing errors.

    Raises
    ------
    ValueError
        If an interval is not finite or ends before it starts.

    Examples
    --------
    >>> s = score_events([(1.0, 2.0), (5.0, 6.0)], [(1.1, 2.2), (8.0, 9.0)])
    >>> s.tp, s.fp, s.fn, s.f1
    (1, 1, 1, 0.5)
    >>> s.onset_errors_s.round(3).tolist()
    [0.1]
    """
    true_s = _as_intervals(true, "true")
    detected_s = _as_intervals(detected, "detected")
    matches = match_events(true_s, detected_s)
    tp = len(matches)
    fp = len(detected_s) - tp
    fn = len(true_s) - tp
    precision = tp / len(detected_s) if len(detected_s) else 1.0
    recall = tp / len(true_s) if len(true_s) else 1.0
    f1 = 2.0 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    true_idx = np.array([t for t, _ in matches], dtype=np.int64)
    det_idx = np.array([d for _, d in matches], dtype=np.int64)
    errors_s = detected_s[det_idx] - true_s[true_idx]  # shape (tp, 2)
    return EventScores(
        tp=tp,
        fp=fp,
        fn=fn,
        precision=precision,
        recall=recall,
        f1=f1,
        onset_errors_s=errors_s[:, 0].copy(),
        offset_errors_s=errors_s[:, 1].copy(),
    )


def confusion_matrix(
    true_labels: Sequence[Hashable],
    predicted_labels: Sequence[Hashable],
    labels: Sequence[Hashable],
) -> IntArray:
    """Count how often each true label was predicted as each label.

    Parameters
    ----------
    true_labels : sequence, length n
        True class of each item (for example the spasm type of each matched event).
    predicted_labels : sequence, length n
        Predicted class of the same items, in the same order.
    labels : sequence, length k
        All classes, in the order of the rows and columns. Must be unique.

    Returns
    -------
    ndarray of int64, shape (k, k)
        ``matrix[i, j]`` counts items of true class ``labels[i]`` predicted as ``labels[j]``.

    Raises
    ------
    ValueError
        If the two label sequences differ in length, ``labels`` repeats a class, or an item's
        label is not in ``labels``.

    Examples
    --------
    >>> confusion_matrix(["tonic", "clonus"], ["tonic", "tonic"], ["tonic", "clonus"])
    array([[1, 0],
           [1, 0]])
    """
    if len(true_labels) != len(predicted_labels):
        raise ValueError(
            f"true_labels and predicted_labels differ in length: "
            f"{len(true_labels)} != {len(predicted_labels)}"
        )
    position = {label: i for i, label in enumerate(labels)}
    if len(position) != len(labels):
        raise ValueError(f"labels must be unique, got {list(labels)!r}")
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for true_label, predicted_label in zip(true_labels, predicted_labels, strict=True):
        for label in (true_label, predicted_label):
            if label not in position:
                raise ValueError(f"label {label!r} is not in labels {list(labels)!r}")
        matrix[position[true_label], position[predicted_label]] += 1
    return matrix


def format_confusion(matrix: npt.ArrayLike, labels: Sequence[Hashable]) -> str:
    """Render a confusion matrix as a plain-text table.

    Parameters
    ----------
    matrix : array_like of int, shape (k, k)
        Counts as returned by :func:`confusion_matrix`: rows are true, columns predicted.
    labels : sequence, length k
        Class names, in row/column order.

    Returns
    -------
    str
        A right-aligned table, one line per true class, with a header of predicted classes.

    Raises
    ------
    ValueError
        If ``matrix`` is not square with one row per label.

    Examples
    --------
    >>> print(format_confusion([[3, 1], [0, 2]], ["tonic", "clonus"]))
    true \\ predicted  tonic  clonus
               tonic      3       1
              clonus      0       2
    """
    counts = np.asarray(matrix)
    k = len(labels)
    if counts.shape != (k, k):
        raise ValueError(f"matrix must have shape ({k}, {k}) for {k} labels, got {counts.shape}")
    corner = "true \\ predicted"
    names = [str(label) for label in labels]
    cells = [[str(int(v)) for v in row] for row in counts]
    first_width = max([len(corner), *(len(n) for n in names)])
    widths = [max([len(names[j]), *(len(cells[i][j]) for i in range(k))]) for j in range(k)]
    lines = [
        "  ".join([corner.rjust(first_width), *(n.rjust(w) for n, w in zip(names, widths, strict=True))])
    ]
    for name, row in zip(names, cells, strict=True):
        lines.append(
            "  ".join([name.rjust(first_width), *(c.rjust(w) for c, w in zip(row, widths, strict=True))])
        )
    return "\n".join(lines)


def summarize_errors_ms(errors_s: Sequence[float] | FloatArray) -> tuple[float, float]:
    """Summarize timing errors as median and 90th percentile of their magnitude.

    Parameters
    ----------
    errors_s : sequence of float, or array_like, shape (n,)
        Signed timing errors, in s (for example :attr:`EventScores.onset_errors_s`).

    Returns
    -------
    tuple of float
        ``(median |error| in ms, 90th percentile |error| in ms)``; both nan when there are
        no errors.

    Examples
    --------
    >>> summarize_errors_ms([-0.010, 0.020, 0.030])
    (20.0, 28.0)
    >>> summarize_errors_ms([])
    (nan, nan)
    """
    magnitude_ms = np.abs(np.asarray(errors_s, dtype=np.float64).ravel()) * MS_PER_S
    if magnitude_ms.size == 0:
        return (float("nan"), float("nan"))
    return (float(np.median(magnitude_ms)), float(np.percentile(magnitude_ms, 90.0)))


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _as_intervals(intervals: Sequence[tuple[float, float]] | FloatArray, name: str) -> FloatArray:
    """Validate intervals and return them as a float array of shape (n, 2)."""
    array = np.asarray(intervals, dtype=np.float64)
    if array.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must be a sequence of (onset_s, offset_s) pairs, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds a non-finite onset or offset")
    backwards = np.flatnonzero(array[:, 1] < array[:, 0])
    if backwards.size:
        i = int(backwards[0])
        raise ValueError(f"{name}[{i}] ends before it starts: onset {array[i, 0]} s > offset {array[i, 1]} s")
    return array


def _overlap_matrix(true_s: FloatArray, detected_s: FloatArray) -> FloatArray:
    """Overlap in s of every true interval with every detected interval, shape (n, m)."""
    start = np.maximum(true_s[:, None, 0], detected_s[None, :, 0])
    stop = np.minimum(true_s[:, None, 1], detected_s[None, :, 1])
    overlap: FloatArray = np.clip(stop - start, 0.0, None)
    return overlap


def _overlapping_pairs(true_s: FloatArray, detected_s: FloatArray) -> list[tuple[int, int]]:
    """All (true, detected) index pairs that overlap, found by one sweep over the onsets."""
    true_kind, detected_kind = 0, 1
    starts: list[tuple[float, int, int]] = []
    for kind, intervals in ((true_kind, true_s), (detected_kind, detected_s)):
        for i, (onset_s, offset_s) in enumerate(intervals):
            if offset_s > onset_s:  # zero-length intervals overlap nothing
                starts.append((float(onset_s), kind, i))
    starts.sort()

    # Intervals already started and not yet known to have ended, per kind: (offset_s, index).
    active: dict[int, list[tuple[float, int]]] = {true_kind: [], detected_kind: []}
    pairs: list[tuple[int, int]] = []
    for onset_s, kind, i in starts:
        other = detected_kind if kind == true_kind else true_kind
        # An earlier interval overlaps this one exactly when it ends after this one starts.
        still = [(end_s, j) for end_s, j in active[other] if end_s > onset_s]
        active[other] = still
        for _, j in still:
            pairs.append((i, j) if kind == true_kind else (j, i))
        offset_s = float(true_s[i, 1] if kind == true_kind else detected_s[i, 1])
        active[kind].append((offset_s, i))
    return pairs


def _components(pairs: list[tuple[int, int]], n_true: int) -> list[tuple[IntArray, IntArray]]:
    """Split the bipartite overlap graph into connected components (union-find).

    Returns one ``(true_indices, detected_indices)`` pair of sorted arrays per component.
    """
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    # Nodes: true index t -> t, detected index d -> n_true + d.
    for t, d in pairs:
        root_t, root_d = find(t), find(n_true + d)
        if root_t != root_d:
            parent[root_d] = root_t

    members: dict[int, tuple[list[int], list[int]]] = {}
    for node in parent:
        true_members, detected_members = members.setdefault(find(node), ([], []))
        if node < n_true:
            true_members.append(node)
        else:
            detected_members.append(node - n_true)
    return [
        (np.array(sorted(t), dtype=np.int64), np.array(sorted(d), dtype=np.int64))
        for t, d in members.values()
    ]
