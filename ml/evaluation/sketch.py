"""Compact, exact-at-the-edges summaries of one column: a quantile sketch or category counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_QUANTILES = 1000
DEFAULT_MAX_CATEGORIES = 100
_EDGE_DIGITS = 7


@dataclass(frozen=True)
class SortedValues:
    """A numeric column split into its sorted finite values and its missing/non-finite counts."""

    finite: np.ndarray
    n_rows: int
    n_missing: int
    n_nonfinite: int


def sorted_numeric(values: pd.Series | np.ndarray) -> SortedValues:
    """Sort a column once; NaN/None count as missing, +-inf as non-finite."""
    if isinstance(values, pd.Series):
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            values = pd.to_numeric(values.astype(object), errors="coerce")
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(values, dtype=np.float64)
    ordered = np.sort(array)  # NaN sorts last; -inf first, +inf just before NaN
    has_missing = ordered.size > 0 and np.isnan(ordered[-1])
    end = int(np.searchsorted(ordered, np.nan, side="left")) if has_missing else ordered.size
    n_missing = ordered.size - end
    start = int(np.searchsorted(ordered[:end], -np.inf, side="right"))
    stop = int(np.searchsorted(ordered[:end], np.inf, side="left"))
    return SortedValues(ordered[start:stop], ordered.size, n_missing, start + end - stop)


@dataclass(frozen=True)
class NumericSketch:
    """Quantile edges with exact reference counts per bin: bin 0 is (-inf, e0], bin j (e[j-1], e[j]].

    `ties` counts the values exactly equal to each edge (discrete data); the rest of a bin's
    count lies strictly inside it.
    """

    edges: np.ndarray
    counts: np.ndarray
    ties: np.ndarray
    n_rows: int
    n_missing: int
    n_nonfinite: int
    mean: float
    std: float

    @property
    def n_valid(self) -> int:
        return int(self.counts.sum())

    @property
    def cumulative(self) -> np.ndarray:
        """Number of reference values at or below each edge."""
        return np.cumsum(self.counts)

    @classmethod
    def fit(
        cls, values: pd.Series | np.ndarray, n_quantiles: int = DEFAULT_QUANTILES
    ) -> NumericSketch:
        """Summarise a column by `n_quantiles` + 1 quantile edges (all values when fewer)."""
        column = sorted_numeric(values)
        finite = column.finite
        if finite.size == 0:
            edges = np.empty(0)
        else:
            positions = np.round(np.linspace(0, finite.size - 1, n_quantiles + 1)).astype(np.int64)
            edges = np.unique(_round_up(finite[positions]))
        at_or_below = np.searchsorted(finite, edges, side="right")
        ties = at_or_below - np.searchsorted(finite, edges, side="left")
        counts = np.diff(at_or_below, prepend=0)
        mean = float(finite.mean()) if finite.size else float("nan")
        std = float(finite.std()) if finite.size else float("nan")
        return cls(
            edges, counts, ties, column.n_rows, column.n_missing, column.n_nonfinite, mean, std
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": self.edges.tolist(),
            "counts": self.counts.tolist(),
            "ties": [[int(i), int(self.ties[i])] for i in np.flatnonzero(self.ties)],
            "n_rows": self.n_rows,
            "n_missing": self.n_missing,
            "n_nonfinite": self.n_nonfinite,
            "mean": _finite_or_none(self.mean),
            "std": _finite_or_none(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSketch:
        counts = np.asarray(data["counts"], dtype=np.int64)
        ties = np.zeros_like(counts)
        for index, count in data.get("ties", []):
            ties[index] = count
        return cls(
            np.asarray(data["edges"], dtype=np.float64),
            counts,
            ties,
            int(data["n_rows"]),
            int(data["n_missing"]),
            int(data["n_nonfinite"]),
            _none_to_nan(data["mean"]),
            _none_to_nan(data["std"]),
        )


@dataclass(frozen=True)
class CategoryCounts:
    """Counts of the most frequent categories (as strings) plus one bucket for all the others."""

    counts: dict[str, int]
    n_other: int
    n_rows: int
    n_missing: int

    @property
    def n_valid(self) -> int:
        return sum(self.counts.values()) + self.n_other

    @classmethod
    def fit(cls, values: pd.Series, max_categories: int = DEFAULT_MAX_CATEGORIES) -> CategoryCounts:
        """Count categories; keep the `max_categories` most frequent, pool the rest."""
        counts, n_missing = count_categories(values)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = dict(ranked[:max_categories])
        n_other = sum(count for _, count in ranked[max_categories:])
        return cls(kept, n_other, len(values), n_missing)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "n_other": self.n_other,
            "n_rows": self.n_rows,
            "n_missing": self.n_missing,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryCounts:
        counts = {str(key): int(value) for key, value in data["counts"].items()}
        return cls(counts, int(data["n_other"]), int(data["n_rows"]), int(data["n_missing"]))


def count_categories(values: pd.Series) -> tuple[dict[str, int], int]:
    """Counts by category key and the number of missing values, in one pass over the column."""
    raw = pd.Series(values).value_counts(dropna=False, sort=False)
    raw = raw[raw.to_numpy() > 0]  # a Categorical dtype lists unused categories too
    missing = pd.isna(raw.index)
    counts: dict[str, int] = {}
    for key, count in zip(raw.index[~missing], raw.to_numpy()[~missing], strict=True):
        name = category_key(key)
        counts[name] = counts.get(name, 0) + int(count)
    return counts, int(raw.to_numpy()[missing].sum())


def category_key(value: object) -> str:
    """Categories compare as strings: 1, 1.0 and "1" are the same category."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _round_up(values: np.ndarray) -> np.ndarray:
    """Shortest decimals (7 significant digits) that are never below the value they stand for.

    Rounding up keeps every reference value at or below its edge, so counts stay exact.
    """
    rounded = np.array([float(f"{v:.{_EDGE_DIGITS}g}") for v in values])
    low = rounded < values
    if low.any():
        step = 10.0 ** (np.floor(np.log10(np.abs(values[low]))) - (_EDGE_DIGITS - 1))
        rounded[low] = [float(f"{v:.{_EDGE_DIGITS}g}") for v in rounded[low] + step]
    return rounded


def _finite_or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _none_to_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
