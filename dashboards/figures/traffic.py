"""Request rate, latency percentiles and the last hour's per-minute sparkline."""

from __future__ import annotations

from datetime import datetime

from dashboards.figures.base import (
    CHAMPION_COLOR,
    WARN_COLOR,
    Figure,
    Series,
    axis,
    base_layout,
    figure,
    placeholder_figure,
    time_axis,
    version_color,
)

NO_TRAFFIC = "No predictions in this time range"


def request_rate_figure(by_version: list[Series], start: datetime, end: datetime) -> Figure:
    """Predictions per minute, stacked by the model version that served them."""
    if not any(by_version):
        return placeholder_figure(NO_TRAFFIC)
    data = [
        {
            "type": "scatter",
            "x": s.x,
            "y": s.y,
            "name": f"v{s.name}",
            "stackgroup": "rate",
            "mode": "lines",
            "line": {"width": 1.5, "color": version_color(s.name)},
            "hovertemplate": "%{y:.1f}/min",
        }
        for s in by_version
    ]
    return figure(
        data,
        base_layout(
            xaxis=time_axis(start, end),
            yaxis=axis(rangemode="tozero", title={"text": "predictions / min"}),
        ),
    )


def latency_figure(
    p50: Series, p95: Series, mean: Series, start: datetime, end: datetime
) -> Figure:
    """p50 and p95 from the rollup's latency histograms, with the mean for reference."""
    if not p50:
        return placeholder_figure(NO_TRAFFIC)
    lines = (
        (p95, WARN_COLOR, "solid", 2),
        (p50, CHAMPION_COLOR, "solid", 2),
        (mean, "#6b7280", "dot", 1),
    )
    data = [
        {
            "type": "scatter",
            "x": s.x,
            "y": s.y,
            "name": s.name,
            "mode": "lines",
            "line": {"color": color, "width": width, "dash": dash},
            "hovertemplate": "%{y:.1f} ms",
        }
        for s, color, dash, width in lines
    ]
    return figure(
        data,
        base_layout(
            xaxis=time_axis(start, end), yaxis=axis(rangemode="tozero", title={"text": "ms"})
        ),
    )


def per_minute_figure(series: Series, start: datetime, end: datetime) -> Figure:
    """The last hour, one bar per minute (Overview)."""
    if not series:
        return placeholder_figure("No predictions in the last hour", height=180)
    data = [
        {
            "type": "bar",
            "x": series.x,
            "y": series.y,
            "marker": {"color": CHAMPION_COLOR},
            "hovertemplate": "%{x|%H:%M}: %{y} predictions<extra></extra>",
        }
    ]
    layout = base_layout(
        180,
        margin={"l": 40, "r": 8, "t": 8, "b": 28},
        bargap=0.15,
        hovermode="closest",
        xaxis=time_axis(start, end, tickformat="%H:%M"),
        yaxis=axis(rangemode="tozero"),
    )
    return figure(data, layout)
