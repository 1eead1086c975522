"""Helpers for the loop's tests: a real champion, and traffic logged the way the services log it.

`init_champion` does what `mlpipe init` does (data set, reference rows, train,
register, promote); `log_predictions` writes `predictions` rows with the
champion's real outputs, as the prediction service does; `feed_back` fills
labels as POST /feedback does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import update
from sqlalchemy.engine import Engine

from ml.data.sample import TARGET, make_dataset
from ml.feature_store import REFERENCE_SPLIT, FeatureStore, create_dataset
from ml.schema import DatasetSchema, infer_schema, labels_as_strings, normalize_frame
from ml.training import TrainerConfig, train
from ml.training.metrics import predict_with_probabilities
from registry.registry import ModelRegistry
from registry.types import LoadedModel
from shared.config import Settings
from shared.database import predictions, write_transaction

MODEL = "lung"
# Fast, and able to learn the disease x treatment interaction the concept scenario flips.
FAST_TRAINING = {"candidate_families": "random_forest", "cv_folds": 2}


def init_champion(
    settings: Settings, engine: Engine, *, rows: int = 1200, seed: int = 1
) -> ModelRegistry:
    frame = make_dataset(rows, "none", seed)
    schema, _ = infer_schema(frame, TARGET)
    features = normalize_frame(schema, frame)
    labels = labels_as_strings(frame[TARGET])
    with write_transaction(engine) as conn:
        dataset = create_dataset(conn, name=MODEL, schema=schema, source="test", n_rows=rows)
        FeatureStore(engine).write_rows(
            conn, dataset.id, features, labels=labels, split=REFERENCE_SPLIT
        )
    result = train(features, labels, schema, TrainerConfig.from_settings(settings))
    registry = ModelRegistry(settings, engine)
    info = registry.log_candidate(MODEL, result)
    registry.promote(MODEL, info.version, reason="initial model", actor="test")
    return registry


def traffic(rows: int, scenario: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    frame = make_dataset(rows, scenario, seed)
    return frame.drop(columns=TARGET), labels_as_strings(frame[TARGET])


def log_predictions(
    engine: Engine,
    model: LoadedModel,
    records: pd.DataFrame,
    *,
    at: datetime | None = None,
    spread_seconds: float = 0.0,
) -> list[str]:
    """Score `records` with `model` and log them as the prediction service does."""
    schema: DatasetSchema = model.schema
    frame = normalize_frame(schema, records)
    predicted, probabilities = predict_with_probabilities(model.pipeline, frame, schema.classes)
    start = at or datetime.now(UTC) - timedelta(seconds=spread_seconds)
    step = spread_seconds / max(len(frame), 1)
    raw = records.astype(object).where(records.notna(), None).to_dict("records")
    rows = [
        {
            "id": str(uuid.uuid4()),
            "created_at": start + timedelta(seconds=i * step),
            "model_name": model.name,
            "model_version": model.version,
            "features": raw[i],
            "prediction": str(predicted.iloc[i]),
            "probabilities": {c: float(p) for c, p in probabilities.iloc[i].items()},
            "latency_ms": 1.0,
            "endpoint": "/predict",
        }
        for i in range(len(frame))
    ]
    with write_transaction(engine) as conn:
        conn.execute(predictions.insert(), rows)
    return [row["id"] for row in rows]


def feed_back(
    engine: Engine, ids: list[str], labels: pd.Series, *, at: datetime | None = None
) -> None:
    """Attach labels to logged predictions (POST /feedback's effect)."""
    when = at or datetime.now(UTC)
    with write_transaction(engine) as conn:
        for prediction_id, label in zip(ids, labels, strict=True):
            conn.execute(
                update(predictions)
                .where(predictions.c.id == prediction_id)
                .values(label=str(label), label_at=when)
            )


def drifted_labels(
    engine: Engine, registry: ModelRegistry, rows: int, *, shuffle_older: bool = False
) -> None:
    """Concept-drifted traffic, predicted by the champion, labels fed back (oldest first)."""
    champion = registry.load(MODEL, "champion")
    records, labels = traffic(rows, "concept", seed=7)
    ids = log_predictions(engine, champion, records, spread_seconds=30)
    newest = int(rows * 0.3)
    older, recent = slice(0, rows - newest), slice(rows - newest, rows)
    older_labels = labels.iloc[older]
    if shuffle_older:  # the candidate will learn noise; the holdout keeps the truth
        older_labels = older_labels.sample(frac=1.0, random_state=3)
    start = datetime.now(UTC) - timedelta(seconds=20)
    feed_back(engine, ids[older], older_labels, at=start)
    feed_back(engine, ids[recent], labels.iloc[recent], at=start + timedelta(seconds=10))
