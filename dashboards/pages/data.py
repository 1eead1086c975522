"""Data: ingested batches over time, accepted vs rejected rows, label coverage."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, html

from dashboards import components as ui
from dashboards.context import DashboardContext
from dashboards.figures.base import Figure, Series
from dashboards.figures.lifecycle import ingestion_figure
from dashboards.formatting import fmt_int, fmt_pct
from dashboards.guard import keep_on_database_error
from dashboards.queries import data, status
from dashboards.queries.data import BatchBucket
from dashboards.queries.status import ActiveDataset
from dashboards.series import ratio
from dashboards.time_range import Window, resolve_window
from shared.config import Settings


def layout(settings: Settings) -> html.Div:
    return html.Div(
        [
            ui.page_title(
                "Data",
                "What came in through the ingestion API, what was rejected, and "
                "how much of it carries labels.",
            ),
            html.Div(id="data-kpis"),
            html.Div(
                [
                    ui.card(
                        "Ingested rows: accepted, rejected, labelled share",
                        ui.graph("data-ingestion", 360),
                    ),
                    ui.card("Active dataset", html.Div(id="data-dataset")),
                ],
                className="grid-wide",
            ),
        ]
    )


def ingestion_series(buckets: list[BatchBucket], window: Window) -> tuple[Series, Series, Series]:
    times = [window.bucket_start(b.epoch) for b in buckets]
    coverage = [
        (t, b.labelled / b.accepted) for t, b in zip(times, buckets, strict=True) if b.accepted
    ]
    return (
        Series("accepted", times, [b.accepted for b in buckets]),
        Series("rejected", times, [b.rejected for b in buckets]),
        Series("labelled share", [t for t, _ in coverage], [c for _, c in coverage]),
    )


def dataset_card(dataset: ActiveDataset | None) -> Any:
    if dataset is None:
        return html.P("No active dataset: run mlpipe init.", className="empty-note")
    return ui.table(
        ["", ""],
        [
            ["name", dataset.name],
            ["target", dataset.target],
            ["task", dataset.task],
            ["reference rows", fmt_int(dataset.n_rows)],
        ],
        table_id="data-dataset-table",
    )


def update(ctx: DashboardContext, range_key: str | None) -> tuple[Any, Figure, Any]:
    window = resolve_window(range_key, ctx.now())
    with ctx.engine.connect() as conn:
        dataset = status.active_dataset(conn)
        model_name = status.active_model_name(conn, ctx.settings.model_name)
        buckets = data.batch_series(conn, dataset.id if dataset else None, window)
        served = labels = 0
        if model_name:
            history = ctx.history(conn, model_name, window)  # memoised, warm with Predictions
            served = sum(row.n for row in history.traffic())
            labels = sum(row.n_labelled for row in history.labels())
    accepted = sum(b.accepted for b in buckets)
    rejected = sum(b.rejected for b in buckets)
    labelled = sum(b.labelled for b in buckets)
    kpis = ui.kpi_row(
        [
            ui.kpi(
                f"Batches, last {window.label}",
                fmt_int(sum(b.batches for b in buckets)),
                value_id="kpi-data-batches",
            ),
            ui.kpi("Rows accepted", fmt_int(accepted), value_id="kpi-data-accepted", tone="good"),
            ui.kpi(
                "Rows rejected",
                fmt_int(rejected),
                value_id="kpi-data-rejected",
                hint=f"{fmt_pct(ratio(rejected, accepted + rejected))} of rows",
                tone="bad" if rejected else "neutral",
            ),
            ui.kpi(
                "Ingested rows labelled",
                fmt_pct(ratio(labelled, accepted)),
                value_id="kpi-data-labelled",
                hint=f"{fmt_int(labelled)} rows",
            ),
            ui.kpi(
                "Predictions labelled",
                fmt_pct(ratio(labels, served)),
                value_id="kpi-data-feedback",
                hint=f"{fmt_int(labels)} labels fed back / {fmt_int(served)} served",
            ),
        ]
    )
    figure = ingestion_figure(*ingestion_series(buckets, window), window.start, window.end)
    return kpis, figure, dataset_card(dataset)


def register(app: Dash, ctx: DashboardContext) -> None:
    @app.callback(
        Output("data-kpis", "children"),
        Output("data-ingestion", "figure"),
        Output("data-dataset", "children"),
        Input("refresh", "n_intervals"),
        Input("time-range", "value"),
    )
    @keep_on_database_error
    def refresh_data(_tick: int, range_key: str) -> tuple[Any, ...]:
        return update(ctx, range_key)
