"""Realised performance on labelled rows, with confidence intervals, against the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ml.evaluation.report import MetricCheck, PerformanceDrift
from ml.evaluation.sketch import category_key


def realised_metrics(
    labels: pd.Series,
    predictions: pd.Series,
    scores: np.ndarray | None,
    classes: list[str],
    confidence: float = 0.95,
) -> dict[str, MetricCheck]:
    """Accuracy (Wilson interval) and, for binary scores, ROC AUC (Hanley-McNeil interval)."""
    truth, truth_missing = _keys(labels)
    predicted, predicted_missing = _keys(predictions)
    if truth.size != predicted.size:
        raise ValueError(f"{truth.size} labels for {predicted.size} predictions")
    rows = ~truth_missing & ~predicted_missing
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    metrics = {"accuracy": _accuracy(truth[rows] == predicted[rows], z)}
    if scores is not None and len(classes) == 2:
        positive = truth[rows] == classes[1]
        metrics["roc_auc"] = _roc_auc(positive, np.asarray(scores, dtype=np.float64)[rows], z)
    return metrics


def compare_performance(
    reference_metrics: dict[str, float],
    labels: pd.Series,
    predictions: pd.Series | None,
    scores: np.ndarray | None,
    classes: list[str],
    *,
    threshold: float,
    alpha: float,
    min_samples: int,
) -> PerformanceDrift:
    """Degraded when a metric dropped by at least `threshold` and its interval excludes the reference."""
    n_labeled = int(labels.notna().sum())
    if predictions is None:
        return PerformanceDrift(
            None, "no predictions to score against the labels", n_labeled, threshold
        )
    if n_labeled < min_samples:
        reason = f"{n_labeled} labelled rows (at least {min_samples} needed)"
        return PerformanceDrift(None, reason, n_labeled, threshold)
    metrics = realised_metrics(labels, predictions, scores, classes, confidence=1 - alpha)
    reasons = []
    for name, check in metrics.items():
        check.reference = reference_metrics.get(name)
        if check.reference is None or check.realised is None or check.ci_high is None:
            continue
        check.drop = check.reference - check.realised
        check.degraded = check.drop >= threshold and check.ci_high < check.reference
        verb = "dropped" if check.degraded else "held"
        reasons.append(
            f"{name} {verb}: {check.realised:.3f} [{check.ci_low:.3f}, {check.ci_high:.3f}]"
            f" vs reference {check.reference:.3f}"
        )
    judged = [check.degraded for check in metrics.values() if check.degraded is not None]
    if not judged:
        return PerformanceDrift(
            None, "no reference metrics to compare with", n_labeled, threshold, metrics
        )
    return PerformanceDrift(any(judged), "; ".join(reasons), n_labeled, threshold, metrics)


def _keys(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(pd.Series(series), use_na_sentinel=True)
    names = np.array([category_key(value) for value in uniques] + [""], dtype=object)
    return names[codes], codes < 0


def _accuracy(correct: np.ndarray, z: float) -> MetricCheck:
    n = correct.size
    if n == 0:
        return MetricCheck("accuracy", None, None, None)
    share = float(correct.mean())
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return MetricCheck("accuracy", share, float(centre - half), float(centre + half))


def _roc_auc(positive: np.ndarray, scores: np.ndarray, z: float) -> MetricCheck:
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    finite = np.isfinite(scores)
    if n_pos == 0 or n_neg == 0 or not finite.all():
        return MetricCheck("roc_auc", None, None, None)
    ranks = stats.rankdata(scores)
    auc = float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    half = z * float(np.sqrt(max(variance, 0.0)))
    return MetricCheck("roc_auc", auc, max(0.0, auc - half), min(1.0, auc + half))
