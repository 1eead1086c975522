"""Train one scikit-learn Pipeline from a normalised frame: select a family, fit, evaluate, profile.

Pure: no MLflow, no database. The registry logs a `TrainingResult`; the
retraining gate calls `evaluate` on champion and candidate with the same rows.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ml.evaluation import ReferenceProfile
from ml.schema import DatasetSchema, labels_as_strings
from ml.training.config import TrainerConfig
from ml.training.families import build_pipeline
from ml.training.fingerprint import data_fingerprint
from ml.training.importance import feature_importances
from ml.training.metrics import classification_metrics, evaluate, predict_with_probabilities
from shared.errors import InputError

Progress = Callable[[str], None]
_SCORERS = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "f1": "f1_macro"}


@dataclass
class TrainingResult:
    pipeline: Pipeline
    family: str
    schema: DatasetSchema
    config: TrainerConfig
    primary_metric: str
    cv_scores: dict[str, dict[str, Any]]  # family -> {mean, std, folds, fit_seconds}
    metrics: dict[str, Any]  # holdout: scalar metrics + classes + confusion_matrix
    feature_importances: dict[str, float]
    reference_profile: dict[str, Any]
    fingerprint: dict[str, Any]
    class_weighting: str | None
    holdout_index: pd.Index
    n_train: int
    input_example: pd.DataFrame  # a few training rows, logged with the model
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_holdout(self) -> int:
        return len(self.holdout_index)

    @property
    def scalar_metrics(self) -> dict[str, float]:
        """Holdout metrics that are defined numbers (what MLflow can log)."""
        return {
            key: float(value)
            for key, value in self.metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and key != "n_rows"
        }

    def summary(self) -> dict[str, Any]:
        """JSON-ready record of how this model was made (travels with the model)."""
        return {
            "family": self.family,
            "primary_metric": self.primary_metric,
            "metrics": self.metrics,
            "cv_scores": self.cv_scores,
            "feature_importances": self.feature_importances,
            "fingerprint": self.fingerprint,
            "class_weighting": self.class_weighting,
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "seed": self.config.seed,
            "timings": self.timings,
        }


def train(
    frame: pd.DataFrame,
    labels: pd.Series,
    schema: DatasetSchema,
    config: TrainerConfig | None = None,
    progress: Progress | None = None,
    *,
    times: pd.Series | None = None,
    holdout: pd.Series | None = None,
) -> TrainingResult:
    """Select a family by stratified CV on the training split, fit it, score it on the holdout.

    `frame` is normalised (ml.schema.normalize_frame) and `labels` hold no missing
    values; `holdout` (a boolean mask on frame's index) overrides the random split.
    """
    config = config or TrainerConfig()
    with threadpool_limits(limits=config.native_threads):
        return _train(frame, labels, schema, config, progress, times, holdout)


def _train(
    frame: pd.DataFrame,
    labels: pd.Series,
    schema: DatasetSchema,
    config: TrainerConfig,
    progress: Progress | None,
    times: pd.Series | None,
    holdout: pd.Series | None,
) -> TrainingResult:
    report = progress or (lambda _message: None)
    labels = labels_as_strings(labels)
    metric = config.metric_for(schema.task)
    _check_trainable(labels, config)
    clock: dict[str, float] = {}

    started = time.perf_counter()
    train_index, holdout_index = _split(labels, config, holdout)
    x_train, y_train = frame.loc[train_index], labels.loc[train_index]
    weighting = _class_weighting(y_train, config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        cv_scores = _cross_validate(x_train, y_train, schema, config, metric, weighting, report)
        clock["selection_seconds"] = time.perf_counter() - started
        family = _best(cv_scores, config.families)
        report(f"fitting {family} on {len(x_train):,} rows")
        fit_started = time.perf_counter()
        pipeline = build_pipeline(
            family, schema, seed=config.seed, class_weight=weighting, n_jobs=config.n_jobs
        )
        pipeline.fit(x_train, y_train)
        _predict_serially(pipeline)
        clock["fit_seconds"] = time.perf_counter() - fit_started

    report(f"evaluating on {len(holdout_index):,} held-out rows")
    x_holdout, y_holdout = frame.loc[holdout_index], labels.loc[holdout_index]
    predicted, probabilities = predict_with_probabilities(pipeline, x_holdout, schema.classes)
    metrics = classification_metrics(y_holdout, predicted, probabilities, schema.classes)
    importances = feature_importances(
        pipeline,
        x_holdout,
        y_holdout,
        scoring=_scorer(metric, schema.task),
        seed=config.seed,
        max_rows=config.importance_max_rows,
        repeats=config.importance_repeats,
    )
    profile = ReferenceProfile.fit(
        frame,  # features: every training row; outputs: out-of-sample, on the holdout
        numeric=schema.numeric,
        categorical=schema.categorical,
        predictions=predicted,
        probabilities=probabilities,
        labels=y_holdout,
        reference_metrics={k: v for k, v in metrics.items() if isinstance(v, float)},
        importances=importances,
    ).to_dict()
    clock["total_seconds"] = time.perf_counter() - started
    return TrainingResult(
        pipeline=pipeline,
        family=family,
        schema=schema,
        config=config,
        primary_metric=metric,
        cv_scores=cv_scores,
        metrics=metrics,
        feature_importances=importances,
        reference_profile=profile,
        fingerprint=data_fingerprint(frame, labels, times),
        class_weighting=weighting,
        holdout_index=holdout_index,
        n_train=len(train_index),
        input_example=x_train.head(5).reset_index(drop=True),
        timings=clock,
    )


def _predict_serially(pipeline: Pipeline) -> None:
    """Fit in parallel, predict on one core: thread start-up dominates small serving batches."""
    estimator = pipeline.steps[-1][1]
    if "n_jobs" in estimator.get_params():
        estimator.set_params(n_jobs=1)


def _check_trainable(labels: pd.Series, config: TrainerConfig) -> None:
    """Enough labelled rows for the holdout and every CV fold; InputError saying what to do."""
    if labels.isna().any():
        raise InputError("labels contain missing values; drop unlabelled rows before training")
    if len(labels) < config.min_rows:
        raise InputError(
            f"only {len(labels)} labelled rows; training needs at least {config.min_rows}"
        )
    counts = labels.value_counts()
    if len(counts) < 2:
        raise InputError(f"the labels hold a single class ({counts.index[0]}); need at least two")
    needed = int(np.ceil((config.cv_folds + 1) / (1 - config.holdout_fraction)))
    rare = counts[counts < needed]
    if len(rare):
        listed = ", ".join(f"{name!r} ({n})" for name, n in rare.items())
        raise InputError(
            f"too few rows for class {listed}: holdout and {config.cv_folds}-fold "
            f"cross-validation need at least {needed} per class; add rows or merge rare classes"
        )


def _split(
    labels: pd.Series, config: TrainerConfig, holdout: pd.Series | None
) -> tuple[pd.Index, pd.Index]:
    if holdout is not None:
        mask = holdout.reindex(labels.index).fillna(False).astype(bool)
        return labels.index[~mask], labels.index[mask]
    train_index, holdout_index = train_test_split(
        labels.index,
        test_size=config.holdout_fraction,
        stratify=labels,
        random_state=config.seed,
    )
    return pd.Index(train_index), pd.Index(holdout_index)


def _class_weighting(labels: pd.Series, config: TrainerConfig) -> str | None:
    if config.class_weighting == "none":
        return None
    if config.class_weighting == "balanced":
        return "balanced"
    counts = labels.value_counts()
    return "balanced" if counts.min() < config.imbalance_ratio * counts.max() else None


def _cross_validate(
    frame: pd.DataFrame,
    labels: pd.Series,
    schema: DatasetSchema,
    config: TrainerConfig,
    metric: str,
    weighting: str | None,
    report: Progress,
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
            pipeline, frame, labels, cv=folds, scoring=_scorer(metric, schema.task)
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


def _best(cv_scores: dict[str, dict[str, Any]], families: tuple[str, ...]) -> str:
    """Highest mean CV score (lowest for log loss); ties go to the earlier (simpler) family."""
    sign = -1.0 if next(iter(cv_scores.values()))["metric"] == "log_loss" else 1.0
    return max(families, key=lambda f: (sign * cv_scores[f]["mean"], -families.index(f)))


def _scorer(metric: str, task: str) -> str:
    if metric == "roc_auc":
        return "roc_auc" if task == "binary" else "roc_auc_ovr"
    if metric == "log_loss":
        return "neg_log_loss"
    return _SCORERS[metric]


__all__ = ["Progress", "TrainerConfig", "TrainingResult", "evaluate", "train"]
