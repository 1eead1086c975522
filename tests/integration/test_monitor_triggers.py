"""The monitor's triggers and brakes on real DriftReports (pure: no servers needed)."""

from ml.evaluation import DriftReport
from ml.evaluation.report import OutputDrift, PerformanceDrift
from services.drift_monitor import events
from services.drift_monitor.triggers import (
    DATA_DRIFT,
    PERFORMANCE,
    PREDICTION_DRIFT,
    Brakes,
    brake_for_job,
    decide,
    is_too_old,
    trigger_of,
)

BRAKES = Brakes(persistence_k=2, persistence_m=3, cooldown_seconds=60)


def report(drift: bool | None, **fields) -> DriftReport:
    return DriftReport(dataset_drift=drift, reason="because", n_current=500, **fields)


def test_trigger_names_the_strongest_signal() -> None:
    degraded = PerformanceDrift(True, "auc dropped", 200, 0.05)
    assert trigger_of(report(True, performance=degraded, drifted_features=["Age"])) == PERFORMANCE
    assert trigger_of(report(True, drifted_features=["Age"])) == DATA_DRIFT
    assert trigger_of(report(True, prediction_drift=OutputDrift(True, "shift"))) == PREDICTION_DRIFT
    assert trigger_of(report(False)) is None and trigger_of(report(None)) is None


def test_no_drift_and_untestable_windows_do_nothing() -> None:
    assert (
        decide(report(False), [], BRAKES, active_job_id=None, seconds_since_last_job=None).action
        == events.NONE
    )
    untestable = decide(report(None), [], BRAKES, active_job_id=None, seconds_since_last_job=None)
    assert untestable.action == events.NOT_TESTABLE and untestable.job_reason is None


def test_persistence_needs_k_of_the_last_m_windows() -> None:
    drifted = report(True, drifted_features=["Age"])
    first = decide(drifted, [], BRAKES, active_job_id=None, seconds_since_last_job=None)
    assert first.action == events.PERSISTENCE and "1 of the last 1" in first.reason
    # drift, no drift, drift: 2 of the last 3 -> retrain
    second = decide(drifted, [False, True], BRAKES, active_job_id=None, seconds_since_last_job=None)
    assert second.action == events.RETRAIN and second.job_reason == DATA_DRIFT
    # the older drifted window has left the last-3 window
    third = decide(
        drifted, [False, False, True], BRAKES, active_job_id=None, seconds_since_last_job=None
    )
    assert third.action == events.PERSISTENCE


def test_one_pending_job_per_model_and_a_cooldown() -> None:
    drifted = report(True, drifted_features=["Age"])
    pending = decide(drifted, [True], BRAKES, active_job_id="j1", seconds_since_last_job=None)
    assert pending.action == events.JOB_PENDING and "j1" in pending.reason
    cooling = decide(drifted, [True], BRAKES, active_job_id=None, seconds_since_last_job=20)
    assert cooling.action == events.COOLDOWN and "40s left" in cooling.reason
    ready = decide(drifted, [True], BRAKES, active_job_id=None, seconds_since_last_job=61)
    assert ready.action == events.RETRAIN


def test_age_trigger() -> None:
    assert not is_too_old(10_000, 0)  # 0 = off
    assert not is_too_old(3000, 1) and is_too_old(3700, 1)
    assert brake_for_job("max_model_age", BRAKES, None, None).job_reason == "max_model_age"
