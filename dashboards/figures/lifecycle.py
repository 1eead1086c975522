"""Models, jobs and ingestion: metric per version, champion over time, job timeline,
ingested rows per bucket."""

from __future__ import annotations

from datetime import datetime

from dashboards.figures.base import (
    BAD_COLOR,
    CHALLENGER_COLOR,
    CHAMPION_COLOR,
    GOOD_COLOR,
    NEUTRAL_COLOR,
    STATUS_COLORS,
    Figure,
    Series,
    axis,
    base_layout,
    figure,
    placeholder_figure,
    plot_time,
    plot_times,
    time_axis,
)

ROLE_COLORS = {"champion": CHAMPION_COLOR, "challenger": CHALLENGER_COLOR}


def metric_by_version_figure(
    metric: str, versions: list[str], values: list[float | None], roles: list[str]
) -> Figure:
    """One bar per version; champion and challenger coloured."""
    if not versions:
        return placeholder_figure("No model versions registered yet", 300)
    data = [
        {
            "type": "bar",
            "x": [f"v{v}" for v in versions],
            "y": values,
            "marker": {"color": [ROLE_COLORS.get(role, NEUTRAL_COLOR) for role in roles]},
            "text": [f"{v:.3f}" if v is not None else "" for v in values],
            "textposition": "outside",
            "customdata": roles,
            "hovertemplate": "%{x} %{customdata}: %{y:.4f}<extra></extra>",
        }
    ]
    finite = [v for v in values if v is not None]
    y_range = [max(0.0, min(finite, default=0.0) - 0.1), max(finite, default=1.0) * 1.04]
    return figure(
        data,
        base_layout(
            300,
            hovermode="closest",
            xaxis=axis(type="category"),
            yaxis=axis(range=y_range, title={"text": metric}),
        ),
    )


def champion_timeline_figure(moves: Series, now: datetime) -> Figure:
    """Which version was champion when (steps at each promotion or rollback)."""
    if not moves:
        return placeholder_figure("No promotions recorded yet", height=300)
    data = [
        {
            "type": "scatter",
            "x": [*moves.x, plot_time(now)],
            "y": [*moves.y, moves.y[-1]],
            "mode": "lines+markers",
            "line": {"shape": "hv", "color": CHAMPION_COLOR, "width": 2},
            "marker": {"size": [9] * len(moves.x) + [0]},
            "hovertext": [*(moves.counts or []), "now"],
            "hoverinfo": "text",
        }
    ]
    return figure(
        data,
        base_layout(
            300,
            hovermode="closest",
            showlegend=False,
            xaxis=axis(type="date"),
            yaxis=axis(type="category", title={"text": "version"}),
        ),
    )


def job_timeline_figure(
    labels: list[str],
    starts: list[datetime],
    ends: list[datetime],
    statuses: list[str],
    hover: list[str],
    window: tuple[datetime, datetime],
) -> Figure:
    """One bar per job from start to end (or now), coloured by status; short jobs stay visible."""
    if not labels:
        return placeholder_figure("No training jobs in this time range", height=300)
    shortest_ms = (window[1] - window[0]).total_seconds() * 1000 / 200
    data = []
    for status in dict.fromkeys(statuses):
        picks = [i for i, s in enumerate(statuses) if s == status]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": status,
                "y": [labels[i] for i in picks],
                "base": plot_times([starts[i] for i in picks]),
                "x": [
                    max((ends[i] - starts[i]).total_seconds() * 1000, shortest_ms) for i in picks
                ],
                "marker": {"color": STATUS_COLORS.get(status, NEUTRAL_COLOR)},
                "hovertext": [hover[i] for i in picks],
                "hoverinfo": "text",
            }
        )
    height = min(max(220, 60 + 24 * len(labels)), 520)
    return figure(
        data,
        base_layout(
            height,
            hovermode="closest",
            barmode="overlay",
            xaxis=time_axis(*window),
            yaxis=axis(
                autorange="reversed",
                type="category",
                showticklabels=len(labels) <= 30,
                automargin=True,
            ),
        ),
    )


def ingestion_figure(
    accepted: Series, rejected: Series, coverage: Series, start: datetime, end: datetime
) -> Figure:
    """Rows accepted vs rejected per bucket, with the labelled share on a second axis."""
    if not accepted:
        return placeholder_figure("No batches ingested in this time range", height=360)
    data = [
        {
            "type": "bar",
            "x": accepted.x,
            "y": accepted.y,
            "name": "accepted",
            "marker": {"color": GOOD_COLOR},
        },
        {
            "type": "bar",
            "x": rejected.x,
            "y": rejected.y,
            "name": "rejected",
            "marker": {"color": BAD_COLOR},
        },
        {
            "type": "scatter",
            "x": coverage.x,
            "y": coverage.y,
            "name": "labelled share",
            "yaxis": "y2",
            "mode": "lines+markers",
            "line": {"color": CHAMPION_COLOR, "width": 2},
            "hovertemplate": "%{y:.0%}",
        },
    ]
    layout = base_layout(
        360,
        barmode="stack",
        xaxis=time_axis(start, end),
        yaxis=axis(title={"text": "rows"}, rangemode="tozero"),
        yaxis2=axis(
            title={"text": "labelled"},
            overlaying="y",
            side="right",
            range=[0, 1.05],
            tickvals=[0, 0.25, 0.5, 0.75, 1],
            tickformat=".0%",
            showgrid=False,
        ),
    )
    return figure(data, layout)
