"""The drift monitor's cycle on real storage, a real champion and logged traffic.

Parametrised over SQLite (embedded queue) and PostgreSQL (Redis queue).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from ml.feature_store import FeatureStore, get_dataset
from ml.schema import normalize_frame
from registry.registry import ModelRegistry
from services.drift_monitor import events
from services.drift_monitor.events import DriftEventRepository
from services.drift_monitor.monitor import Monitor
from services.retraining_worker.jobs import QUEUED, SUCCEEDED
from shared.config import Settings
from shared.database import write_transaction
from tests.integration.loop_support import (
    FAST_TRAINING,
    MODEL,
    feed_back,
    init_champion,
    log_predictions,
    traffic,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(
    database_url: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "monitor_interval_seconds": 0.2,
            "drift_window_size": 400,
            "drift_min_samples": 100,
            "performance_min_labels": 100,
            **FAST_TRAINING,
        }
        if not database_url.startswith("sqlite"):
            values["redis_url"] = request.getfixturevalue("redis_url")
            values["redis_prefix"] = (
                f"{request.getfixturevalue('redis_prefix')}:{uuid.uuid4().hex[:6]}"
            )
        return make_settings(**(values | overrides))

    return make


def monitor_with_champion(config: Settings, engine: Engine) -> tuple[Monitor, ModelRegistry]:
    registry = init_champion(config, engine)
    # Rows are committed before run_once here: no settle margin needed.
    monitor = Monitor(config, engine, registry, settle_seconds=0)
    monitor.queue.huey.flush()
    return monitor, registry


def send(registry: ModelRegistry, engine: Engine, scenario: str, rows: int, *, seed: int,
         labelled: bool = False) -> None:  # fmt: skip
    champion = registry.load(MODEL, "champion")
    records, labels = traffic(rows, scenario, seed)
    ids = log_predictions(engine, champion, records)
    if labelled:
        feed_back(engine, ids, labels)


def test_in_distribution_traffic_with_labels_starts_no_job(settings, engine: Engine) -> None:
    monitor, registry = monitor_with_champion(settings(), engine)
    quiet = monitor.run_once()
    assert quiet.event_id is None and "waiting" in quiet.reason

    send(registry, engine, "none", 400, seed=11, labelled=True)
    cycle = monitor.run_once()

    assert cycle.action == events.NONE and cycle.job_id is None, cycle.reason
    [event] = DriftEventRepository(engine).latest(MODEL)
    assert event.dataset_drift is False and event.n_current == 400 and event.n_labelled == 400
    assert event.report["performance"]["degraded"] is False
    assert set(event.feature_scores) == set(event.report["features"])
    assert monitor.queue.jobs.latest(MODEL) == []
    assert monitor.run_once().event_id is None  # nothing new since the last check


def test_covariate_drift_writes_an_event_and_enqueues_one_job(settings, engine: Engine) -> None:
    monitor, registry = monitor_with_champion(settings(), engine)
    send(registry, engine, "covariate", 400, seed=12)
    cycle = monitor.run_once()

    assert cycle.action == events.RETRAIN and cycle.job_id is not None, cycle.reason
    [event] = DriftEventRepository(engine).latest(MODEL)
    assert event.dataset_drift is True and event.job_id == cycle.job_id
    assert {"Age", "Lung Capacity"} <= set(event.drifted_features)
    assert event.feature_scores["Age"] > 0.1 and event.window_end is not None
    job = monitor.queue.jobs.get(cycle.job_id)
    assert job.status == QUEUED and job.reason == "data_drift" and job.trigger_event_id == event.id
    assert monitor.queue.pending_job_ids() == {job.id}

    send(registry, engine, "covariate", 400, seed=13)  # still drifting: one job at a time
    again = monitor.run_once()
    assert again.action == events.JOB_PENDING and again.job_id is None
    assert len(monitor.queue.jobs.latest(MODEL)) == 1


def test_performance_drop_on_fed_back_labels_triggers(settings, engine: Engine) -> None:
    monitor, registry = monitor_with_champion(settings(), engine)
    send(registry, engine, "concept", 400, seed=14, labelled=True)
    cycle = monitor.run_once()
    assert cycle.action == events.RETRAIN, cycle.reason
    assert monitor.queue.jobs.get(cycle.job_id).reason == "performance_drop"
    [event] = DriftEventRepository(engine).latest(MODEL)
    assert event.drifted_features == []  # concept drift: features look the same
    assert event.report["performance"]["degraded"] is True


def test_labels_on_ingested_rows_are_scored_by_the_champion(settings, engine: Engine) -> None:
    """No new predictions at all: labelled uploads alone reveal the drop."""
    monitor, _ = monitor_with_champion(settings(), engine)
    dataset = get_dataset(engine, MODEL)
    records, labels = traffic(300, "concept", seed=15)
    with write_transaction(engine) as conn:
        FeatureStore(engine).write_rows(
            conn,
            dataset.id,
            normalize_frame(dataset.schema, records),
            labels=labels,
            split="ingested",
        )
    cycle = monitor.run_once()
    assert cycle.action == events.RETRAIN, cycle.reason
    [event] = DriftEventRepository(engine).latest(MODEL)
    assert event.n_labelled == 300 and event.report["performance"]["degraded"] is True


def test_persistence_and_cooldown_brakes(settings, engine: Engine) -> None:
    config = settings(drift_persistence_k=2, drift_persistence_m=3, retrain_cooldown_seconds=3600)
    monitor, registry = monitor_with_champion(config, engine)
    send(registry, engine, "covariate", 200, seed=16)
    assert monitor.run_once().action == events.PERSISTENCE
    send(registry, engine, "covariate", 200, seed=17)
    second = monitor.run_once()
    assert second.action == events.RETRAIN and second.job_id

    jobs = monitor.queue.jobs
    attempt = jobs.claim(second.job_id, "w")
    assert attempt is not None and jobs.finish(attempt, SUCCEEDED)
    send(registry, engine, "covariate", 200, seed=18)
    third = monitor.run_once()
    assert third.action == events.COOLDOWN and "cooldown" in third.reason
    assert monitor.run_once().job_id is None  # no new traffic, still cooling down

    # the cooldown ends with no new traffic: the held-back drift is acted on
    later = datetime.now(UTC) + timedelta(seconds=3601)
    resumed = Monitor(config, engine, registry, queue=monitor.queue, clock=lambda: later,
                      settle_seconds=0).run_once()  # fmt: skip
    assert resumed.event_id == third.event_id and resumed.job_id is not None
    [event] = DriftEventRepository(engine).latest(MODEL, limit=1)
    assert event.action == events.RETRAIN and event.job_id == resumed.job_id
    assert monitor.queue.jobs.get(resumed.job_id).trigger_event_id == third.event_id


def test_run_once_requeues_an_expired_lease(settings, engine: Engine) -> None:
    monitor, _ = monitor_with_champion(settings(job_lease_seconds=1), engine)
    job = monitor.queue.submit(MODEL, "manual")
    monitor.queue.huey.flush()
    assert monitor.queue.jobs.claim(job.id, "gone") is not None
    future = datetime.now(UTC) + timedelta(seconds=30)
    cycle = Monitor(monitor.settings, engine, monitor.champions.registry, queue=monitor.queue,
                    clock=lambda: future, settle_seconds=0).run_once()  # fmt: skip
    assert cycle.recovery.requeued == [job.id]
    assert monitor.queue.jobs.get(job.id).status == QUEUED
    assert monitor.queue.pending_job_ids() == {job.id}


def test_age_trigger_and_the_loop_stops_on_sigterm(settings, engine: Engine) -> None:
    monitor, _ = monitor_with_champion(settings(max_model_age_hours=0.0001), engine)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        cycles = monitor.run(max_cycles=1000)
    finally:
        timer.cancel()
    assert 1 <= cycles < 1000  # SIGTERM ended the loop after the current cycle
    [job] = monitor.queue.jobs.latest(MODEL)
    assert job.reason == "max_model_age" and job.trigger_event_id is None
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
