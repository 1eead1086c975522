"""Feature importances per input column, comparable across model families.

Permutation importance on held-out rows measures each original column (not each
one-hot column), which is what drift weighting and the dashboard need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline


def feature_importances(
    pipeline: Pipeline,
    frame: pd.DataFrame,
    labels: pd.Series,
    *,
    scoring: str,
    seed: int,
    max_rows: int = 2_000,
    repeats: int = 3,
) -> dict[str, float]:
    """Share of the score lost when each column is shuffled; non-negative, sums to 1 (or all 0)."""
    if len(frame) > max_rows:
        sample = frame.sample(n=max_rows, random_state=seed)
        frame, labels = sample, labels.loc[sample.index]
    result = permutation_importance(
        pipeline, frame, labels, scoring=scoring, n_repeats=repeats, random_state=seed, n_jobs=1
    )
    drops = np.clip(np.asarray(result.importances_mean, dtype=float), 0.0, None)
    total = float(drops.sum())
    shares = drops / total if total > 0 else drops
    return {str(name): float(share) for name, share in zip(frame.columns, shares, strict=True)}
