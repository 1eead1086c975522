"""Model outputs and labels: class order, probability scores, and their drift checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.evaluation.columns import compare_categorical, compare_numeric
from ml.evaluation.report import DRIFT, NOT_TESTABLE, FeatureDrift, OutputDrift
from ml.evaluation.sketch import CategoryCounts, NumericSketch, category_key, count_categories
from ml.evaluation.thresholds import ResolvedThresholds
from ml.evaluation.verdicts import decide_feature

Probabilities = np.ndarray | pd.DataFrame


def class_order(
    labels: pd.Series | None, predictions: pd.Series | None, probabilities: Probabilities | None
) -> list[str]:
    """Class names in the order of the probability columns (sorted, as scikit-learn does)."""
    if isinstance(probabilities, pd.DataFrame):
        return [category_key(column) for column in probabilities.columns]
    keys: set[str] = set()
    for series in (labels, predictions):
        if series is not None:
            keys.update(count_categories(series)[0])
    return sorted(keys, key=_numeric_first)


def _numeric_first(key: str) -> tuple[int, float, str]:
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)


def score_values(
    probabilities: Probabilities | None, classes: list[str]
) -> tuple[np.ndarray | None, str | None]:
    """One score per row: P(second class) for binary models, the top probability otherwise."""
    if probabilities is None:
        return None, None
    if isinstance(probabilities, pd.DataFrame):
        named = {category_key(column): column for column in probabilities.columns}
        if classes and set(classes) <= set(named):
            probabilities = probabilities[[named[key] for key in classes]]
    array = np.asarray(probabilities, dtype=np.float64)
    if array.ndim == 1:
        return array, f"P({classes[-1]})" if classes else "P(positive)"
    if array.shape[1] == 2:
        return array[:, 1], f"P({classes[1]})" if len(classes) == 2 else "P(class 1)"
    return array.max(axis=1), "max probability"


def output_checks(
    name: str,
    reference: CategoryCounts | None,
    current: pd.Series | None,
    reference_scores: NumericSketch | None,
    current_scores: np.ndarray | None,
    min_samples: int,
) -> tuple[FeatureDrift | None, FeatureDrift | None]:
    """Class-share check (total variation) and, with probabilities, a score check."""
    classes = None
    if reference is not None and current is not None:
        observed = current[current.notna()]
        classes = compare_categorical(name, reference, observed, min_samples, "total_variation")
        classes.missing_p_value = None  # outputs are never missing; labels arrive late
    scores = None
    if reference_scores is not None and current_scores is not None:
        scores = compare_numeric(f"{name} score", reference_scores, current_scores, min_samples)
        scores.missing_p_value = None
    return classes, scores


def output_verdict(
    classes: FeatureDrift | None,
    scores: FeatureDrift | None,
    class_limits: ResolvedThresholds,
    score_limits: ResolvedThresholds,
    alpha: float,
) -> OutputDrift:
    """Drifted when the class shares or the score distribution drift (layered, as features)."""
    checks = []
    for check, limits in ((classes, class_limits), (scores, score_limits)):
        if check is not None:
            decide_feature(check, limits, alpha)
            checks.append(check)
    drifted = [check for check in checks if check.verdict == DRIFT]
    if drifted:
        return OutputDrift(True, "; ".join(check.reason for check in drifted), classes, scores)
    if all(check.verdict == NOT_TESTABLE for check in checks):
        return OutputDrift(None, "; ".join(check.reason for check in checks), classes, scores)
    return OutputDrift(False, "; ".join(check.reason for check in checks), classes, scores)
