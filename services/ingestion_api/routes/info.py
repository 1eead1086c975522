"""Read-only routes: GET /schema, GET /stats, GET /ready (open to every client)."""

from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import OpenAPI, Tag

from ml.feature_store.datasets import active_dataset
from services.ingestion_api.batch_log import batch_summary
from services.ingestion_api.context import IngestionContext
from services.ingestion_api.models import ReadyResponse, SchemaResponse, StatsResponse
from services.ingestion_api.openapi_docs import answers
from shared.database import ping

RECORD_KEYS = ("entity_id", "event_time")  # optional keys of a record with a meaning of their own
TAG = Tag(name="information", description="What is expected and what is stored")


def register(app: OpenAPI, ctx: IngestionContext) -> None:
    @app.get("/schema", tags=[TAG], responses=answers({200: SchemaResponse}, 503))
    def schema() -> Response:
        """The columns records must carry: the active data set's schema."""
        dataset = active_dataset(ctx.engine, ctx.settings)
        spec = dataset.schema
        return jsonify(
            {
                "dataset": dataset.name,
                "target": spec.target,
                "task": spec.task,
                "classes": list(spec.classes),
                "features": [
                    {"name": f.name, "kind": f.kind, "categories": list(f.categories)}
                    for f in spec.features
                ],
                "reserved_keys": list(RECORD_KEYS),
            }
        )

    @app.get("/stats", tags=[TAG], responses=answers({200: StatsResponse}, 503))
    def stats() -> Response:
        """What the feature store holds for the active data set, and the ingestion batches."""
        dataset = active_dataset(ctx.engine, ctx.settings)
        return jsonify(
            {
                "dataset": dataset.name,
                "feature_store": ctx.feature_store.stats(dataset.id),
                "batches": batch_summary(ctx.engine, dataset.id),
            }
        )

    @app.get("/ready", tags=[TAG], responses=answers({200: ReadyResponse}, 503))
    def ready() -> Response:
        """200 when the database answers and a data set is active; 503 otherwise."""
        ping(ctx.engine)
        dataset = active_dataset(ctx.engine, ctx.settings)
        return jsonify({"status": "ready", "dataset": dataset.name})
