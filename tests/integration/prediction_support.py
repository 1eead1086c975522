"""Helpers of the prediction service tests: real trained and registered models, the
service on a real HTTP server, and small waiting/reading utilities."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset
from ml.feature_store.datasets import create_dataset
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from ml.training import TrainerConfig, TrainingResult, train
from registry import CHAMPION, ModelRegistry
from services.prediction_service.app import create_app
from shared.config import Settings, load_settings
from shared.database import prediction_minutes, predictions, write_transaction
from tests.integration.ingestion_support import serve

MODEL = "lung"


@cache
def trained(family: str = "logistic_regression", seed: int = 5) -> TrainingResult:
    """A real Pipeline trained on 400 sample rows (one family: fast)."""
    frame = make_dataset(400, seed=seed)
    schema, _ = infer_schema(frame, "Recovered")
    labels = labels_as_strings(frame["Recovered"])
    keep = labels.notna()
    config = TrainerConfig(families=(family,), seed=seed, importance_repeats=1, n_jobs=1)
    return train(normalize_frame(schema, frame)[keep], labels[keep], schema, config)


def sample_records(rows: int, seed: int = 11) -> list[dict[str, Any]]:
    """JSON-ready records without the label (missing values as null)."""
    frame = make_dataset(rows, seed=seed).drop(columns="Recovered")
    return json.loads(frame.to_json(orient="records"))


def service_settings(home: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings of one service instance, independent of the developer's environment."""
    values: dict[str, Any] = {
        "pipeline_home": home,
        "database_url": database_url,
        "mlflow_tracking_uri": f"sqlite:///{home / 'mlflow.db'}",
        "redis_url": None,
        "api_key": None,
        "model_name": None,
        "reload_poll_seconds": 0.5,
    }
    settings = load_settings(**(values | overrides))
    settings.ensure_dirs()
    return settings


def init_model(
    settings: Settings, engine: Engine, result: TrainingResult, name: str = MODEL
) -> str:
    """What `mlpipe init` leaves behind: an active data set and version 1 as champion."""
    with write_transaction(engine) as conn:
        create_dataset(conn, name=name, schema=result.schema, source="tests", replace=True)
    return register(settings, engine, result, name=name, alias=CHAMPION)


def register(
    settings: Settings,
    engine: Engine,
    result: TrainingResult,
    *,
    name: str = MODEL,
    alias: str | None = None,
) -> str:
    registry = ModelRegistry(settings, engine)
    version = registry.log_candidate(name, result).version
    if alias:
        registry.set_alias(name, alias, version, reason="test", actor="tests")
    return version


def move_alias(
    settings: Settings, engine: Engine, alias: str, version: str, name: str = MODEL
) -> None:
    ModelRegistry(settings, engine).set_alias(name, alias, version, reason="test", actor="tests")


@contextmanager
def running_service(settings: Settings, ready_timeout: float = 60.0) -> Iterator[str]:
    """The service on a real HTTP server; yields its URL once /ready answers 200."""
    app = create_app(settings)
    runtime = app.extensions["prediction_runtime"]
    try:
        with serve(app) as url:
            assert wait_until(lambda: requests.get(f"{url}/ready", timeout=5).ok, ready_timeout)
            yield url
    finally:
        runtime.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def logged_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(predictions.c.id)).scalars())


def logged_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(predictions)).scalar_one())


def minute_totals(engine: Engine) -> dict[str, int]:
    """Sum of n per model version over every stored minute."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(prediction_minutes.c.model_version, func.sum(prediction_minutes.c.n)).group_by(
                prediction_minutes.c.model_version
            )
        ).all()
    return {version: int(n) for version, n in rows}
