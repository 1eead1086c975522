"""Jobs: every training job with its trigger, status, attempts, duration, gate decision
and error, on a timeline and in a table."""

from __future__ import annotations

from statistics import median
from typing import Any

from dash import Dash, Input, Output, html

from dashboards import components as ui
from dashboards.context import DashboardContext
from dashboards.describe import gate_summary
from dashboards.figures.base import Figure, placeholder_figure
from dashboards.figures.lifecycle import job_timeline_figure
from dashboards.formatting import fmt_duration, fmt_int, fmt_time, short_id
from dashboards.guard import keep_on_database_error
from dashboards.queries import jobs, status
from dashboards.queries.jobs import TrainingJob
from dashboards.time_range import Window, resolve_window
from shared.config import Settings

STATUS_TONES = {
    "succeeded": "good",
    "failed": "bad",
    "dead": "bad",
    "running": "info",
    "queued": "neutral",
}
ERROR_PREVIEW = 140


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Jobs",
                "Training jobs: why each ran, how it went, and what the promotion gate decided.",
            ),
            html.Div(id="jobs-kpis"),
            ui.card("Training jobs over time", ui.graph("jobs-timeline", 300)),
            ui.card("Training jobs", html.Div(id="jobs-table")),
        ]
    )


def _trigger(job: TrainingJob) -> str:
    return (
        f"{job.reason} (drift event #{job.trigger_event_id})"
        if job.trigger_event_id
        else job.reason
    )


def _error_cell(error: str | None) -> Any:
    if not error:
        return ""
    preview = error if len(error) <= ERROR_PREVIEW else error[: ERROR_PREVIEW - 1] + "…"
    return html.Span(preview, title=error, className="error-text")


def jobs_table(rows: list[TrainingJob]) -> Any:
    body = [
        [
            fmt_time(j.created_at),
            short_id(j.id),
            _trigger(j),
            ui.badge(j.status, STATUS_TONES.get(j.status, "neutral")),
            f"{j.attempts}/{j.max_attempts}",
            fmt_duration(j.duration_seconds),
            f"v{j.model_version}" if j.model_version else "–",
            gate_summary(j.gate_decision),
            _error_cell(j.error),
        ]
        for j in rows
    ]
    headers = [
        "created (UTC)",
        "job",
        "trigger",
        "status",
        "attempts",
        "duration",
        "version",
        "gate decision",
        "error",
    ]
    return ui.table(
        headers, body, table_id="jobs-table-rows", empty="No training job in this time range."
    )


def timeline_figure(rows: list[TrainingJob], window: Window) -> Figure:
    picked = [j for j in reversed(rows) if j.created_at is not None]
    starts = [j.started_at or j.created_at for j in picked]
    ends = [j.finished_at or window.end for j in picked]
    hover = [
        f"{short_id(j.id)} {j.status}: {_trigger(j)}<br>attempts {j.attempts}/"
        f"{j.max_attempts}, {fmt_duration(j.duration_seconds)}<br>"
        f"{gate_summary(j.gate_decision) or (j.error or '')[:120]}"
        for j in picked
    ]
    return job_timeline_figure(
        [f"{short_id(j.id)} {j.reason}" for j in picked],
        starts,  # type: ignore[arg-type]
        ends,
        [j.status for j in picked],
        hover,
        (window.start, window.end),
    )


def update(ctx: DashboardContext, range_key: str | None) -> tuple[Any, Figure, Any]:
    window = resolve_window(range_key, ctx.now())
    with ctx.engine.connect() as conn:
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        if model_name is None:
            return ui.getting_started(ctx.settings), placeholder_figure("No model yet", 300), ""
        rows = jobs.jobs(conn, model_name, window)
        counts = jobs.status_counts(conn, model_name, window)
    durations = [j.duration_seconds for j in rows if j.duration_seconds is not None]
    finished = counts.get("succeeded", 0) + counts.get("failed", 0) + counts.get("dead", 0)
    kpis = ui.kpi_row(
        [
            ui.kpi(
                f"Jobs, last {window.label}",
                fmt_int(sum(counts.values())),
                value_id="kpi-jobs-total",
            ),
            ui.kpi(
                "Succeeded",
                fmt_int(counts.get("succeeded", 0)),
                value_id="kpi-jobs-succeeded",
                tone="good",
            ),
            ui.kpi(
                "Failed or dead",
                fmt_int(counts.get("failed", 0) + counts.get("dead", 0)),
                value_id="kpi-jobs-failed",
                tone="bad" if finished - counts.get("succeeded", 0) else "neutral",
            ),
            ui.kpi(
                "Queued or running",
                fmt_int(counts.get("queued", 0) + counts.get("running", 0)),
                value_id="kpi-jobs-pending",
            ),
            ui.kpi(
                "Median duration",
                fmt_duration(median(durations) if durations else None),
                value_id="kpi-jobs-duration",
            ),
        ]
    )
    return kpis, timeline_figure(rows, window), jobs_table(rows)


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("jobs-kpis", "children"),
        Output("jobs-timeline", "figure"),
        Output("jobs-table", "children"),
        Input("refresh", "n_intervals"),
        Input("time-range", "value"),
    )
    @keep_on_database_error
    def refresh_jobs(_tick: int, range_key: str) -> tuple[Any, ...]:
        return update(ctx, range_key)
