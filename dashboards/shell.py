"""The frame around every page: navigation, time range, live switch, status banner."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboards.context import DashboardContext
from dashboards.pages import PAGES, page_for
from dashboards.queries.status import DatabaseState, database_state
from dashboards.time_range import DEFAULT_RANGE, RANGE_OPTIONS
from shared.config import Settings


def nav_links(active_path: str | None) -> list[dcc.Link]:
    current = page_for(active_path)
    return [
        dcc.Link(
            page.title,
            href=page.path,
            id=f"nav-{page.title.lower()}",
            className="nav-link active" if page is current else "nav-link",
        )
        for page in PAGES
    ]


def shell_layout(settings: Settings) -> html.Div:
    """Built per page load (Dash calls it), so nothing is read at import time."""
    seconds = settings.dashboard_refresh_seconds
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Interval(id="refresh", interval=int(seconds * 1000), n_intervals=0),
            html.Header(
                [
                    html.Div(
                        [
                            html.Span("ml-pipeline", className="brand"),
                            html.Span("monitor", className="brand-sub"),
                        ],
                        className="brand-box",
                    ),
                    html.Nav(nav_links("/"), id="nav", className="nav"),
                    html.Div(
                        [
                            dcc.RadioItems(
                                id="time-range",
                                value=DEFAULT_RANGE,
                                inline=True,
                                persistence=True,
                                persistence_type="local",
                                options=[{"label": o.key, "value": o.key} for o in RANGE_OPTIONS],
                                className="segmented",
                                inputClassName="segmented-input",
                                labelClassName="segmented-label",
                            ),
                            dcc.Checklist(
                                id="live",
                                options=[{"label": " live", "value": "on"}],
                                value=["on"],
                                className="live-toggle",
                            ),
                            html.Span(id="last-updated", className="updated"),
                        ],
                        className="header-controls",
                    ),
                ],
                className="topbar",
            ),
            html.Div(id="banner", className="banner hidden", role="alert"),
            html.Main(id="page", className="page"),
            html.Footer(
                f"Times in UTC. Refreshes every {seconds:g} s while live.", className="footer"
            ),
        ],
        className="app",
    )


def banner(state: DatabaseState, refresh_seconds: float) -> tuple[Any, str]:
    """Banner text and class for the database state (hidden when all is well)."""
    if state.ok:
        return "", "banner hidden"
    if not state.reachable:
        return (
            [
                html.Strong("Database unreachable. "),
                f"{state.error}. Showing the last data received; retrying every "
                f"{refresh_seconds:g} s.",
            ],
            "banner error",
        )
    return (
        [
            html.Strong("Database not initialised. "),
            "Run ",
            html.Code(".venv/bin/mlpipe db upgrade"),
            " (or ",
            html.Code("./run_all_services.sh"),
            f"). Detail: {state.error}",
        ],
        "banner warn",
    )


def not_found(path: str | None) -> html.Div:
    return html.Div(
        [
            html.H2("Page not found"),
            html.P(f"There is no page at {path}. Pick one from the navigation."),
        ],
        className="empty-state",
    )


def register(app: Dash, ctx: DashboardContext) -> None:
    settings = ctx.settings

    @app.callback(Output("page", "children"), Output("nav", "children"), Input("url", "pathname"))
    def route(path: str | None) -> tuple[Any, list[dcc.Link]]:
        page = page_for(path)
        content = page.layout(settings) if page else not_found(path)
        return content, nav_links(path)

    @app.callback(Output("refresh", "disabled"), Input("live", "value"))
    def toggle_live(value: list[str] | None) -> bool:
        return "on" not in (value or [])

    @app.callback(
        Output("banner", "children"),
        Output("banner", "className"),
        Output("last-updated", "children"),
        Input("refresh", "n_intervals"),
    )
    def show_status(_tick: int) -> tuple[Any, str, str]:
        state = database_state(ctx.engine)
        children, class_name = banner(state, settings.dashboard_refresh_seconds)
        stamp = ctx.now().strftime("%H:%M:%S UTC")
        return children, class_name, f"updated {stamp}" if state.ok else f"last try {stamp}"
