"""Effect sizes: how large a change is, independently of how many rows showed it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.evaluation.sketch import NumericSketch

_PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class NumericDistance:
    """KS distance and normalised Wasserstein distance of a window from a reference sketch."""

    ks_statistic: float
    wasserstein: float
    cumulative_current: np.ndarray


def numeric_distance(sketch: NumericSketch, finite_sorted: np.ndarray) -> NumericDistance:
    """Compare sorted finite window values with the sketch at (and just below) its edges.

    Both CDFs are known exactly at each edge and just below it (the sketch keeps ties), so
    KS is exact when every reference value is an edge and within one bin's mass otherwise.
    Wasserstein-1 takes both CDFs as linear inside a bin (exact for data on the edges),
    integrates both tails exactly, and is divided by the reference standard deviation.
    """
    edges, n_current = sketch.edges, finite_sorted.size
    cumulative_current = np.searchsorted(finite_sorted, edges, side="right")
    current_at = cumulative_current / n_current
    current_below = np.searchsorted(finite_sorted, edges, side="left") / n_current
    reference_at = sketch.cumulative / sketch.n_valid
    reference_below = reference_at - sketch.ties / sketch.n_valid
    gap_at, gap_below = current_at - reference_at, current_below - reference_below
    ks_statistic = float(max(np.abs(gap_at).max(), np.abs(gap_below).max()))

    inner = float(np.dot(_mean_abs_linear(gap_at[:-1], gap_below[1:]), np.diff(edges)))
    below_count = int(np.searchsorted(finite_sorted, edges[0], side="left"))
    below = below_count * edges[0] - float(finite_sorted[:below_count].sum())
    above_start = int(cumulative_current[-1])
    above = float(finite_sorted[above_start:].sum()) - (n_current - above_start) * edges[-1]
    wasserstein = (inner + (below + above) / n_current) / sketch.std
    return NumericDistance(ks_statistic, float(wasserstein), cumulative_current)


def _mean_abs_linear(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean of |f| over an interval where f runs linearly from `start` to `end`."""
    magnitude = np.abs(start) + np.abs(end)
    crossing = (start * end) < 0
    safe = np.where(magnitude > 0, magnitude, 1.0)
    return np.where(crossing, (start**2 + end**2) / (2 * safe), magnitude / 2)


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as proportions (all zeros stay zeros)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so in [0, 1]) between two count vectors."""
    p, q = shares(reference), shares(current)
    middle = (p + q) / 2
    divergence = (_kl_bits(p, middle) + _kl_bits(q, middle)) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI between two count vectors, empty buckets floored at 1e-4 as is customary."""
    p = np.maximum(shares(reference), _PSI_FLOOR)
    q = np.maximum(shares(current), _PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def total_variation(reference: np.ndarray, current: np.ndarray) -> float:
    """Half the L1 distance of two distributions: the largest change of any event's share."""
    return float(np.abs(shares(reference) - shares(current)).sum() / 2)


def _kl_bits(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))
