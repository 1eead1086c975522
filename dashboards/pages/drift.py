"""Drift: per-feature scores over time, verdicts on the timeline, and any event's
reference-vs-current distribution with its test statistics."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, callback_context, dcc, html, no_update

from dashboards import components as ui
from dashboards.context import DashboardContext
from dashboards.describe import verdict_tone, verdict_word
from dashboards.figures.base import Figure, placeholder_figure
from dashboards.figures.drift import DriftTimeline, drift_heatmap_figure
from dashboards.formatting import fmt_ago, fmt_int, fmt_time
from dashboards.guard import keep_on_database_error
from dashboards.pages.drift_detail import (
    default_feature,
    event_summary,
    feature_view,
    report_features,
)
from dashboards.queries import drift, status
from dashboards.queries.drift import DriftEvent
from dashboards.time_range import resolve_window
from shared.config import Settings

MAX_EVENT_OPTIONS = 200


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Drift",
                "How far each feature has moved from the training data, "
                "what the monitor concluded, and what it did.",
            ),
            html.Div(id="drift-kpis"),
            ui.card(
                "Effect size per feature over time (click a cell or a verdict marker to inspect it)",
                ui.graph("drift-heatmap", 460),
            ),
            ui.card(
                "Drift event in detail",
                [
                    html.Div(
                        [
                            html.Label(["Event", dcc.Dropdown(id="drift-event", clearable=False)]),
                            html.Label(
                                ["Feature", dcc.Dropdown(id="drift-feature", clearable=False)]
                            ),
                        ],
                        className="controls",
                    ),
                    html.Div(id="drift-event-summary"),
                    html.Div(
                        [
                            ui.graph("drift-distribution", 340),
                            html.Div(id="drift-feature-stats", className="stats-panel"),
                        ],
                        className="grid-detail",
                    ),
                ],
            ),
            dcc.Store(id="drift-feature-request"),
        ]
    )


def timeline(events: list[DriftEvent]) -> DriftTimeline:
    peak: dict[str, float] = {}
    for event in events:
        for name, score in event.feature_scores.items():
            peak[name] = max(peak.get(name, 0.0), score)
    features = sorted(peak, key=lambda name: -peak[name])
    return DriftTimeline(
        times=[e.created_at for e in events],
        event_ids=[e.id for e in events],
        features=features,
        scores=[[e.feature_scores.get(name) for e in events] for name in features],
        verdicts=[e.dataset_drift for e in events],
        hover=[_hover(e) for e in events],
        acted=[bool(e.job_id) for e in events],
    )


def _hover(event: DriftEvent) -> str:
    verdict = verdict_word(event.dataset_drift)
    drifted = ", ".join(event.drifted_features[:6]) or "none"
    return (
        f"#{event.id} {fmt_time(event.created_at)}<br>{verdict}: {event.reason[:90]}"
        f"<br>drifted: {drifted}<br>action: {event.action}"
    )


def _option(event: DriftEvent) -> dict[str, Any]:
    verdict = verdict_word(event.dataset_drift)
    return {
        "label": f"#{event.id} · {fmt_time(event.created_at)} · {verdict} · "
        f"{len(event.drifted_features)} drifted",
        "value": event.id,
    }


def update(ctx: DashboardContext, range_key: str | None) -> tuple[Any, Figure, list[dict]]:
    """KPI tiles, the heatmap, and the event picker's options (newest first)."""
    now = ctx.now()
    window = resolve_window(range_key, now)
    with ctx.engine.connect() as conn:
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        if model_name is None:
            return ui.getting_started(ctx.settings), placeholder_figure("No model yet", 460), []
        counts = drift.event_counts(conn, model_name, window.start, window.end)
        latest = drift.latest_event(conn, model_name)
        events = ctx.buckets.rows(
            "drift-events",
            model_name,
            window.start,
            window.end,
            window.bucket_seconds,
            now,
            lambda start, end: drift.events(conn, model_name, start, end),
        )
    shown = f"{fmt_int(len(events))} shown" if len(events) < counts.checks else ""
    kpis = ui.kpi_row(
        [
            ui.kpi(
                f"Drift checks, last {window.label}",
                fmt_int(counts.checks),
                value_id="kpi-drift-checks",
                hint=shown,
            ),
            ui.kpi(
                "Drift detected",
                fmt_int(counts.drifted),
                value_id="kpi-drift-detected",
                tone="bad" if counts.drifted else "good",
            ),
            ui.kpi("Retraining triggered", fmt_int(counts.retrains), value_id="kpi-drift-retrains"),
            ui.kpi(
                "Latest verdict",
                verdict_word(latest.dataset_drift) if latest else "–",
                value_id="kpi-drift-latest",
                hint=fmt_ago(latest.created_at, now) if latest else "no check yet",
                tone=verdict_tone(latest.dataset_drift) if latest else "neutral",
            ),
        ]
    )
    options = [_option(e) for e in reversed(events[-MAX_EVENT_OPTIONS:])]
    return kpis, drift_heatmap_figure(timeline(events), window.start, window.end), options


def detail(
    ctx: DashboardContext, event_id: int | None, feature: str | None
) -> tuple[list[dict], str | None, Figure, Any, Any]:
    """Feature options, the chosen feature, its distribution, its statistics, the summary."""
    found = None
    if event_id is not None:
        with ctx.engine.connect() as conn:
            found = drift.event_with_report(conn, int(event_id))
    if found is None:
        return [], None, placeholder_figure("Pick a drift event", 340), "", ""
    event, report = found
    features = report_features(report)
    chosen = feature if feature in features else default_feature(event, features)
    options = [
        {"label": f"{name}{' (drift)' if name in event.drifted_features else ''}", "value": name}
        for name in sorted(features)
    ]
    figure, stats = feature_view(event, report, chosen)
    return options, chosen, figure, stats, event_summary(event, report)


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("drift-kpis", "children"),
        Output("drift-heatmap", "figure"),
        Output("drift-event", "options"),
        Output("drift-event", "value"),
        Output("drift-feature-request", "data"),
        Input("refresh", "n_intervals"),
        Input("time-range", "value"),
        Input("drift-heatmap", "clickData"),
        State("drift-event", "value"),
    )
    @keep_on_database_error
    def refresh_drift(
        _tick: int, range_key: str, click: dict | None, current: int | None
    ) -> tuple[Any, ...]:
        kpis, figure, options = update(ctx, range_key)
        if callback_context.triggered_id == "drift-heatmap" and click:
            point = click["points"][0]
            feature = point.get("y") if isinstance(point.get("y"), str) else None
            return kpis, figure, options, point.get("customdata"), feature
        values = [option["value"] for option in options]
        chosen = current if current in values else (values[0] if values else None)
        return kpis, figure, options, no_update if chosen == current else chosen, no_update

    @app.callback(
        Output("drift-feature", "options"),
        Output("drift-feature", "value"),
        Output("drift-distribution", "figure"),
        Output("drift-feature-stats", "children"),
        Output("drift-event-summary", "children"),
        Input("drift-event", "value"),
        Input("drift-feature", "value"),
        Input("drift-feature-request", "data"),
    )
    @keep_on_database_error
    def show_event(
        event_id: int | None, feature: str | None, requested: str | None
    ) -> tuple[Any, ...]:
        if callback_context.triggered_id == "drift-feature-request" and requested:
            feature = requested
        return detail(ctx, event_id, feature)
