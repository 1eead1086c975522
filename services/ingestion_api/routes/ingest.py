"""POST /ingest/batch (JSON records) and POST /ingest/csv (a CSV body)."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_openapi3 import OpenAPI, Tag

from ml.schema import DatasetSchema
from ml.validation import ValidationResult, validate_frame, validate_records
from services.ingestion_api.body_hash import csv_hash, records_hash
from services.ingestion_api.context import IngestionContext
from services.ingestion_api.csv_body import parse_csv
from services.ingestion_api.ingestion import Outcome, Submission
from services.ingestion_api.models import BatchRequest, BatchResult, CsvQuery, ModeQuery
from services.ingestion_api.openapi_docs import (
    WRITE_SECURITY,
    answers,
    query_parameters,
    request_body,
)
from services.ingestion_api.query import parse_query
from shared.errors import UnsupportedMediaType, ValidationFailed
from shared.http import check_record_count, json_body, write_endpoint

TAG = Tag(name="ingestion", description="Validate and store feature rows")
CSV_TYPES = ("text/csv", "application/csv")
ANSWERS = answers({201: BatchResult, 200: BatchResult}, 400, 401, 403, 409, 413, 415, 422, 503)


def register(app: OpenAPI, ctx: IngestionContext) -> None:
    @app.post(
        "/ingest/batch",
        tags=[TAG],
        responses=ANSWERS,
        security=WRITE_SECURITY,
        openapi_extensions=request_body(app, BatchRequest) | query_parameters(ModeQuery),
    )
    @write_endpoint(ctx.settings)
    def ingest_batch() -> tuple[Response, int]:
        """Store a batch of JSON records.

        201 with the result; the same batch_id and content again: 200 with the first result.
        """
        query = parse_query(ModeQuery)
        body = json_body(BatchRequest)
        check_record_count(len(body.records), ctx.settings.ingest_max_records)
        submission = Submission(
            source="batch",
            content_hash=lambda: records_hash("batch", body.records),
            batch_id=body.batch_id,
            strict=query.mode == "strict",
        )
        return _answer(
            ctx.batches.ingest(submission, lambda schema: validate_records(schema, body.records))
        )

    @app.post(
        "/ingest/csv",
        tags=[TAG],
        responses=ANSWERS,
        security=WRITE_SECURITY,
        openapi_extensions=request_body(app, None, "text/csv") | query_parameters(CsvQuery),
    )
    @write_endpoint(ctx.settings)
    def ingest_csv() -> tuple[Response, int]:
        """Store the rows of a CSV body (header row first; an empty cell is a missing value)."""
        query = parse_query(CsvQuery)
        if request.mimetype not in CSV_TYPES:
            raise UnsupportedMediaType(
                "Content-Type must be text/csv", {"content_type": request.mimetype or None}
            )
        text, frame = parse_csv(
            request.get_data(cache=False), max_records=ctx.settings.ingest_max_records
        )
        submission = Submission(
            source="csv",
            content_hash=lambda: csv_hash(text),
            batch_id=query.batch_id,
            strict=query.mode == "strict",
        )

        def validate(schema: DatasetSchema) -> ValidationResult:
            _require_feature_columns(schema, list(frame.columns))
            return validate_frame(schema, frame)

        return _answer(ctx.batches.ingest(submission, validate))


def _require_feature_columns(schema: DatasetSchema, header: list[str]) -> None:
    """A feature missing from the header fails every row: reject the request as a whole."""
    present = set(header)
    missing = [name for name in schema.feature_names if name not in present]
    if missing:
        raise ValidationFailed(
            f"the CSV header lacks feature columns: {', '.join(missing)}",
            {
                "errors": [
                    {"index": None, "field": name, "message": "column missing from the CSV header"}
                    for name in missing
                ],
                "missing_columns": missing,
            },
        )


def _answer(outcome: Outcome) -> tuple[Response, int]:
    return jsonify(outcome.result), 201 if outcome.created else 200
