"""One drift event in detail: its summary, and one feature's statistics and distribution."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboards import components as ui
from dashboards.describe import verdict_tone, verdict_word
from dashboards.figures.base import Figure, placeholder_figure
from dashboards.figures.drift import distribution_figure
from dashboards.formatting import fmt_int, fmt_number, fmt_pct, fmt_time, short_id
from dashboards.queries.drift import DriftEvent

STATS = (
    ("verdict", "verdict"),
    ("test", "test"),
    ("statistic", "statistic"),
    ("p-value", "p_value"),
    ("p-value, adjusted", "p_adjusted"),
    ("effect size", "effect_size"),
    ("effect metric", "effect_metric"),
    ("effect threshold", "effect_threshold"),
    ("PSI", "psi"),
    ("rows: reference / current", None),
    ("missing: reference / current", None),
    ("unseen categories (share)", "unseen_share"),
    ("reason", "reason"),
)


def report_features(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    features = report.get("features")
    if not isinstance(features, dict):
        return {}
    return {str(name): value for name, value in features.items() if isinstance(value, dict)}


def default_feature(event: DriftEvent, features: dict[str, dict[str, Any]]) -> str | None:
    """The most drifted feature: first drifted one, else the largest effect size."""
    for name in event.drifted_features:
        if name in features:
            return name
    scored = sorted(features, key=lambda n: -(event.feature_scores.get(n) or 0.0))
    return scored[0] if scored else None


def _value(feature: dict[str, Any], key: str) -> str:
    value = feature.get(key)
    if isinstance(value, float):
        return fmt_number(value, 4)
    return "–" if value in (None, "") else str(value)


def feature_stats(feature: dict[str, Any]) -> html.Div | html.P:
    rows = []
    for label, key in STATS:
        if key is not None:
            rows.append([label, _value(feature, key)])
        elif label.startswith("rows"):
            rows.append(
                [
                    label,
                    f"{fmt_int(feature.get('n_reference'))} / {fmt_int(feature.get('n_current'))}",
                ]
            )
        else:
            rows.append(
                [
                    label,
                    f"{fmt_pct(feature.get('missing_rate_ref'))} / "
                    f"{fmt_pct(feature.get('missing_rate_cur'))}",
                ]
            )
    return ui.table(["statistic", "value"], rows, table_id="drift-feature-stats-table")


def feature_view(
    event: DriftEvent, report: dict[str, Any], feature: str | None
) -> tuple[Figure, Any]:
    features = report_features(report)
    if feature is None or feature not in features:
        return placeholder_figure("This report has no per-feature statistics", 340), ""
    data = features[feature]
    stored = data.get("histogram")
    histogram: dict[str, Any] = stored if isinstance(stored, dict) else {}
    drifted = data.get("verdict") == "drift" or feature in event.drifted_features
    return distribution_figure(feature, histogram, drifted), feature_stats(data)


def _performance(report: dict[str, Any]) -> Any:
    performance = report.get("performance")
    if not isinstance(performance, dict) or not isinstance(performance.get("metrics"), dict):
        return None
    parts = []
    for name, check in performance["metrics"].items():
        if isinstance(check, dict) and check.get("realised") is not None:
            parts.append(
                f"{name} {fmt_number(check.get('realised'))} "
                f"(reference {fmt_number(check.get('reference'))})"
            )
    label = {True: "degraded", False: "holding"}.get(performance.get("degraded"), "not assessed")  # type: ignore[arg-type]
    return html.P(
        [html.Strong("Performance on labels: "), label, (": " + "; ".join(parts)) if parts else ""]
    )


def event_summary(event: DriftEvent, report: dict[str, Any]) -> html.Div:
    verdict = (verdict_word(event.dataset_drift), verdict_tone(event.dataset_drift))
    untestable = report.get("not_testable_features") or []
    return html.Div(
        [
            html.P(
                [
                    ui.badge(*verdict),
                    f" event #{event.id} at {fmt_time(event.created_at)} UTC, "
                    f"model v{event.model_version}, {fmt_int(event.n_current)} predictions",
                ],
                id="drift-event-headline",
            ),
            html.P(event.reason or "No reason recorded."),
            html.P(
                [html.Strong("Drifted features: "), ", ".join(event.drifted_features) or "none"]
            ),
            html.P([html.Strong("Not testable: "), ", ".join(map(str, untestable))])
            if untestable
            else None,
            _performance(report),
            html.P(
                [
                    html.Strong("Action: "),
                    event.action.replace("_", " "),
                    f" (job {short_id(event.job_id)})" if event.job_id else "",
                ]
            ),
        ]
    )
