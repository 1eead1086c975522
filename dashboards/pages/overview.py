"""Overview: champion and challenger, traffic, drift, last job, health - at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, html

from dashboards import components as ui
from dashboards.context import DashboardContext
from dashboards.describe import primary_metric, verdict_tone, verdict_word
from dashboards.figures.base import Figure, Series
from dashboards.figures.traffic import per_minute_figure
from dashboards.formatting import fmt_ago, fmt_int, fmt_number, fmt_rate
from dashboards.guard import keep_on_database_error
from dashboards.health import instance_health
from dashboards.pages.overview_cards import drift_card, job_card, model_comparison
from dashboards.queries import drift, jobs, models, status
from dashboards.time_range import resolve_window
from shared.config import Settings


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Overview",
                "Is the model healthy, is the data drifting, what did the "
                "system do about it, and is the new model better?",
            ),
            html.Div(id="overview-body", children=html.P("Loading…", className="empty-note")),
            html.Div(
                [
                    ui.card(
                        "Predictions per minute, last hour",
                        ui.graph("overview-per-minute", 180),
                        class_name="grow",
                    ),
                    ui.card(
                        "Service health", html.Div(id="overview-health"), class_name="health-card"
                    ),
                ],
                className="grid-2",
            ),
        ]
    )


def update(ctx: DashboardContext) -> tuple[Any, Figure]:
    """Body cards and the per-minute chart of the last hour."""
    now = ctx.now()
    last_hour = resolve_window("1h", now)
    with ctx.engine.connect() as conn:
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        if model_name is None:
            return ui.getting_started(ctx.settings), per_minute_figure(
                Series("", [], []), last_hour.start, now
            )
        registry = models.registry(conn, model_name)
        rows = ctx.history(conn, model_name, last_hour).traffic()
        event = drift.latest_event(conn, model_name)
        job = jobs.latest_job(conn, model_name)
        pending = jobs.pending_jobs(conn, model_name)
        live = ctx.history(conn, model_name, resolve_window("24h", now)).labels()
    per_minute: dict[int, int] = {}
    for row in sorted(rows):
        per_minute[row.epoch] = per_minute.get(row.epoch, 0) + row.n
    total = sum(per_minute.values())
    minutes = (last_hour.end - last_hour.start).total_seconds() / 60
    series = Series(
        "predictions", [last_hour.bucket_start(e) for e in per_minute], list(per_minute.values())
    )
    champion, challenger = registry.champion, registry.challenger
    metric = primary_metric(ctx.settings.primary_metric, champion.metrics if champion else {})
    tiles = [
        ui.kpi("Model", model_name, value_id="kpi-model-name"),
        ui.kpi(
            "Champion",
            f"v{champion.version}" if champion else "none",
            value_id="kpi-champion-version",
            hint=f"{metric} {fmt_number(champion.metrics.get(metric))}"
            if champion and metric
            else "no champion yet",
            tone="info",
        ),
        ui.kpi(
            "Challenger",
            f"v{challenger.version}" if challenger else "none",
            value_id="kpi-challenger-version",
            hint="scored in shadow" if challenger else "no candidate waiting",
        ),
        ui.kpi(
            "Predictions, last hour",
            fmt_int(total),
            value_id="kpi-predictions-hour",
            hint=fmt_rate(total / minutes) + " on average",
        ),
        ui.kpi(
            "Drift",
            verdict_word(event.dataset_drift) if event else "unknown",
            value_id="kpi-drift-status",
            hint=fmt_ago(event.created_at, now) if event else "no check yet",
            tone=verdict_tone(event.dataset_drift) if event else "neutral",
        ),
        ui.kpi(
            "Last training job",
            job.status if job else "none",
            value_id="kpi-last-job",
            hint=f"{job.reason}, {fmt_ago(job.created_at, now)}" if job else "never trained",
            tone=_job_tone(job.status if job else None),
        ),
    ]
    body = [ui.kpi_row(tiles)]
    if champion is None:
        body.append(ui.getting_started(ctx.settings))
    body.append(
        html.Div(
            [
                ui.card(
                    "Champion vs challenger", model_comparison(champion, challenger, metric, live)
                ),
                ui.card("Current drift status", drift_card(event, now)),
                ui.card("Last training job", job_card(job, pending, now)),
            ],
            className="grid-3",
        )
    )
    return body, per_minute_figure(series, last_hour.start, last_hour.end)


def _job_tone(job_status: str | None) -> str:
    return {"succeeded": "good", "failed": "bad", "dead": "bad", "running": "info"}.get(
        job_status or "", "neutral"
    )


def database_label(ctx: DashboardContext) -> str:
    """'sqlite pipeline.db' or 'postgresql 127.0.0.1:5432/mlpipe' (never a password)."""
    url = ctx.engine.url
    if ctx.dialect == "sqlite":
        return f"sqlite {Path(url.database or ':memory:').name}"
    return f"{ctx.dialect} {url.host}:{url.port or 5432}/{url.database}"


def health_rows(ctx: DashboardContext) -> html.Ul:
    """One line per process: a coloured dot, its name and what the probe saw."""
    state = status.database_state(ctx.engine)
    database = (
        "Database",
        "up" if state.ok else "down",
        database_label(ctx) if state.ok else (state.error or "unreachable"),
    )
    services = [(h.name, h.status, h.detail) for h in instance_health(ctx.settings)]
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(className=f"dot {up_or_down}"),
                    html.Span(name, className="svc-name"),
                    html.Span(detail, className="svc-detail"),
                ],
                className="svc",
                **{"data-status": up_or_down},  # type: ignore[arg-type]
            )
            for name, up_or_down, detail in [database, *services]
        ],
        className="health-list",
        id="health-list",
    )


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("overview-body", "children"),
        Output("overview-per-minute", "figure"),
        Input("refresh", "n_intervals"),
    )
    @keep_on_database_error
    def refresh_overview(_tick: int) -> tuple[Any, Figure]:
        return update(ctx)

    @app.callback(Output("overview-health", "children"), Input("refresh", "n_intervals"))
    def refresh_health(_tick: int) -> html.Ul:
        return health_rows(ctx)
