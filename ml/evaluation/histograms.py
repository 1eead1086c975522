"""Binned reference-vs-current counts for the dashboard, derived from the sketches (no raw data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ml.evaluation.sketch import CategoryCounts, NumericSketch

DISPLAY_BINS = 20
DISPLAY_CATEGORIES = 20
OTHER, UNSEEN = "(other)", "(unseen)"


def display_edge_indices(sketch: NumericSketch, n_bins: int = DISPLAY_BINS) -> np.ndarray:
    """Sketch edges nearest to equal-width bins over the reference's 1st-99th percentiles.

    Display bins are unions of sketch bins, so both sides are counted exactly.
    """
    cumulative = sketch.cumulative
    if cumulative.size == 0:
        return np.empty(0, dtype=np.int64)
    low = int(np.searchsorted(cumulative, 0.01 * cumulative[-1]))
    high = int(np.searchsorted(cumulative, 0.99 * cumulative[-1]))
    targets = np.linspace(sketch.edges[low], sketch.edges[high], n_bins + 1)
    return np.unique(np.clip(np.searchsorted(sketch.edges, targets), low, high))


def numeric_histogram(
    sketch: NumericSketch, cumulative_current: np.ndarray | None, n_current: int
) -> dict[str, list[Any]]:
    """Counts per display bin; the first and last bins are open-ended (they hold the tails)."""
    indices = display_edge_indices(sketch)
    if indices.size == 0:
        return {"bins": [], "reference": [], "current": []}
    bins = sketch.edges[indices].tolist()
    if len(bins) == 1:
        bins = bins * 2
    reference = _bin_counts(sketch.cumulative, indices, sketch.n_valid)
    if cumulative_current is None:
        current = [0] * len(reference)
    else:
        current = _bin_counts(cumulative_current, indices, n_current)
    return {"bins": bins, "reference": reference, "current": current}


def _bin_counts(cumulative: np.ndarray, indices: np.ndarray, total: int) -> list[int]:
    inner = cumulative[indices[1:-1]]
    return np.diff(np.concatenate([[0], inner, [total]])).astype(int).tolist()


def categorical_histogram(
    reference: CategoryCounts, current: dict[str, int] | None
) -> dict[str, list[Any]]:
    """Counts of the most frequent reference categories, the rest pooled, unseen ones apart."""
    current = current or {}
    shown = list(reference.counts)[:DISPLAY_CATEGORIES]
    hidden = list(reference.counts)[DISPLAY_CATEGORIES:]
    categories = list(shown)
    reference_counts = [reference.counts[name] for name in shown]
    current_counts = [current.get(name, 0) for name in shown]
    other_reference = reference.n_other + sum(reference.counts[name] for name in hidden)
    if other_reference:
        categories.append(OTHER)
        reference_counts.append(other_reference)
        current_counts.append(sum(current.get(name, 0) for name in hidden))
    unseen = sum(count for name, count in current.items() if name not in reference.counts)
    if unseen:
        categories.append(UNSEEN)
        reference_counts.append(0)
        current_counts.append(unseen)
    return {"categories": categories, "reference": reference_counts, "current": current_counts}
