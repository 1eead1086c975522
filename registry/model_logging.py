"""Write a TrainingResult to MLflow: one run (params, metrics, artifacts, plots) and one logged model.

Uses MlflowClient calls only: the fluent `mlflow.sklearn.log_model` reads the
global tracking URI and infers pip requirements by importing the model in a
subprocess (most of the 6-8 s it took per model here). The model directory
also carries schema.json, reference_profile.json and training_summary.json, so
loading a version is a single download.
"""

from __future__ import annotations

import json
import tempfile
import time
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric, Param, RunStatus
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema

from ml.training import TrainingResult
from registry.plots import confusion_matrix_png, feature_importance_png
from registry.serialization import trusted_types

SCHEMA_FILE = "schema.json"
PROFILE_FILE = "reference_profile.json"
SUMMARY_FILE = "training_summary.json"
MODEL_ARTIFACT_NAME = "model"
# What a fresh environment needs to load the model (MLflow serving, another host).
RUNTIME_PACKAGES = ("mlflow", "scikit-learn", "skops", "numpy", "scipy", "pandas")


def log_training_run(
    client: MlflowClient,
    experiment_id: str,
    name: str,
    result: TrainingResult,
    *,
    tags: dict[str, str],
    data_window: dict[str, Any] | None,
) -> tuple[str, str, str]:
    """Create the run and the logged model; return (run_id, model_id, model artifact location).

    A failed run is marked FAILED (and its logged model too) before the error propagates.
    """
    run = client.create_run(experiment_id, run_name=f"{name}-{result.family}", tags=tags)
    run_id = run.info.run_id
    model_id: str | None = None
    try:
        client.log_batch(run_id, metrics=_metrics(result), params=_params(result, data_window))
        with tempfile.TemporaryDirectory(prefix="mlpipe-run-") as tmp:
            client.log_artifacts(run_id, str(_write_run_artifacts(result, Path(tmp))))
        model_id, location = _log_model(client, experiment_id, run_id, result, tags)
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
        return run_id, model_id, location
    except BaseException:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        if model_id is not None:
            client.finalize_logged_model(model_id, LoggedModelStatus.FAILED)
        raise


def _params(result: TrainingResult, data_window: dict[str, Any] | None) -> list[Param]:
    config = result.config
    values: dict[str, Any] = {
        "family": result.family,
        "task": result.schema.task,
        "primary_metric": result.primary_metric,
        "seed": config.seed,
        "cv_folds": config.cv_folds,
        "holdout_fraction": config.holdout_fraction,
        "class_weighting": result.class_weighting or "none",
        "candidate_families": ",".join(config.families),
        "n_train": result.n_train,
        "n_holdout": result.n_holdout,
        "n_features": len(result.schema.features),
        "data_rows": result.fingerprint["rows"],
        "data_hash": result.fingerprint["content_hash"],
    }
    for key, value in (data_window or {}).items():
        values[f"data_window.{key}"] = value
    estimator = result.pipeline.steps[-1][1]
    for key, value in estimator.get_params(deep=False).items():
        if isinstance(value, str | int | float | bool) or value is None:
            values[f"model.{key}"] = value
    return [Param(key, str(value)[:6000]) for key, value in values.items()]


def _metrics(result: TrainingResult) -> list[Metric]:
    now = int(time.time() * 1000)
    values = dict(result.scalar_metrics)
    for family, scores in result.cv_scores.items():
        values[f"cv_{family}_{scores['metric']}"] = scores["mean"]
    for key, seconds in result.timings.items():
        values[f"time_{key}"] = seconds
    return [Metric(key, float(value), now, 0) for key, value in values.items()]


def _write_run_artifacts(result: TrainingResult, folder: Path) -> Path:
    _write_json(folder / SCHEMA_FILE, result.schema.to_dict())
    _write_json(folder / PROFILE_FILE, result.reference_profile)
    _write_json(folder / SUMMARY_FILE, result.summary())
    _write_json(folder / "data_fingerprint.json", result.fingerprint)
    plots = folder / "plots"
    plots.mkdir()
    confusion_matrix_png(
        result.metrics["confusion_matrix"],
        result.metrics["classes"],
        plots / "confusion_matrix.png",
    )
    feature_importance_png(result.feature_importances, plots / "feature_importance.png")
    return folder


def _log_model(
    client: MlflowClient,
    experiment_id: str,
    run_id: str,
    result: TrainingResult,
    tags: dict[str, str],
) -> tuple[str, str]:
    logged = client.create_logged_model(
        experiment_id,
        name=MODEL_ARTIFACT_NAME,
        source_run_id=run_id,
        tags=tags,
        params={"family": result.family},
        model_type="sklearn",
    )
    client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
    description = Model(
        artifact_path=logged.artifact_location,
        model_uuid=logged.model_id,
        run_id=run_id,
        model_id=logged.model_id,
    )
    with tempfile.TemporaryDirectory(prefix="mlpipe-model-") as tmp:
        path = Path(tmp) / MODEL_ARTIFACT_NAME
        mlflow.sklearn.save_model(
            result.pipeline,
            str(path),
            mlflow_model=description,
            signature=_signature(result),
            input_example=result.input_example,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            skops_trusted_types=trusted_types(result.pipeline),
            pip_requirements=[f"{name}=={package_version(name)}" for name in RUNTIME_PACKAGES],
        )
        _write_json(path / SCHEMA_FILE, result.schema.to_dict())
        _write_json(path / PROFILE_FILE, result.reference_profile)
        _write_json(path / SUMMARY_FILE, result.summary())
        client.log_model_artifacts(logged.model_id, str(path))
    client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    return logged.model_id, logged.artifact_location


def _signature(result: TrainingResult) -> ModelSignature:
    """Numeric features are doubles, categorical ones strings; the output is the class label."""
    inputs = Schema(
        [
            ColSpec("double" if spec.kind == "numeric" else "string", spec.name)
            for spec in result.schema.features
        ]
    )
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("string")]))


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8")
