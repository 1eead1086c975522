"""The Ingestion API (port 8001): validates and stores feature rows and labels.

Served by gunicorn through the factory:
    gunicorn -c python:shared.gunicorn_conf --worker-class gthread --threads 8 \
        'services.ingestion_api.app:create_wsgi_app()'
"""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.ingestion_api.context import build_context
from services.ingestion_api.routes import feedback, info, ingest, stream
from shared.config import Settings, load_settings
from shared.http import create_service_app
from shared.logger import configure_logging

SERVICE = "ingestion-api"
DESCRIPTION = (
    "Validates records against the active data set's schema and stores them in the "
    "feature store; attaches ground-truth labels to logged predictions. Write endpoints "
    "need `Authorization: Bearer <API_KEY>` when API_KEY is set, else a loopback client."
)


def create_app(settings: Settings) -> OpenAPI:
    """The WSGI app for `settings`; connects to nothing until the first request."""
    app = create_service_app(
        settings, service=SERVICE, title="ml-pipeline Ingestion API", description=DESCRIPTION
    )
    ctx = build_context(settings)
    app.extensions["ingestion"] = ctx
    for routes in (ingest, stream, feedback, info):
        routes.register(app, ctx)
    return app


def create_wsgi_app() -> OpenAPI:
    """gunicorn's entry point: settings from the environment, logging configured once."""
    settings = load_settings()
    configure_logging(settings, SERVICE)
    return create_app(settings)
