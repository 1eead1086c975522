"""Predictions: traffic and latency, class mix, realised accuracy, shadow agreement."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, html

from dashboards import components as ui
from dashboards import series as make
from dashboards.context import DashboardContext
from dashboards.figures.base import placeholder_figure
from dashboards.figures.quality import accuracy_figure, class_mix_figure, shadow_agreement_figure
from dashboards.figures.traffic import latency_figure, request_rate_figure
from dashboards.formatting import fmt_int, fmt_ms, fmt_pct, fmt_rate
from dashboards.guard import keep_on_database_error
from dashboards.queries import models, status
from dashboards.queries.labels import AccuracyRow
from dashboards.queries.predictions import LatencyRow, TrafficRow
from dashboards.time_range import Window, resolve_window
from shared.config import Settings

GRAPHS = ("pred-rate", "pred-latency", "pred-class-mix", "pred-accuracy", "pred-shadow")


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Predictions",
                "Traffic, latency, what the model predicts, and how often "
                "it is right once labels come back.",
            ),
            html.Div(id="pred-kpis"),
            html.Div(
                [
                    ui.card("Requests per minute, by model version", ui.graph("pred-rate")),
                    ui.card("Latency per prediction (server side)", ui.graph("pred-latency")),
                ],
                className="grid-2",
            ),
            html.Div(
                [
                    ui.card("Predicted class mix", ui.graph("pred-class-mix")),
                    ui.card("Realised accuracy, by when labels arrived", ui.graph("pred-accuracy")),
                ],
                className="grid-2",
            ),
            ui.card(
                "Shadow agreement: challenger predicts the same as the champion",
                ui.graph("pred-shadow"),
            ),
        ]
    )


def update(ctx: DashboardContext, range_key: str | None) -> tuple[Any, ...]:
    """KPI tiles and the five charts for the selected window."""
    window = resolve_window(range_key, ctx.now())
    with ctx.engine.connect() as conn:
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        if model_name is None:
            empty = placeholder_figure("No model yet")
            return (ui.getting_started(ctx.settings), *[empty] * len(GRAPHS))
        history = ctx.history(conn, model_name, window)
        traffic, histograms = history.traffic(), history.latency()
        mix, accuracy = history.classes(), history.labels()
        challenger = models.registry(conn, model_name).challenger
    challenger_name = f"v{challenger.version}" if challenger else "(former challenger)"
    start, end = window.start, window.end
    figures = (
        request_rate_figure(make.rate_by_version(traffic, window), start, end),
        latency_figure(
            make.latency_percentile(histograms, 50, window),
            make.latency_percentile(histograms, 95, window),
            make.mean_latency(traffic, window),
            start,
            end,
        ),
        class_mix_figure(make.class_shares(mix, window), start, end),
        accuracy_figure(
            make.accuracy_by_version(accuracy, window),
            make.shadow_accuracy(accuracy, window, challenger_name),
            start,
            end,
        ),
        shadow_agreement_figure(
            make.shadow_agreement(traffic, window, challenger_name), start, end
        ),
    )
    return (_kpis(traffic, histograms, accuracy, window), *figures)


def _kpis(
    traffic: list[TrafficRow],
    histograms: list[LatencyRow],
    accuracy: list[AccuracyRow],
    window: Window,
) -> html.Div:
    total = sum(row.n for row in traffic)
    labelled = sum(row.n_labelled for row in accuracy)
    correct = sum(row.n_correct for row in accuracy)
    shadow_n = sum(row.shadow_n for row in traffic)
    agree = sum(row.shadow_agree for row in traffic)
    minutes = (window.end - window.start).total_seconds() / 60
    return ui.kpi_row(
        [
            ui.kpi(
                f"Predictions, last {window.label}",
                fmt_int(total),
                value_id="kpi-predictions-total",
            ),
            ui.kpi("Average rate", fmt_rate(total / minutes), value_id="kpi-rate"),
            ui.kpi(
                "Latency p50",
                fmt_ms(make.overall_percentile(histograms, 50)),
                value_id="kpi-latency-p50",
            ),
            ui.kpi(
                "Latency p95",
                fmt_ms(make.overall_percentile(histograms, 95)),
                value_id="kpi-latency-p95",
            ),
            ui.kpi(
                "Realised accuracy",
                fmt_pct(make.ratio(correct, labelled)),
                value_id="kpi-accuracy",
                hint=f"{fmt_int(labelled)} labels arrived",
            ),
            ui.kpi(
                "Shadow agreement",
                fmt_pct(make.ratio(agree, shadow_n)),
                value_id="kpi-shadow-agreement",
                hint=f"{fmt_int(shadow_n)} shadowed",
            ),
        ]
    )


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("pred-kpis", "children"),
        *[Output(graph_id, "figure") for graph_id in GRAPHS],
        Input("refresh", "n_intervals"),
        Input("time-range", "value"),
    )
    @keep_on_database_error
    def refresh_predictions(_tick: int, range_key: str) -> tuple[Any, ...]:
        return update(ctx, range_key)
