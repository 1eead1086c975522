"""The drift monitor's log: one drift_events row per check, with its report and action."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy.engine import Engine

from dashboards.sample_history.drift_checks import drift_report, untestable_report
from dashboards.sample_history.features import sample_columns
from dashboards.sample_history.story import Story
from shared.database import drift_events, write_transaction

REFERENCE_ROWS = 2000
MIN_SAMPLES = 100
EVENTS_PER_INSERT = 200


def _action(drifted: bool | None, trigger: bool, after_first_trigger: bool) -> str:
    """The drift monitor's vocabulary (services.drift_monitor.events)."""
    if trigger:
        return "retrain"
    if drifted is None:
        return "not_testable"
    if not drifted:
        return "none"
    return "cooldown" if after_first_trigger else "awaiting_persistence"


def write_drift_events(
    engine: Engine,
    story: Story,
    model_name: str,
    window_size: int,
    label_share: float,
    triggers: dict[str, float],
    rng: np.random.Generator,
) -> int:
    """Insert every check of the story; `triggers` maps job id -> planned fraction."""
    reference = sample_columns(rng, np.zeros(REFERENCE_ROWS), np.zeros(REFERENCE_ROWS))
    job_at = {story.trigger_time(fraction): job_id for job_id, fraction in triggers.items()}
    first_trigger = min(job_at) if job_at else None
    interval = story.span / story.n_checks
    rows = []
    for index, when in enumerate(story.check_times()):
        f = float(story.fraction(when))
        version = str(story.serving_version(np.array(f)))
        if index == 0:  # the first window after start-up is too small to test
            n_current = MIN_SAMPLES // 2
            report = untestable_report(n_current, MIN_SAMPLES)
        else:
            n_current = window_size
            shift_a, shift_b = story.drift_against_reference(f)
            accuracy = float(story.accuracy(np.array(f)))
            report = drift_report(
                rng,
                reference,
                n_current,
                shift_a,
                shift_b,
                accuracy,
                int(window_size * label_share),
            )
        job_id = job_at.get(when)
        scores = {name: feat["effect_size"] for name, feat in report["features"].items()}
        rows.append(
            {
                "created_at": when,
                "model_name": model_name,
                "model_version": version,
                "window_start": when - min(interval, timedelta(minutes=30)),
                "window_end": when,
                "n_current": n_current,
                "n_labelled": int(n_current * label_share),
                "dataset_drift": report["dataset_drift"],
                "reason": report["reason"],
                "drifted_features": report["drifted_features"],
                "feature_scores": scores,
                "report": report,
                "job_id": job_id,
                "action": _action(
                    report["dataset_drift"],
                    job_id is not None,
                    first_trigger is not None and when > first_trigger,
                ),
            }
        )
    for start in range(0, len(rows), EVENTS_PER_INSERT):
        with write_transaction(engine) as conn:
            conn.execute(drift_events.insert(), rows[start : start + EVENTS_PER_INSERT])
    return len(rows)
