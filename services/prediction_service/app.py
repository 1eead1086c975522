"""The prediction service (port 8002): serves the champion, logs every prediction, hot-reloads.

    gunicorn -c python:shared.gunicorn_conf --workers 2 --threads 16 \\
        'services.prediction_service.app:create_wsgi_app()'

See docs/SERVING.md for the design and the measured worker/thread layout.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable

from flask_openapi3 import OpenAPI

from services.prediction_service.model_source import ModelSource
from services.prediction_service.routes_admin import register_admin_routes
from services.prediction_service.routes_scoring import register_scoring_routes
from services.prediction_service.runtime import PredictionRuntime
from shared.config import Settings, load_settings
from shared.database import make_engine
from shared.http import create_service_app
from shared.logger import configure_logging

SERVICE = "prediction-service"


def create_app(
    settings: Settings, *, source_factory: Callable[[], ModelSource] | None = None
) -> OpenAPI:
    """The Flask app with its runtime started; the model loads in the background.

    Stop the runtime with `app.extensions["prediction_runtime"].stop()` (tests do;
    under gunicorn the process exit does, after committing queued rows).
    """
    settings.ensure_dirs()
    app = create_service_app(
        settings,
        service=SERVICE,
        title="ml-pipeline prediction service",
        description="Predictions from the champion model. Every prediction is logged before "
        "it is answered; the model hot-reloads when the champion alias moves.",
    )
    runtime = PredictionRuntime.build(settings, make_engine(settings), source_factory)
    register_scoring_routes(app, runtime)
    register_admin_routes(app, runtime)
    app.extensions["prediction_runtime"] = runtime
    runtime.start()
    return app


def create_wsgi_app() -> OpenAPI:
    """gunicorn's factory: settings from the environment, logging, then the app."""
    settings = load_settings()
    configure_logging(settings, SERVICE.replace("-", "_"))
    app = create_app(settings)
    atexit.register(app.extensions["prediction_runtime"].stop)
    return app
