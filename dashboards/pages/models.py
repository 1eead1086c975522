"""Models: every version with its metrics, champion and challenger, the alias history,
and links to each run in the MLflow UI when it is running."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, html

from dashboards import components as ui
from dashboards.context import DashboardContext
from dashboards.describe import primary_metric
from dashboards.figures.base import Figure, Series, placeholder_figure
from dashboards.figures.lifecycle import champion_timeline_figure, metric_by_version_figure
from dashboards.formatting import fmt_int, fmt_number, fmt_time, short_id
from dashboards.guard import keep_on_database_error
from dashboards.health import mlflow_run_url, mlflow_ui_url, probe_http
from dashboards.queries import models, status
from dashboards.queries.models import AliasMove, ModelVersion, Registry
from shared.config import Settings

MAX_METRIC_COLUMNS = 5
ALIAS_TONES = {"champion": "info", "challenger": "warn"}


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Models",
                "Every version with its metrics, which one serves, and why "
                "aliases moved. All versions, whatever the time range.",
            ),
            html.Div(id="models-kpis"),
            html.Div(
                [
                    ui.card("Primary metric by version", ui.graph("models-metric", 300)),
                    ui.card(
                        "Champion version over time", ui.graph("models-champion-timeline", 300)
                    ),
                ],
                className="grid-2",
            ),
            ui.card("Versions", html.Div(id="models-versions")),
            ui.card("Alias history", html.Div(id="models-history")),
        ]
    )


def _role(version: ModelVersion) -> str:
    return next((a for a in ("champion", "challenger") if a in version.aliases), "")


def _run_cell(settings: Settings, version: ModelVersion, mlflow_up: bool) -> Any:
    url = mlflow_run_url(settings, version.experiment_id, version.run_id) if mlflow_up else None
    label = short_id(version.run_id, 12)
    return html.A(label, href=url, target="_blank", rel="noopener") if url else label


def versions_table(settings: Settings, reg: Registry, metric: str | None, mlflow_up: bool) -> Any:
    names = [metric] if metric else []
    counts: dict[str, int] = {}
    for version in reg.versions:
        for name in version.metrics:
            counts[name] = counts.get(name, 0) + 1
    names += [n for n in sorted(counts, key=lambda n: (-counts[n], n)) if n != metric]
    names = names[:MAX_METRIC_COLUMNS]
    rows = [
        [
            f"v{v.version}",
            [ui.badge(a, ALIAS_TONES.get(a, "neutral")) for a in v.aliases],
            v.family or "–",
            fmt_time(v.created_at),
            *[fmt_number(v.metrics.get(name)) for name in names],
            short_id(v.job_id),
            _run_cell(settings, v, mlflow_up),
        ]
        for v in reversed(reg.versions)
    ]
    headers = ["version", "aliases", "family", "registered (UTC)", *names, "job", "MLflow run"]
    note = (
        None
        if mlflow_up
        else html.P(
            f"MLflow UI not reachable at {mlflow_ui_url(settings)}: run links are off.",
            className="note",
        )
    )
    return [note, ui.table(headers, rows, table_id="models-versions-table")]


ACTION_TONES = {"promote": "good", "rollback": "warn", "delete": "neutral", "set": "info"}


def history_table(moves: list[AliasMove]) -> Any:
    rows = [
        [
            fmt_time(m.created_at),
            ui.badge(m.alias, ALIAS_TONES.get(m.alias, "neutral")),
            ui.badge(m.action, ACTION_TONES.get(m.action, "neutral")),
            f"v{m.version}" if m.version else "removed",
            f"v{m.previous_version}" if m.previous_version else "–",
            m.reason,
            m.actor,
        ]
        for m in moves
    ]
    headers = ["when (UTC)", "alias", "move", "now", "before", "why", "by"]
    return ui.table(headers, rows, table_id="models-history-table", empty="No alias has moved yet.")


def _move_note(move: AliasMove) -> str:
    before = f"v{move.previous_version}" if move.previous_version else "none"
    return f"{move.action} v{move.version} (was {before}): {move.reason} [{move.actor}]"


def champion_moves(moves: list[AliasMove]) -> Series:
    """Each time the champion changed, oldest first, with why as the hover text."""
    picked = [m for m in reversed(moves) if m.alias == "champion" and m.version]
    return Series(
        "champion",
        [m.created_at for m in picked],
        [m.version for m in picked],
        [_move_note(m) for m in picked],
    )


def update(ctx: DashboardContext) -> tuple[Any, Figure, Figure, Any, Any]:
    with ctx.engine.connect() as conn:
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        reg = models.registry(conn, model_name) if model_name else Registry()
        moves = models.alias_moves(conn, model_name) if model_name else []
    if model_name is None or not reg.versions:
        empty = placeholder_figure("No model versions registered yet", 300)
        return ui.getting_started(ctx.settings), empty, empty, "", ""
    all_metrics = {name for v in reg.versions for name in v.metrics}
    metric = primary_metric(ctx.settings.primary_metric, sorted(all_metrics))
    mlflow_up = probe_http("MLflow UI", f"{mlflow_ui_url(ctx.settings)}/health").up
    champion, challenger = reg.champion, reg.challenger
    kpis = ui.kpi_row(
        [
            ui.kpi("Versions", fmt_int(len(reg.versions)), value_id="kpi-model-versions"),
            ui.kpi(
                "Champion",
                f"v{champion.version}" if champion else "none",
                value_id="kpi-models-champion",
                tone="info",
            ),
            ui.kpi(
                "Challenger",
                f"v{challenger.version}" if challenger else "none",
                value_id="kpi-models-challenger",
            ),
            ui.kpi("Alias moves", fmt_int(len(moves)), value_id="kpi-alias-moves"),
        ]
    )
    metric_figure = metric_by_version_figure(
        metric or "metric",
        [v.version for v in reg.versions],
        [v.metrics.get(metric) if metric else None for v in reg.versions],
        [_role(v) for v in reg.versions],
    )
    return (
        kpis,
        metric_figure,
        champion_timeline_figure(champion_moves(moves), ctx.now()),
        versions_table(ctx.settings, reg, metric, mlflow_up),
        history_table(moves),
    )


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("models-kpis", "children"),
        Output("models-metric", "figure"),
        Output("models-champion-timeline", "figure"),
        Output("models-versions", "children"),
        Output("models-history", "children"),
        Input("refresh", "n_intervals"),
    )
    @keep_on_database_error
    def refresh_models(_tick: int) -> tuple[Any, ...]:
        return update(ctx)
