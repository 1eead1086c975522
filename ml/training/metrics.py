"""Classification metrics on a labelled frame, in the schema's class order.

Undefined metrics (ROC AUC when the labels hold one class only) are None rather
than an exception, so a small gate holdout still produces a report.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline

from ml.schema import DatasetSchema, labels_as_strings


def predict_with_probabilities(
    pipeline: Pipeline, frame: pd.DataFrame, classes: tuple[str, ...] | list[str]
) -> tuple[pd.Series, pd.DataFrame]:
    """Predicted labels and probabilities with one column per schema class (0 when unseen)."""
    raw = pipeline.predict_proba(frame)
    fitted = [str(c) for c in pipeline.classes_]
    probabilities = pd.DataFrame(0.0, index=frame.index, columns=list(classes))
    for position, name in enumerate(fitted):
        probabilities[name] = raw[:, position]
    predicted = pd.Series(
        np.asarray(fitted, dtype=object)[raw.argmax(axis=1)], index=frame.index, dtype=object
    )
    return predicted, probabilities


def classification_metrics(
    labels: pd.Series,
    predicted: pd.Series,
    probabilities: pd.DataFrame,
    classes: tuple[str, ...] | list[str],
) -> dict[str, Any]:
    """accuracy, balanced_accuracy, macro f1, roc_auc, log_loss, n_rows and the confusion matrix."""
    truth = labels_as_strings(labels).to_numpy(dtype=object)
    guess = predicted.to_numpy(dtype=object)
    classes = list(classes)
    present = sorted(set(truth))
    with warnings.catch_warnings():
        # A small holdout may lack a predicted class; the metric is still defined.
        warnings.simplefilter("ignore", UserWarning)
        balanced = float(balanced_accuracy_score(truth, guess))
    metrics: dict[str, Any] = {
        "n_rows": len(truth),
        "accuracy": float(accuracy_score(truth, guess)),
        "balanced_accuracy": balanced,
        "f1": float(f1_score(truth, guess, labels=present, average="macro", zero_division=0)),
        "roc_auc": _roc_auc(truth, probabilities, classes),
        "log_loss": float(log_loss(truth, _clipped(probabilities), labels=classes)),
        "classes": classes,
        "confusion_matrix": confusion_matrix(truth, guess, labels=classes).tolist(),
    }
    return metrics


def evaluate(
    pipeline: Pipeline, frame: pd.DataFrame, labels: pd.Series, schema: DatasetSchema
) -> dict[str, Any]:
    """Score a fitted Pipeline on labelled rows (the gate scores champion and candidate alike)."""
    if len(frame) == 0:
        raise ValueError("cannot evaluate on zero rows")
    predicted, probabilities = predict_with_probabilities(pipeline, frame, schema.classes)
    return classification_metrics(labels, predicted, probabilities, schema.classes)


def _roc_auc(truth: np.ndarray, probabilities: pd.DataFrame, classes: list[str]) -> float | None:
    present = set(truth)
    if len(present) < 2:
        return None
    if len(classes) == 2:
        return float(roc_auc_score(truth == classes[1], probabilities[classes[1]].to_numpy()))
    # Macro one-vs-rest over the classes that occur; renormalise over them.
    used = [c for c in classes if c in present]
    scores = probabilities[used].to_numpy()
    totals = scores.sum(axis=1, keepdims=True)
    scores = np.divide(scores, totals, out=np.full_like(scores, 1 / len(used)), where=totals > 0)
    if len(used) == 2:
        return float(roc_auc_score(truth == used[1], scores[:, 1]))
    return float(roc_auc_score(truth, scores, multi_class="ovr", average="macro", labels=used))


def _clipped(probabilities: pd.DataFrame) -> np.ndarray:
    # A class the model never saw has probability 0; log loss needs it finite.
    values = np.clip(probabilities.to_numpy(dtype=float), 1e-15, 1.0)
    return values / values.sum(axis=1, keepdims=True)
