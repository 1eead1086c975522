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
    Wasserstein-1 integrates the window's CDF exactly, takes the reference as spread evenly
    inside each bin, and is divided by the reference standard deviation.
    """
    edges, n_current = sketch.edges, finite_sorted.size
    cumulative_current = np.searchsorted(finite_sorted, edges, side="right")
    below_current = np.searchsorted(finite_sorted, edges, side="left")
    reference_at = sketch.cumulative / sketch.n_valid
    reference_below = reference_at - sketch.ties / sketch.n_valid
    gap_at = cumulative_current / n_current - reference_at
    gap_below = below_current / n_current - reference_below
    ks_statistic = float(max(np.abs(gap_at).max(), np.abs(gap_below).max()))

    prefix = np.concatenate([[0.0], np.cumsum(finite_sorted)])
    start, stop = cumulative_current[:-1], below_current[1:]  # window values inside each bin
    inside_count = stop - start
    inside_mean = np.where(
        inside_count > 0, (prefix[stop] - prefix[start]) / np.maximum(inside_count, 1), edges[1:]
    )
    inner = _inner_wasserstein(
        edges, gap_at, gap_below, reference_below[1:] - reference_at[:-1],
        inside_count / n_current, inside_mean,
    )  # fmt: skip

    low_count = int(below_current[0])
    below = low_count * edges[0] - float(prefix[low_count])
    high_start = int(cumulative_current[-1])
    above = float(prefix[-1] - prefix[high_start]) - (n_current - high_start) * edges[-1]
    wasserstein = (inner + (below + above) / n_current) / sketch.std
    return NumericDistance(ks_statistic, wasserstein, cumulative_current)


def _inner_wasserstein(
    edges: np.ndarray,
    gap_at: np.ndarray,
    gap_below: np.ndarray,
    reference_rise: np.ndarray,
    current_rise: np.ndarray,
    current_mean: np.ndarray,
) -> float:
    """Integral of |CDF gap| between the edges.

    Inside a bin the reference rises linearly and the window's values sit at their mean:
    exact for values on the edges or at one point inside a bin, and the signed area is kept.
    """
    left, right = edges[:-1], edges[1:]
    width = right - left
    share = np.divide(current_mean - left, width, out=np.zeros_like(width), where=width > 0)
    before_step = gap_at[:-1] - reference_rise * share
    first = _mean_abs_linear(gap_at[:-1], before_step) * (current_mean - left)
    second = _mean_abs_linear(before_step + current_rise, gap_below[1:]) * (right - current_mean)
    return float(first.sum() + second.sum())


def _mean_abs_linear(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean of |f| over an interval where f runs linearly from `start` to `end`."""
    magnitude = np.abs(start) + np.abs(end)
    safe = np.where(magnitude > 0, magnitude, 1.0)
    crossing = start * end < 0
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
