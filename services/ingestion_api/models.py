"""Request and response bodies of the Ingestion API, defined once.

The same models parse the bodies (through shared.http.parse_json, which keeps
NaN/Infinity detectable and enforces size limits) and generate the OpenAPI
document (services.ingestion_api.openapi_docs).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BatchId = Field(
    default=None,
    min_length=1,
    max_length=200,
    pattern=r"^[^\x00-\x1f\x7f]+$",  # printable: ids end up in logs, URLs and headers
    description="Idempotency key; generated when absent. The same id and body again returns the first result.",
)


class RecordError(BaseModel):
    index: int | None = Field(description="Position of the record in the request")
    field: str | None = Field(description="Column (or key) at fault; null for the record itself")
    message: str


class BatchRequest(BaseModel):
    """`records` are JSON objects keyed by column; each one is validated on its own."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str | None = BatchId
    # list[Any], not list[dict]: a record that is not an object is a per-record error
    # (reported with its index), not a failure of the whole request.
    records: list[Any] = Field(
        json_schema_extra={"items": {"type": "object", "additionalProperties": True}}
    )


class ModeQuery(BaseModel):
    """Query parameters of /ingest/batch."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["lenient", "strict"] = Field(
        "lenient",
        description="lenient: store the valid records, report the rest; strict: store nothing unless all are valid (422)",
    )


class CsvQuery(ModeQuery):
    """Query parameters of /ingest/csv (the body is the CSV itself)."""

    batch_id: str | None = BatchId


class BatchResult(BaseModel):
    batch_id: str
    accepted: int = Field(description="Records stored")
    rejected: int = Field(description="Records not stored")
    labelled: int = Field(description="Stored records that carried the target column")
    errors: list[RecordError]
    errors_truncated: bool = Field(
        False, description="true when there were more errors than the answer lists"
    )
    unknown_fields: list[str] = Field(description="Keys that are not columns of the schema")
    unseen_categories: dict[str, int] = Field(
        description="Per categorical feature: accepted values never seen in training"
    )


class StreamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: Any = Field(json_schema_extra={"type": "object", "additionalProperties": True})


class StreamAccepted(BaseModel):
    id: str = Field(description="`<batch_id>:<position>` of the stored row; committed when sent")


class FeedbackItem(BaseModel):
    prediction_id: str = Field(min_length=1, max_length=200)
    label: str | int | float | bool = Field(description="One of the model's classes")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[FeedbackItem]


class FeedbackRejection(BaseModel):
    index: int
    prediction_id: str
    message: str


class FeedbackResult(BaseModel):
    matched: int = Field(description="Predictions that received their label")
    unknown: list[str] = Field(description="prediction_ids with no logged prediction")
    rejected: list[FeedbackRejection] = Field(description="Labels that are not one of the classes")


class FeatureDoc(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    categories: list[str]


class SchemaResponse(BaseModel):
    dataset: str
    target: str
    task: str
    classes: list[str]
    features: list[FeatureDoc]
    reserved_keys: list[str] = Field(description="Optional keys with a meaning of their own")


class StatsResponse(BaseModel):
    dataset: str
    feature_store: dict[str, Any] = Field(description="Rows, labelled rows, rows by split")
    batches: dict[str, Any] = Field(description="Ingestion batches: count, records, last one")


class ReadyResponse(BaseModel):
    status: str
    dataset: str


class ErrorBody(BaseModel):
    error: dict[str, Any] = Field(description="{code, message, details}")
