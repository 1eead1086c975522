"""What the monitor does about a window: the triggers and the brakes, as pure functions.

Triggers: data drift, prediction drift, label drift, a performance drop on
fed-back labels (all read from the DriftReport), and the champion's age.
Brakes, in this order: persistence (drift in k of the last m testable windows),
at most one queued or running job per model, a cooldown after the last job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml.evaluation import DriftReport
from services.drift_monitor import events

# training_jobs.reason values written by the monitor ("manual" comes from the CLI)
PERFORMANCE, DATA_DRIFT, PREDICTION_DRIFT, LABEL_DRIFT, MAX_AGE = (
    "performance_drop",
    "data_drift",
    "prediction_drift",
    "label_drift",
    "max_model_age",
)


@dataclass(frozen=True)
class Brakes:
    persistence_k: int
    persistence_m: int
    cooldown_seconds: float


@dataclass(frozen=True)
class Decision:
    action: str  # one of the drift_events action values
    reason: str  # one line for logs and `mlpipe status`
    job_reason: str | None = None  # set when a job should be enqueued


def trigger_of(report: DriftReport) -> str | None:
    """Which trigger fired for a drifted window; None when the window did not drift."""
    if report.dataset_drift is not True:
        return None
    if report.performance is not None and report.performance.degraded:
        return PERFORMANCE
    if report.drifted_features:
        return DATA_DRIFT
    if report.prediction_drift is not None and report.prediction_drift.drifted:
        return PREDICTION_DRIFT
    return LABEL_DRIFT


def decide(
    report: DriftReport,
    history: list[bool],
    brakes: Brakes,
    *,
    active_job_id: str | None,
    seconds_since_last_job: float | None,
) -> Decision:
    """The action for this window. `history`: earlier testable verdicts, newest first."""
    trigger = trigger_of(report)
    if report.dataset_drift is None:
        return Decision(events.NOT_TESTABLE, report.reason)
    if trigger is None:
        return Decision(events.NONE, report.reason)
    recent = [True, *history[: brakes.persistence_m - 1]]
    drifted = sum(recent)
    if drifted < brakes.persistence_k:
        return Decision(
            events.PERSISTENCE,
            f"{trigger}: drift in {drifted} of the last {len(recent)} windows "
            f"(needs {brakes.persistence_k} of {brakes.persistence_m})",
        )
    return brake_for_job(trigger, brakes, active_job_id, seconds_since_last_job)


def brake_for_job(
    trigger: str,
    brakes: Brakes,
    active_job_id: str | None,
    seconds_since_last_job: float | None,
) -> Decision:
    """The job brakes alone (also used for the age trigger, which has no window)."""
    if active_job_id is not None:
        return Decision(events.JOB_PENDING, f"{trigger}: job {active_job_id} is already pending")
    if seconds_since_last_job is not None and seconds_since_last_job < brakes.cooldown_seconds:
        left = brakes.cooldown_seconds - seconds_since_last_job
        return Decision(events.COOLDOWN, f"{trigger}: cooldown, {left:.0f}s left")
    return Decision(events.RETRAIN, f"{trigger}: retraining", job_reason=trigger)


def is_too_old(age_seconds: float | None, max_age_hours: float) -> bool:
    """The age trigger; max_age_hours == 0 turns it off."""
    return max_age_hours > 0 and age_seconds is not None and age_seconds > max_age_hours * 3600
