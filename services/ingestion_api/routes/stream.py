"""POST /ingest/stream: one record, answered once it is committed."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import OpenAPI, Tag

from services.ingestion_api.context import IngestionContext
from services.ingestion_api.models import StreamAccepted, StreamRequest
from services.ingestion_api.openapi_docs import WRITE_SECURITY, answers, request_body
from shared.http import json_body, write_endpoint

TAG = Tag(name="ingestion", description="Validate and store feature rows")


def register(app: OpenAPI, ctx: IngestionContext) -> None:
    @app.post(
        "/ingest/stream",
        tags=[TAG],
        responses=answers({202: StreamAccepted}, 400, 401, 403, 413, 415, 422, 503),
        security=WRITE_SECURITY,
        openapi_extensions=request_body(app, StreamRequest),
    )
    @write_endpoint(ctx.settings)
    def ingest_stream() -> tuple[Response, int]:
        """Store one record; 202 only after it is committed (concurrent records commit together)."""
        body = json_body(StreamRequest)
        return jsonify({"id": ctx.stream.submit(body.record)}), 202
