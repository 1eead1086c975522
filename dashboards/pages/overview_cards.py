"""The three cards under the Overview's numbers: models compared, drift now, last job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from dashboards import components as ui
from dashboards.describe import gate_summary, promoted, verdict_tone, verdict_word
from dashboards.formatting import fmt_ago, fmt_duration, fmt_int, fmt_number, fmt_pct, short_id
from dashboards.queries.drift import DriftEvent
from dashboards.queries.jobs import TrainingJob
from dashboards.queries.labels import AccuracyRow
from dashboards.queries.models import ModelVersion

MAX_METRICS = 6


def live_comparison(challenger: ModelVersion | None, live: list[AccuracyRow]) -> Any:
    """Champion and challenger on the same labelled live rows (last 24 h)."""
    shadowed = sum(row.n_shadow for row in live)
    if challenger is None or not shadowed:
        return None
    champion_right = sum(row.n_champion_correct_shadowed for row in live)
    challenger_right = sum(row.n_shadow_correct for row in live)
    return html.P(
        [
            html.Strong("On live labels (24 h): "),
            f"champion {fmt_pct(champion_right / shadowed)} vs challenger "
            f"{fmt_pct(challenger_right / shadowed)} on the same {fmt_int(shadowed)} rows",
        ],
        id="overview-live-comparison",
    )


def model_comparison(
    champion: ModelVersion | None,
    challenger: ModelVersion | None,
    metric: str | None,
    live: list[AccuracyRow],
) -> Any:
    """Metrics side by side, the primary one first, with the challenger's difference."""
    if champion is None:
        return html.P("No champion yet: train a model first.", className="empty-note")
    names = sorted(champion.metrics, key=lambda name: (name != metric, name))[:MAX_METRICS]
    rows = []
    for name in names:
        ours = champion.metrics.get(name)
        theirs = challenger.metrics.get(name) if challenger else None
        delta = theirs - ours if ours is not None and theirs is not None else None
        rows.append(
            [name, fmt_number(ours), fmt_number(theirs), "" if delta is None else f"{delta:+.3f}"]
        )
    header = [
        "metric",
        f"champion v{champion.version}",
        f"challenger v{challenger.version}" if challenger else "challenger",
        "Δ",
    ]
    family = html.P(f"Champion family: {champion.family or 'unknown'}", className="note")
    return [
        family,
        live_comparison(challenger, live),
        ui.table(
            header, rows, table_id="overview-metrics", empty="The champion has no metrics recorded."
        ),
    ]


def drift_card(event: DriftEvent | None, now: datetime) -> Any:
    if event is None:
        return html.P("The drift monitor has not checked any traffic yet.", className="empty-note")
    verdict = (verdict_word(event.dataset_drift), verdict_tone(event.dataset_drift))
    features = ", ".join(event.drifted_features) or "none"
    return html.Div(
        [
            html.P(
                [
                    ui.badge(*verdict),
                    f" v{event.model_version}, {event.n_current:,} predictions, "
                    f"{fmt_ago(event.created_at, now)}",
                ]
            ),
            html.P(event.reason or "No reason recorded.", id="overview-drift-reason"),
            html.P([html.Strong("Drifted features: "), features]),
            html.P(
                [
                    html.Strong("Action: "),
                    event.action.replace("_", " "),
                    f" (job {short_id(event.job_id)})" if event.job_id else "",
                ]
            ),
        ]
    )


def job_card(job: TrainingJob | None, pending: int, now: datetime) -> Any:
    if job is None:
        return html.P("No training job has run yet.", className="empty-note")
    tone = {"succeeded": "good", "failed": "bad", "dead": "bad", "running": "info"}.get(
        job.status, "neutral"
    )
    outcome = promoted(job.gate_decision)
    gate: Any = ""
    if outcome is not None:
        gate = ui.badge("promoted", "good") if outcome else ui.badge("not promoted", "warn")
    return html.Div(
        [
            html.P(
                [
                    ui.badge(job.status, tone),
                    f" {job.reason}, {fmt_ago(job.created_at, now)}, "
                    f"attempt {job.attempts}/{job.max_attempts}",
                ]
            ),
            html.P(
                [
                    html.Strong("Duration: "),
                    fmt_duration(job.duration_seconds),
                    html.Strong("  New version: "),
                    f"v{job.model_version}" if job.model_version else "–",
                ]
            ),
            html.P([gate, " ", gate_summary(job.gate_decision, with_outcome=outcome is None)])
            if job.gate_decision
            else None,
            html.P(job.error, className="error-text") if job.error else None,
            html.P(
                f"{pending} job(s) queued or running now." if pending else "No job pending.",
                className="note",
            ),
        ]
    )
