"""Choosing a model family: stratified cross-validation on the training split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split

from ml.schema import DatasetSchema
from ml.training.config import TrainerConfig
from ml.training.families import build_pipeline

_SCORERS = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "f1": "f1_macro"}


def cross_validate_families(
    frame: pd.DataFrame,
    labels: pd.Series,
    schema: DatasetSchema,
    config: TrainerConfig,
    metric: str,
    weighting: str | None,
    report: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    if len(frame) > config.selection_max_rows:
        kept, _ = train_test_split(
            frame.index,
            train_size=config.selection_max_rows,
            stratify=labels,
            random_state=config.seed,
        )
        frame, labels = frame.loc[kept], labels.loc[kept]
    folds = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
    scores: dict[str, dict[str, Any]] = {}
    for family in config.families:
        report(f"cross-validating {family} ({config.cv_folds} folds, {len(frame):,} rows)")
        pipeline = build_pipeline(
            family, schema, seed=config.seed, class_weight=weighting, n_jobs=config.n_jobs
        )
        result = cross_validate(
            pipeline, frame, labels, cv=folds, scoring=scorer_name(metric, schema.task)
        )
        values = np.asarray(result["test_score"], dtype=float)
        if metric == "log_loss":
            values = -values  # sklearn maximises neg_log_loss; report the loss itself
        scores[family] = {
            "metric": metric,
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
            "folds": [float(v) for v in values],
            "fit_seconds": float(np.sum(result["fit_time"])),
        }
    return scores


def best_family(cv_scores: dict[str, dict[str, Any]], families: tuple[str, ...]) -> str:
    """Highest mean CV score (lowest for log loss); ties go to the earlier (simpler) family."""
    sign = -1.0 if next(iter(cv_scores.values()))["metric"] == "log_loss" else 1.0
    return max(families, key=lambda f: (sign * cv_scores[f]["mean"], -families.index(f)))


def scorer_name(metric: str, task: str) -> str:
    if metric == "roc_auc":
        return "roc_auc" if task == "binary" else "roc_auc_ovr"
    if metric == "log_loss":
        return "neg_log_loss"
    return _SCORERS[metric]
