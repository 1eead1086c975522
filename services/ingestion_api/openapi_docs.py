"""OpenAPI documentation generated from the pydantic models, without letting
flask-openapi3 parse the bodies.

The views read the raw body themselves (shared.http.parse_json), so NaN
literals, empty bodies and size limits get this project's error contract;
these helpers only describe the same models in the document.
"""

from __future__ import annotations

from typing import Any

from flask_openapi3 import OpenAPI
from pydantic import BaseModel

from services.ingestion_api.models import ErrorBody

REF_TEMPLATE = "#/components/schemas/{model}"
WRITE_SECURITY: list[dict[str, list[Any]]] = [{"bearer": []}]


def schema_ref(app: OpenAPI, model: type[BaseModel]) -> dict[str, str]:
    """Register `model` (and its nested models) as components; return a $ref to it."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    for name, definition in schema.pop("$defs", {}).items():
        app.components_schemas[name] = definition
    app.components_schemas[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def request_body(
    app: OpenAPI, model: type[BaseModel] | None, media_type: str = "application/json"
) -> dict[str, Any]:
    """An `openapi_extensions` entry documenting the request body (a model or raw text)."""
    schema = schema_ref(app, model) if model else {"type": "string"}
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """An `openapi_extensions` entry documenting the fields of `model` as query parameters."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": field.get("description", ""),
            "schema": {k: v for k, v in field.items() if k != "description"},
        }
        for name, field in schema["properties"].items()
    ]
    return {"parameters": parameters}


def answers(success: dict[int, type[BaseModel]], *error_statuses: int) -> dict[Any, Any]:
    """An operation's `responses`: its success bodies and its errors (the shared error body)."""
    return {**success, **dict.fromkeys(error_statuses, ErrorBody)}
