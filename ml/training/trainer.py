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

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ml.evaluation import ReferenceProfile
from ml.schema import DatasetSchema, labels_as_strings
from ml.training.config import TrainerConfig
from ml.training.families import build_pipeline
from ml.training.fingerprint import data_fingerprint
from ml.training.importance import feature_importances
from ml.training.metrics import classification_metrics, evaluate, predict_with_probabilities
from ml.training.selection import best_family, cross_validate_families, scorer_name
from ml.training.splitting import check_trainable, class_weighting, split_holdout

Progress = Callable[[str], None]


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
    check_trainable(labels, config)
    clock: dict[str, float] = {}

    started = time.perf_counter()
    train_index, holdout_index = split_holdout(labels, config, holdout)
    x_train, y_train = frame.loc[train_index], labels.loc[train_index]
    weighting = class_weighting(y_train, config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        cv_scores = cross_validate_families(
            x_train, y_train, schema, config, metric, weighting, report
        )
        clock["selection_seconds"] = time.perf_counter() - started
        family = best_family(cv_scores, config.families)
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
        scoring=scorer_name(metric, schema.task),
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


__all__ = ["Progress", "TrainerConfig", "TrainingResult", "evaluate", "train"]
