"""Train a candidate on a model's stored data and register it: the seam a gated job wraps.

No alias is moved here: whoever calls this (the `mlpipe train` command, a gated
retraining job) decides whether the new version becomes challenger or champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from ml.feature_store import FeatureStore, get_dataset
from ml.training import Progress, TrainerConfig, TrainingResult, train
from registry import ModelRegistry, ModelVersionInfo
from shared.config import Settings
from shared.errors import InputError


@dataclass(frozen=True)
class TrainingOutcome:
    model_name: str
    version: str
    run_id: str | None
    family: str
    metrics: dict[str, Any]  # holdout metrics of the new version
    info: ModelVersionInfo
    result: TrainingResult  # the fitted pipeline and holdout rows, for a gate to reuse


def train_and_register(
    settings: Settings,
    engine: Engine,
    registry: ModelRegistry,
    model_name: str,
    *,
    reason: str,
    job_id: str | None = None,
    tags: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> TrainingOutcome:
    """Train on every labelled row stored for `model_name`, log the run, register a version."""
    report = progress or (lambda _message: None)
    dataset = get_dataset(engine, model_name)
    report("loading the training set")
    frame, labels, times = FeatureStore(engine).training_frame(dataset.id)
    if frame.empty:
        raise InputError(f"model {model_name!r} has no labelled rows to train on")
    result = train(
        frame, labels, dataset.schema, TrainerConfig.from_settings(settings), report, times=times
    )
    report("logging the run and registering the version in MLflow")
    window = {
        "rows": result.fingerprint["rows"],
        "start": result.fingerprint["time_start"],
        "end": result.fingerprint["time_end"],
    }
    info = registry.log_candidate(
        model_name,
        result,
        tags={"mlpipe.reason": reason, **(tags or {})},
        data_window=window,
        job_id=job_id,
    )
    return TrainingOutcome(
        model_name=model_name,
        version=info.version,
        run_id=info.run_id,
        family=result.family,
        metrics=result.metrics,
        info=info,
        result=result,
    )
