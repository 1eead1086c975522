"""Request and response bodies of the prediction service, defined once.

They parse the request envelopes, shape the cold-path answers, and generate the
OpenAPI document (where `Record` is replaced by the served model's features,
see openapi_spec). The hot-path answers are written as JSON text directly;
tests check them against `PredictResponse`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, SkipValidation

# A record's values are checked column-wise against the model's schema, not here:
# skipping per-item validation keeps a 100,000-record envelope parse near free.
Records = list[SkipValidation[dict[str, Any]]]


class PredictRequest(BaseModel):
    records: Records = Field(
        description="Records keyed by feature name. null is a missing value (imputed); "
        "an absent feature is an error; unknown keys are ignored and listed in warnings."
    )


class ModelRef(BaseModel):
    name: str
    version: str


class Prediction(BaseModel):
    prediction_id: str = Field(description="Send labels back for it: POST /feedback")
    prediction: str = Field(description="The class label as it appears in the training data")
    probabilities: dict[str, float] = Field(description="Probability per class")


class ScoringWarning(BaseModel):
    code: str = Field(description="unknown_fields or unseen_categories")
    message: str
    fields: list[str] | None = None
    counts: dict[str, int] | None = None


class PredictResponse(BaseModel):
    model: ModelRef
    predictions: list[Prediction]
    warnings: list[ScoringWarning] | None = Field(None, description="Present only when not empty")


class DataframeSplit(BaseModel):
    columns: list[str]
    data: list[list[Any]]
    index: list[Any] | None = None


class InvocationsRequest(BaseModel):
    """MLflow's scoring protocol: exactly one of the four keys."""

    dataframe_split: DataframeSplit | None = None
    dataframe_records: Records | None = None
    instances: Records | dict[str, list[Any]] | None = None
    inputs: Records | dict[str, list[Any]] | None = None
    params: dict[str, Any] | None = Field(None, description="Accepted and ignored, as by MLflow")


class InvocationsResponse(BaseModel):
    predictions: list[Any] = Field(
        description="What the pipeline's predict() returns, as `mlflow models serve` answers; "
        "model name, version and prediction ids are in the X-Model-Name, X-Model-Version "
        "and X-Prediction-Ids headers"
    )


class FeatureDescription(BaseModel):
    name: str
    kind: str
    categories: list[str] = Field(default_factory=list)


class ModelDescription(BaseModel):
    name: str
    version: str
    run_id: str | None
    loaded_at: datetime
    load_seconds: float
    target: str
    classes: list[str]
    features: list[FeatureDescription]
    challenger: ModelRef | None
    last_check_at: datetime | None
    last_check_error: str | None


class ReloadResponse(BaseModel):
    changed: bool
    model: ModelRef | None
    challenger: ModelRef | None


class ReadyResponse(BaseModel):
    status: str
    model: ModelRef
    checks: dict[str, str]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    error: ErrorDetail
