"""The look shared by every chart: colours, margins, empty states.

Figures are plain plotly.js dicts ({"data": [...], "layout": {...}}): Dash sends them
as they are, and building them costs microseconds where `go.Figure` validation
costs tens of milliseconds per chart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Figure = dict[str, Any]

CHAMPION_COLOR = "#2563eb"
CHALLENGER_COLOR = "#ea580c"
GOOD_COLOR = "#16a34a"
BAD_COLOR = "#dc2626"
WARN_COLOR = "#d97706"
NEUTRAL_COLOR = "#9ca3af"
REFERENCE_COLOR = "#94a3b8"
# Predicted classes: distinguishable, colour-blind friendly.
SERIES_COLORS = (
    "#2563eb",
    "#ea580c",
    "#059669",
    "#9333ea",
    "#ca8a04",
    "#0891b2",
    "#db2777",
    "#4b5563",
)
STATUS_COLORS = {
    "succeeded": GOOD_COLOR,
    "failed": BAD_COLOR,
    "dead": "#7f1d1d",
    "running": CHAMPION_COLOR,
    "queued": NEUTRAL_COLOR,
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
GRID = {"gridcolor": "#eef0f3", "linecolor": "#d1d5db", "zeroline": False}


# Model versions: one colour per version number, the same in every chart, and apart
# from the blue/orange that mean champion/challenger on the Models page.
VERSION_COLORS = (
    "#4f46e5",
    "#0d9488",
    "#c026d3",
    "#b45309",
    "#0284c7",
    "#65a30d",
    "#e11d48",
    "#57534e",
)


def series_color(index: int) -> str:
    return SERIES_COLORS[index % len(SERIES_COLORS)]


def version_color(version: str) -> str:
    index = int(version) - 1 if version.isdigit() else sum(map(ord, version))
    return VERSION_COLORS[index % len(VERSION_COLORS)]


def axis(**settings: Any) -> dict[str, Any]:
    return {**GRID, **settings}


def base_layout(height: int = 320, **overrides: Any) -> dict[str, Any]:
    """Layout every chart starts from; uirevision keeps zoom across live refreshes."""
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 28, "b": 40},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": FONT, "size": 12, "color": "#1f2937"},
        "legend": {
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "traceorder": "normal",
        },
        "xaxis": axis(),
        "yaxis": axis(),
        "hovermode": "x unified",
        "uirevision": "keep",
    }
    layout.update(overrides)
    return layout


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    return {"data": data, "layout": layout}


def placeholder_figure(message: str, height: int = 320) -> Figure:
    """An empty chart that says why it is empty (no data, no model, loading)."""
    note = {
        "text": message,
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "font": {"size": 14, "color": "#6b7280"},
    }
    hidden = {"visible": False}
    return figure(
        [], base_layout(height, hovermode=False, xaxis=hidden, yaxis=hidden, annotations=[note])
    )


def time_axis(start: datetime, end: datetime, **settings: Any) -> dict[str, Any]:
    """An x axis pinned to the selected window, so an idle period shows as a gap."""
    return axis(range=[plot_time(start), plot_time(end)], type="date", **settings)


def plot_time(value: datetime) -> str:
    """plotly.js reads naive ISO strings as wall time: send UTC without an offset."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds")


def plot_times(values: list[Any]) -> list[Any]:
    return [plot_time(v) if isinstance(v, datetime) else v for v in values]


class Series:
    """One named line of a chart: x values, y values and optional hover counts."""

    __slots__ = ("name", "x", "y", "counts")

    def __init__(
        self, name: str, x: list[Any], y: list[Any], counts: list[Any] | None = None
    ) -> None:
        self.name, self.x, self.y, self.counts = name, plot_times(x), y, counts

    def __bool__(self) -> bool:
        return bool(self.x)
