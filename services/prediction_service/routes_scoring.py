"""POST /predict, /predict/batch and /invocations."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, g, request
from flask_openapi3 import OpenAPI, Tag

from services.prediction_service.api_models import (
    ErrorResponse,
    InvocationsResponse,
    PredictRequest,
    PredictResponse,
)
from services.prediction_service.invocations import frame_from_csv, records_from_payload
from services.prediction_service.record_batch import (
    validate_csv_for_scoring,
    validate_for_scoring,
)
from services.prediction_service.request_body import parse_any, parse_body, require_json
from services.prediction_service.responses import invocations_response, predict_response
from services.prediction_service.runtime import PredictionRuntime
from services.prediction_service.scoring import Validate
from shared.errors import UnsupportedMediaType
from shared.http import check_record_count

SCORING = Tag(name="scoring", description="Predictions from the champion model")
ERRORS: dict[Any, Any] = {code: ErrorResponse for code in (400, 413, 415, 422, 503)}


def register_scoring_routes(app: OpenAPI, runtime: PredictionRuntime) -> None:
    settings = runtime.settings

    def score_records(endpoint: str, limit: int) -> Response:
        started = g.get("started", time.perf_counter())
        require_json()
        body = parse_body(request.get_data(cache=False), PredictRequest)
        check_record_count(len(body.records), limit)
        scored = runtime.scorer.score(
            lambda schema: validate_for_scoring(schema, body.records),
            endpoint=endpoint,
            request_id=g.get("request_id"),
            started=started,
        )
        return predict_response(scored)

    @app.post(
        "/predict",
        tags=[SCORING],
        summary=f"Score 1 to {settings.predict_max_records:,} records",
        description="Concurrent requests are scored together (micro-batching). A 200 means "
        "every prediction is committed to the prediction log.",
        responses={200: PredictResponse, **ERRORS},
    )
    def predict() -> Response:
        return score_records("/predict", settings.predict_max_records)

    @app.post(
        "/predict/batch",
        tags=[SCORING],
        summary=f"Score up to {settings.predict_batch_max_records:,} records",
        responses={200: PredictResponse, **ERRORS},
    )
    def predict_batch() -> Response:
        return score_records("/predict/batch", settings.predict_batch_max_records)

    @app.post(
        "/invocations",
        tags=[SCORING],
        summary="MLflow scoring protocol (drop-in for `mlflow models serve`)",
        description="dataframe_split, dataframe_records, instances or inputs (JSON), or a "
        "CSV body. The body of the answer is exactly MLflow's; model name, version and "
        "prediction ids travel in X-Model-Name, X-Model-Version and X-Prediction-Ids "
        "(omitted, with X-Prediction-Ids-Omitted, above 1,500 records).",
        responses={200: InvocationsResponse, **ERRORS},
    )
    def invocations() -> Response:
        started = g.get("started", time.perf_counter())
        validate, count = _invocation_input()
        check_record_count(count, settings.predict_batch_max_records)
        scored = runtime.scorer.score(
            validate, endpoint="/invocations", request_id=g.get("request_id"), started=started
        )
        return invocations_response(scored)


def _invocation_input() -> tuple[Validate, int]:
    data = request.get_data(cache=False)
    if request.mimetype == "text/csv":
        frame = frame_from_csv(data)
        return (lambda schema: validate_csv_for_scoring(schema, frame)), len(frame)
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Content-Type must be application/json or text/csv",
            {"content_type": request.mimetype or None},
        )
    records = records_from_payload(parse_any(data))
    return (lambda schema: validate_for_scoring(schema, records)), len(records)
