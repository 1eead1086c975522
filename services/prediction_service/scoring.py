"""One scoring request end to end: validate, predict (micro-batched), log durably, shadow.

Nothing is logged for a request that fails validation, and nothing is answered
before its rows are committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ml.schema import DatasetSchema
from services.prediction_service.json_rows import json_objects, new_ids
from services.prediction_service.log_rows import PredictionRows
from services.prediction_service.microbatch import MicroBatcher
from services.prediction_service.model_holder import ModelHolder
from services.prediction_service.prediction_log import PredictionLog
from services.prediction_service.record_batch import RecordBatch
from services.prediction_service.served_model import ServedModel
from services.prediction_service.service_metrics import ServiceMetrics
from services.prediction_service.shadow import ShadowScorer

# Turns the request's records into validated columns under the model's schema.
Validate = Callable[[DatasetSchema], RecordBatch]


@dataclass(frozen=True)
class Scored:
    model: ServedModel
    rows: PredictionRows
    best: np.ndarray  # index of the predicted class per row (into model.classes)
    warnings: list[dict[str, Any]]

    def predicted_classes(self) -> list[Any]:
        """The labels as the pipeline's `predict` returns them (MLflow's answer)."""
        return self.model.classes[self.best].tolist()


class Scorer:
    def __init__(
        self,
        holder: ModelHolder,
        batcher: MicroBatcher,
        prediction_log: PredictionLog,
        shadow: ShadowScorer,
        metrics: ServiceMetrics,
    ) -> None:
        self._holder = holder
        self._batcher = batcher
        self._log = prediction_log
        self._shadow = shadow
        self._metrics = metrics

    def score(
        self, validate: Validate, *, endpoint: str, request_id: str | None, started: float
    ) -> Scored:
        model = self._holder.require_champion()  # this request's model, whatever happens next
        self._batcher.announce()
        self._log.announce()
        try:
            batch = validate(model.schema)
        except BaseException:
            self._batcher.withdraw()
            self._log.withdraw()
            raise
        try:
            probabilities = self._batcher.predict_proba(model, batch)
            best = probabilities.argmax(axis=1)
            rows = self._encode(model, batch, probabilities, best, endpoint, request_id, started)
        except BaseException:
            self._log.withdraw()
            raise
        self._log.write(rows)
        self._shadow.submit(self._holder.challenger, batch, rows)
        self._count(model, batch, rows, endpoint, started)
        return Scored(model, rows, best, _warnings(batch))

    def _encode(
        self,
        model: ServedModel,
        batch: RecordBatch,
        probabilities: np.ndarray,
        best: np.ndarray,
        endpoint: str,
        request_id: str | None,
        started: float,
    ) -> PredictionRows:
        names = model.class_names
        by_class = {name: probabilities[:, i].tolist() for i, name in enumerate(names)}
        return PredictionRows(
            model_name=model.name,
            model_version=model.version,
            endpoint=endpoint,
            request_id=request_id,
            created_at=datetime.now(UTC),
            latency_ms=(time.perf_counter() - started) * 1000,
            ids=new_ids(batch.size),
            labels=[names[i] for i in best.tolist()],
            probabilities_json=json_objects(by_class, batch.size),
            features_json=json_objects(batch.columns, batch.size),
        )

    def _count(
        self,
        model: ServedModel,
        batch: RecordBatch,
        rows: PredictionRows,
        endpoint: str,
        started: float,
    ) -> None:
        self._metrics.observe_request(endpoint, model.version, time.perf_counter() - started)
        self._metrics.count_predictions(model.version, rows.class_counts())
        for feature, count in batch.unseen_categories.items():
            self._metrics.unseen_categories.labels(feature).inc(count)


def _warnings(batch: RecordBatch) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    if batch.unknown_fields:
        warnings.append(
            {
                "code": "unknown_fields",
                "message": "fields the model does not use were ignored",
                "fields": batch.unknown_fields,
            }
        )
    if batch.unseen_categories:
        warnings.append(
            {
                "code": "unseen_categories",
                "message": "values never seen in training were scored; counts per feature",
                "counts": batch.unseen_categories,
            }
        )
    return warnings
