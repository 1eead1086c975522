"""GET /model, POST /model/reload, GET /ready, and the model-aware /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_openapi3 import OpenAPI, Tag

from services.prediction_service.api_models import (
    ErrorResponse,
    FeatureDescription,
    ModelDescription,
    ModelRef,
    ReadyResponse,
    ReloadResponse,
)
from services.prediction_service.openapi_spec import served_spec
from services.prediction_service.runtime import PredictionRuntime
from services.prediction_service.served_model import ServedModel
from shared.database import ping
from shared.errors import ServiceUnavailable
from shared.http import write_endpoint
from shared.signals import publish_model_changed

MODEL = Tag(name="model", description="The model in service")
RELOAD_TIMEOUT_S = 120.0


def register_admin_routes(app: OpenAPI, runtime: PredictionRuntime) -> None:
    settings, holder = runtime.settings, runtime.holder

    @app.get("/model", tags=[MODEL], responses={200: ModelDescription, 503: ErrorResponse})
    def model() -> Response:
        """The champion being served, its features and classes, and the challenger."""
        served = holder.require_champion()
        schema = served.schema
        description = ModelDescription(
            name=served.name,
            version=served.version,
            run_id=served.run_id,
            loaded_at=served.loaded_at,
            load_seconds=round(served.load_seconds, 3),
            target=schema.target,
            classes=served.class_names,
            features=[
                FeatureDescription(name=f.name, kind=f.kind, categories=list(f.categories))
                for f in schema.features
            ],
            challenger=_ref(holder.challenger),
            last_check_at=holder.last_check_at,
            last_check_error=holder.last_error,
        )
        return jsonify(description.model_dump(mode="json"))

    @app.post(
        "/model/reload",
        tags=[MODEL],
        security=[{"bearer": []}],
        responses={200: ReloadResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse},
    )
    @write_endpoint(settings)
    def reload() -> Response:
        """Check the registry's aliases now; load and swap in what moved (Bearer API_KEY, or loopback)."""
        before = (_ref(holder.champion), _ref(holder.challenger))
        if not runtime.watcher.check_now(RELOAD_TIMEOUT_S):
            raise ServiceUnavailable("the model check is still running; try again shortly")
        after = (_ref(holder.champion), _ref(holder.challenger))
        if holder.last_error:
            raise ServiceUnavailable(
                f"the registry check failed: {holder.last_error}",
                {"model": after[0].model_dump() if after[0] else None},
            )
        if after[0] is not None:  # let the other workers and replicas look too
            publish_model_changed(settings, after[0].name, after[0].version)
        body = ReloadResponse(changed=before != after, model=after[0], challenger=after[1])
        return jsonify(body.model_dump(mode="json"))

    @app.get("/ready", responses={200: ReadyResponse, 503: ErrorResponse})
    def ready() -> Response:
        """200 once a model is loaded and warmed up and the database answers; 503 before."""
        checks: dict[str, str] = {}
        try:
            ping(runtime.engine)
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "unreachable"
        served = holder.champion
        checks["model"] = "ok" if served is not None else (holder.last_error or "loading")
        if served is None or checks["database"] != "ok":
            raise ServiceUnavailable("not ready", {"checks": checks})
        body = ReadyResponse(status="ready", model=_ref(served), checks=checks)  # type: ignore[arg-type]
        return jsonify(body.model_dump(mode="json"))

    specs: dict[Any, dict[str, Any]] = {}

    def openapi_json() -> Response:
        served = holder.champion
        key = (served.name, served.version) if served else None
        if key not in specs:
            specs.clear()
            specs[key] = served_spec(app.api_doc, served, settings)
        return jsonify(specs[key])

    app.view_functions["openapi.doc_url"] = openapi_json


def _ref(model: ServedModel | None) -> ModelRef | None:
    return ModelRef(name=model.name, version=model.version) if model else None
