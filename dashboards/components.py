"""Layout building blocks shared by the pages: KPI tiles, cards, tables, badges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from dashboards.figures.base import placeholder_figure
from shared.config import Settings

GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}
TONES = ("good", "bad", "warn", "neutral", "info")


def kpi(
    label: str,
    value: str,
    *,
    value_id: str | None = None,
    hint: str | None = None,
    tone: str = "neutral",
) -> html.Div:
    """A big number with its label; value_id lets tests read the number."""
    value_props: dict[str, Any] = {"className": "kpi-value"}
    if value_id:
        value_props["id"] = value_id
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            html.Div(value, **value_props),
            html.Div(hint or "", className="kpi-hint"),
        ],
        className=f"kpi tone-{tone}",
    )


def kpi_row(tiles: Sequence[html.Div]) -> html.Div:
    return html.Div(list(tiles), className="kpi-row")


def card(
    title: str, children: Any, *, card_id: str | None = None, class_name: str = ""
) -> html.Section:
    props: dict[str, Any] = {"className": f"card {class_name}".strip()}
    if card_id:
        props["id"] = card_id
    return html.Section([html.H3(title, className="card-title"), html.Div(children)], **props)


def badge(text: str, tone: str = "neutral") -> html.Span:
    return html.Span(text, className=f"badge tone-{tone}")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    table_id: str | None = None,
    empty: str = "Nothing to show yet.",
) -> html.Div | html.P:
    """A plain HTML table (cells may be components); a message when there are no rows."""
    if not rows:
        return html.P(empty, className="empty-note")
    props: dict[str, Any] = {"className": "data-table"}
    if table_id:
        props["id"] = table_id
    head = html.Thead(html.Tr([html.Th(h) for h in headers]))
    body = html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows])
    return html.Div(html.Table([head, body], **props), className="table-scroll")


def graph(graph_id: str, height: int = 320) -> dcc.Graph:
    """A chart slot; its figure comes from the page's callback."""
    return dcc.Graph(
        id=graph_id,
        figure=placeholder_figure("Loading…", height),
        config=GRAPH_CONFIG,
        className="graph",
    )


def empty_state(title: str, body: Any, *, state_id: str | None = None) -> html.Div:
    props: dict[str, Any] = {"className": "empty-state"}
    if state_id:
        props["id"] = state_id
    return html.Div([html.H3(title), html.Div(body)], **props)


def getting_started(settings: Settings) -> html.Div:
    """What a fresh install should do next (shown instead of empty charts)."""
    predict_url = f"http://{settings.host}:{settings.prediction_service_port}/predict"
    steps = [
        ("Start everything (creates the sample model when none exists)", "./run_all_services.sh"),
        (
            "Or initialise a model from your own CSV",
            ".venv/bin/mlpipe init --data data/lung_disease.csv --target Recovered",
        ),
        (
            "Then send traffic to the prediction service",
            f"curl -X POST {predict_url} -H 'Content-Type: application/json' "
            "-d '{\"records\": [{...}]}'",
        ),
    ]
    return empty_state(
        "No model yet",
        html.Ol([html.Li([html.Div(text), html.Code(command)]) for text, command in steps]),
        state_id="getting-started",
    )


def page_title(title: str, subtitle: str) -> html.Div:
    return html.Div(
        [html.H2(title), html.P(subtitle, className="subtitle")], className="page-title"
    )
