"""Drift over time (per-feature heatmap under data-set verdict markers) and one feature's
reference-vs-current distribution from a stored report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboards.figures.base import (
    BAD_COLOR,
    CHAMPION_COLOR,
    GOOD_COLOR,
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    Figure,
    axis,
    base_layout,
    figure,
    placeholder_figure,
    plot_times,
    time_axis,
)

RETRAIN_LABEL = "drift, retraining enqueued"
# Light (no movement) to dark red (large effect); spelled out because plotly.js's own
# "YlOrRd" runs the other way round from plotly.py's.
EFFECT_COLORSCALE = [
    [0.0, "#ffffcc"],
    [0.15, "#ffeda0"],
    [0.3, "#fed976"],
    [0.45, "#feb24c"],
    [0.6, "#fd8d3c"],
    [0.75, "#f03b20"],
    [1.0, "#bd0026"],
]
VERDICT_STYLE = {
    True: ("drift", BAD_COLOR),
    False: ("no drift", GOOD_COLOR),
    None: ("not testable", NEUTRAL_COLOR),
}


@dataclass(frozen=True)
class DriftTimeline:
    """What the heatmap shows: one column per event, one row per feature."""

    times: list[datetime]
    event_ids: list[int]
    features: list[str]
    scores: list[list[float | None]]
    verdicts: list[bool | None]
    hover: list[str]
    acted: list[bool]


def _markers(
    timeline: DriftTimeline, x: list[str], picks: list[int], label: str, color: str
) -> dict[str, Any]:
    """Data-set verdicts on the timeline; a star where the monitor enqueued a retrain."""
    star = label == RETRAIN_LABEL
    return {
        "type": "scatter",
        "xaxis": "x",
        "yaxis": "y2",
        "mode": "markers",
        "name": label,
        "x": [x[i] for i in picks],
        "y": [0] * len(picks),
        "customdata": [timeline.event_ids[i] for i in picks],
        "marker": {
            "color": color,
            "size": 15 if star else 10,
            "symbol": "star" if star else "circle",
            "line": {"width": 1, "color": "#7f1d1d" if star else "white"},
        },
        "hovertext": [timeline.hover[i] for i in picks],
        "hoverinfo": "text",
    }


def drift_heatmap_figure(timeline: DriftTimeline, start: datetime, end: datetime) -> Figure:
    """Effect size per feature and check; markers above give the data-set verdict."""
    if not timeline.times:
        return placeholder_figure("No drift checks in this time range", height=460)
    x = plot_times(timeline.times)
    acted = {i for i, did in enumerate(timeline.acted) if did}
    groups = [
        (
            label,
            color,
            [i for i, v in enumerate(timeline.verdicts) if v is verdict and i not in acted],
        )
        for verdict, (label, color) in VERDICT_STYLE.items()
    ]
    groups.append((RETRAIN_LABEL, BAD_COLOR, sorted(acted)))
    data = [_markers(timeline, x, picks, label, color) for label, color, picks in groups if picks]
    top = max((s for row in timeline.scores for s in row if s is not None), default=0.0)
    data.append(
        {
            "type": "heatmap",
            "x": x,
            "y": timeline.features,
            "z": timeline.scores,
            "customdata": [timeline.event_ids] * len(timeline.features),
            "colorscale": EFFECT_COLORSCALE,
            "zmin": 0,
            "zmax": max(top, 0.2),
            "hoverongaps": False,
            "colorbar": {"title": {"text": "effect"}, "len": 0.8, "y": 0.42},
            "hovertemplate": "%{y}<br>%{x}<br>effect size %{z:.3f}<extra></extra>",
        }
    )
    layout = base_layout(
        460,
        hovermode="closest",
        margin={"l": 130, "r": 16, "t": 36, "b": 40},
        xaxis=time_axis(start, end),
        yaxis=axis(domain=[0, 0.84], autorange="reversed", automargin=True),
        yaxis2=axis(domain=[0.88, 1], visible=False, range=[-1, 1]),
    )
    return figure(data, layout)


def _shares(counts: Sequence[Any]) -> list[float]:
    total = sum(float(c or 0) for c in counts)
    return [float(c or 0) / total if total else 0.0 for c in counts]


def _numeric_bars(edges: list[float], n_bins: int) -> tuple[list[float], list[float], list[str]]:
    centers = [(edges[i] + edges[i + 1]) / 2 for i in range(n_bins)]
    widths = [max(edges[i + 1] - edges[i], 1e-9) for i in range(n_bins)]
    labels = [f"{edges[i]:.4g} – {edges[i + 1]:.4g}" for i in range(n_bins)]
    labels[0], labels[-1] = f"< {edges[1]:.4g}", f"≥ {edges[-2]:.4g}"
    return centers, widths, labels


def distribution_figure(feature: str, histogram: dict[str, Any], drifted: bool) -> Figure:
    """Reference vs current shares: bars over bins (numeric) or categories."""
    reference, current = histogram.get("reference") or [], histogram.get("current") or []
    edges, categories = histogram.get("bins"), histogram.get("categories")
    extra: dict[str, Any] = {}
    if categories and len(categories) == len(reference) == len(current):
        x: list[Any] = [str(c) for c in categories]
        hover = x
    elif edges and reference and len(reference) == len(current) == len(edges) - 1:
        x, widths, hover = _numeric_bars([float(e) for e in edges], len(reference))
        extra = {"width": widths}
    else:
        return placeholder_figure(f"The report holds no distribution for {feature}", 340)
    data = [
        {
            "type": "bar",
            "x": x,
            "y": _shares(counts),
            "name": name,
            "opacity": 0.75,
            "marker": {"color": color},
            "customdata": [list(p) for p in zip(hover, counts, strict=True)],
            "hovertemplate": "%{customdata[0]}: %{y:.1%} (%{customdata[1]} rows)<extra>"
            + name
            + "</extra>",
            **extra,
        }
        for name, counts, color in (
            ("reference", reference, REFERENCE_COLOR),
            ("current", current, BAD_COLOR if drifted else CHAMPION_COLOR),
        )
    ]
    layout = base_layout(
        340,
        barmode="group" if categories else "overlay",
        hovermode="closest",
        yaxis=axis(tickformat=".0%", title={"text": "share of rows"}),
    )
    return figure(data, layout)
