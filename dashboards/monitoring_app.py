"""The monitoring dashboard (Dash): `create_dash_app(settings)` builds it, and
`create_wsgi_app()` is the gunicorn entry point:

    gunicorn -b 127.0.0.1:8050 'dashboards.monitoring_app:create_wsgi_app()'

Every asset (Dash, React, plotly.js, our CSS) is served by the app itself: no CDN.
"""

from __future__ import annotations

from pathlib import Path

import dash
from flask import Flask

from dashboards import shell
from dashboards.context import DashboardContext, make_context
from dashboards.pages import PAGES
from dashboards.warmup import MemoWarmer
from shared.config import Settings, load_settings
from shared.logger import configure_logging

ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def create_dash_app(settings: Settings, context: DashboardContext | None = None) -> dash.Dash:
    """A Dash app over the instance's database; pass a context to inject a clock or engine."""
    ctx = context or make_context(settings)
    app = dash.Dash(
        __name__,
        title="ml-pipeline monitor",
        update_title=None,  # type: ignore[arg-type]  # None: keep the tab title while updating
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        suppress_callback_exceptions=True,  # pages add their components after the first render
        health_endpoint="health",
    )
    app.layout = lambda: shell.shell_layout(settings)
    shell.register(app, ctx)
    for page in PAGES:
        page.register(app, ctx)
    return app


def create_wsgi_app() -> Flask:
    """Settings from the environment, logging configured, the memo warmer started (in the
    worker: gunicorn calls this after forking), the Flask server returned."""
    settings = load_settings()
    settings.ensure_dirs()
    configure_logging(settings, "dashboard")
    ctx = make_context(settings)
    MemoWarmer(ctx).start()
    return create_dash_app(settings, ctx).server  # type: ignore[return-value]
