"""POST /feedback: ground-truth labels for logged predictions."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import OpenAPI, Tag

from services.ingestion_api.context import IngestionContext
from services.ingestion_api.feedback import apply_feedback
from services.ingestion_api.models import FeedbackRequest, FeedbackResult
from services.ingestion_api.openapi_docs import WRITE_SECURITY, answers, request_body
from shared.http import check_record_count, json_body, write_endpoint

TAG = Tag(name="feedback", description="Labels for logged predictions")


def register(app: OpenAPI, ctx: IngestionContext) -> None:
    @app.post(
        "/feedback",
        tags=[TAG],
        responses=answers({200: FeedbackResult}, 400, 401, 403, 413, 415, 422, 503),
        security=WRITE_SECURITY,
        openapi_extensions=request_body(app, FeedbackRequest),
    )
    @write_endpoint(ctx.settings)
    def feedback() -> Response:
        """Attach labels to predictions by prediction_id.

        Unknown ids and labels outside the model's classes are reported per item.
        """
        body = json_body(FeedbackRequest)
        check_record_count(len(body.labels), ctx.settings.ingest_max_records, field="labels")
        result = apply_feedback(ctx.engine, ctx.settings, body.labels)
        ctx.metrics.feedback_labels.labels("matched").inc(result["matched"])
        ctx.metrics.feedback_labels.labels("unknown").inc(len(result["unknown"]))
        ctx.metrics.feedback_labels.labels("rejected").inc(len(result["rejected"]))
        return jsonify(result)
