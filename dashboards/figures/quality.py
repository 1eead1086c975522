"""What the model predicts and how right it is: class mix, realised accuracy, shadow agreement."""

from __future__ import annotations

from datetime import datetime

from dashboards.figures.base import (
    Figure,
    Series,
    axis,
    base_layout,
    figure,
    placeholder_figure,
    series_color,
    time_axis,
    version_color,
)

SHARE_AXIS = {"range": [0, 1.02], "tickformat": ".0%"}


def class_mix_figure(by_class: list[Series], start: datetime, end: datetime) -> Figure:
    """Share of each predicted class per bucket (stacked to 100%)."""
    if not any(by_class):
        return placeholder_figure("No predictions in this time range")
    data = [
        {
            "type": "scatter",
            "x": s.x,
            "y": s.y,
            "name": s.name,
            "stackgroup": "mix",
            "groupnorm": "percent",
            "mode": "lines",
            "line": {"width": 0.5, "color": series_color(i)},
            "customdata": s.counts,
            "hovertemplate": "%{y:.1f}% (%{customdata})",
        }
        for i, s in enumerate(by_class)
    ]
    return figure(
        data, base_layout(xaxis=time_axis(start, end), yaxis=axis(range=[0, 100], ticksuffix="%"))
    )


def accuracy_figure(
    by_version: list[Series], shadow: Series, start: datetime, end: datetime
) -> Figure:
    """Realised accuracy by when labels arrived; the challenger's on the same rows, dashed."""
    if not any(by_version):
        return placeholder_figure("No labels fed back in this time range")
    data = [
        {
            "type": "scatter",
            "x": s.x,
            "y": s.y,
            "name": f"v{s.name}",
            "mode": "lines+markers",
            "line": {"color": version_color(s.name), "width": 2},
            "marker": {"size": 5},
            "customdata": s.counts,
            "hovertemplate": "%{y:.1%} of %{customdata} labels",
        }
        for s in by_version
    ]
    if shadow:
        data.append(
            {
                "type": "scatter",
                "x": shadow.x,
                "y": shadow.y,
                "mode": "lines+markers",
                "name": f"challenger {shadow.name} (shadow)",
                "line": {
                    "color": version_color(shadow.name.lstrip("v")),
                    "width": 2,
                    "dash": "dash",
                },
                "marker": {"size": 5, "symbol": "diamond"},
                "customdata": shadow.counts,
                "hovertemplate": "%{y:.1%} of %{customdata} labels",
            }
        )
    return figure(data, base_layout(xaxis=time_axis(start, end), yaxis=axis(**SHARE_AXIS)))


def shadow_agreement_figure(agreement: Series, start: datetime, end: datetime) -> Figure:
    """How often the challenger, scored in shadow, agrees with the champion."""
    if not agreement:
        return placeholder_figure("No shadow scoring in this time range (no challenger)")
    data = [
        {
            "type": "scatter",
            "x": agreement.x,
            "y": agreement.y,
            "name": f"agreement with {agreement.name}",
            "mode": "lines+markers",
            "line": {"color": version_color(agreement.name.lstrip("v")), "width": 2},
            "marker": {"size": 5},
            "customdata": agreement.counts,
            "hovertemplate": "%{y:.1%} of %{customdata} shadowed",
        }
    ]
    return figure(
        data, base_layout(showlegend=True, xaxis=time_axis(start, end), yaxis=axis(**SHARE_AXIS))
    )
