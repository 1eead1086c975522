"""The OpenAPI document, completed with the served model's real features.

flask-openapi3 generates the document from the routes and the response models;
request bodies are added here from `api_models`, with every "record" replaced by
a `Record` schema built from the served model's DatasetSchema: each feature's
name, type and known categories, which are what a client needs to send.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from ml.schema import DatasetSchema
from services.prediction_service.api_models import InvocationsRequest, PredictRequest
from services.prediction_service.served_model import ServedModel
from shared.config import Settings

REF = "#/components/schemas/{model}"
GENERIC_RECORD = {"additionalProperties": True, "type": "object"}
RECORD_REF = {"$ref": REF.format(model="Record")}


def served_spec(
    base: dict[str, Any], model: ServedModel | None, settings: Settings
) -> dict[str, Any]:
    """`base` (the generated document) plus request bodies and the model's features."""
    spec = copy.deepcopy(base)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Record"] = record_schema(model.schema if model else None)
    bodies: list[tuple[str, type[BaseModel], str, int | None]] = [
        ("/predict", PredictRequest, "PredictRequest", settings.predict_max_records),
        (
            "/predict/batch",
            PredictRequest,
            "PredictBatchRequest",
            settings.predict_batch_max_records,
        ),
        (
            "/invocations",
            InvocationsRequest,
            "InvocationsRequest",
            settings.predict_batch_max_records,
        ),
    ]
    for path, body_model, name, limit in bodies:
        operation = spec.get("paths", {}).get(path, {}).get("post")
        if operation is None:
            continue
        schemas[name] = _component(body_model, schemas, limit)
        content = {"application/json": {"schema": {"$ref": REF.format(model=name)}}}
        if path == "/invocations":
            content["text/csv"] = {
                "schema": {"type": "string", "description": "header row, then rows"}
            }
        operation["requestBody"] = {"required": True, "content": content}
    if model is not None:
        info = spec.setdefault("info", {})
        info["description"] = (
            f"{info.get('description', '')}\n\nServing **{model.name}** version "
            f"**{model.version}**; the `Record` schema lists its features."
        ).strip()
    return spec


def record_schema(schema: DatasetSchema | None) -> dict[str, Any]:
    """JSON schema of one record for `schema` (a generic object while no model is loaded)."""
    if schema is None:
        return {**GENERIC_RECORD, "description": "No model is loaded yet; features unknown."}
    properties: dict[str, Any] = {}
    example: dict[str, Any] = {}
    for spec in schema.features:
        if spec.kind == "numeric":
            properties[spec.name] = {
                "type": ["number", "null"],
                "description": "Numeric feature; null = missing (imputed).",
            }
            example[spec.name] = 0
        else:
            known = list(spec.categories)
            listed = ", ".join(known[:50]) + (" ..." if len(known) > 50 else "")
            properties[spec.name] = {
                "type": ["string", "number", "null"],
                "description": f"Categorical feature; known categories: {listed}. Other values "
                "are scored and counted as unseen; numbers compare as text; null = missing.",
                "examples": known[:10],
                "x-known-categories": known,
            }
            example[spec.name] = known[0] if known else None
    properties["entity_id"] = {"type": ["string", "number", "null"], "description": "Optional."}
    properties["event_time"] = {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "Optional, ISO 8601.",
    }
    return {
        "type": "object",
        "title": "Record",
        "description": "One record: every feature must be present; unknown keys are ignored "
        "and listed in warnings.",
        "properties": properties,
        "required": schema.feature_names,
        "additionalProperties": True,
        "example": example,
    }


def _component(
    model: type[BaseModel], schemas: dict[str, Any], limit: int | None
) -> dict[str, Any]:
    generated = model.model_json_schema(ref_template=REF)
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, _with_record_refs(definition))
    component = _with_record_refs(generated)
    records = component.get("properties", {}).get("records")
    if records is not None and limit is not None:
        records["maxItems"] = limit
        records["minItems"] = 1
    return component


def _with_record_refs(node: Any) -> Any:
    """Replace every generic record object by a reference to `Record`."""
    if node == GENERIC_RECORD:
        return dict(RECORD_REF)
    if isinstance(node, dict):
        return {key: _with_record_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_record_refs(value) for value in node]
    return node
