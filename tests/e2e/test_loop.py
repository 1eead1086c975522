"""The loop closes on its own: real processes, real HTTP, short intervals.

Once on SQLite with the embedded queue, once on PostgreSQL (project and MLflow
databases of their own) with Redis. Traffic comes from `make_dataset` scenarios
through POST /predict/batch, labels through POST /feedback:
`none` -> judged, no job; `concept` -> performance drop, one job, promoted, the
prediction service answers with the new version and is more accurate on the
drifted traffic; `covariate` -> data drift, a job whose gate decision is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset, write_csv
from scripts.loop_instance import LoopInstance, wait_until
from services.drift_monitor.events import DriftEventRepository
from services.retraining_worker.jobs import Job, JobRepository
from shared.database import driver_url
from tests.integration.loop_support import traffic

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
LOOP_SETTINGS = {
    "CANDIDATE_FAMILIES": "random_forest",
    "CV_FOLDS": "2",
    "MONITOR_INTERVAL_SECONDS": "1",
    "DRIFT_WINDOW_SIZE": "1500",
    "DRIFT_MIN_SAMPLES": "300",
    "PERFORMANCE_MIN_LABELS": "300",
    "RETRAIN_COOLDOWN_SECONDS": "3",
    "TRAINING_POLICY": "sliding",
    "JOB_LEASE_SECONDS": "60",
    "JOB_HEARTBEAT_SECONDS": "2",
    "RELOAD_POLL_SECONDS": "1",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def loop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LoopInstance, Engine]]:
    home = tmp_path / "home"
    variables = dict(LOOP_SETTINGS)
    if request.param == "postgresql":
        make_database = request.getfixturevalue("postgres_url_factory")
        variables["DATABASE_URL"] = make_database()
        variables["MLFLOW_TRACKING_URI"] = make_database()
        variables["REDIS_URL"] = request.getfixturevalue("redis_url")
        variables["REDIS_PREFIX"] = (
            f"{request.getfixturevalue('redis_prefix')}:{uuid.uuid4().hex[:6]}"
        )
    instance = LoopInstance.create(home, **variables)
    write_csv(make_dataset(2000, seed=42), home / "lung.csv")
    instance.mlpipe("init", "--data", str(home / "lung.csv"), "--target", "Recovered")
    url = variables.get("DATABASE_URL") or f"sqlite:///{home / 'data' / 'pipeline.db'}"
    engine = create_engine(driver_url(url))
    instance.start()
    try:
        yield instance, engine
    finally:
        codes = instance.stop()
        engine.dispose()
        print(instance.logs())
    assert codes["drift_monitor"] == 0 and codes["retraining_worker"] == 0, codes


def finished_jobs(jobs: JobRepository) -> list[Job]:
    return [job for job in jobs.latest(limit=50) if job.is_finished]


def test_the_loop_detects_retrains_gates_and_promotes(loop: tuple[LoopInstance, Engine]) -> None:
    instance, engine = loop
    jobs, events = JobRepository(engine), DriftEventRepository(engine)

    # 1. in-distribution traffic, labels fed back: judged, no job
    records, labels = traffic(1000, "none", seed=201)
    answers = instance.predict(records)
    assert set(answers.versions) == {"1"}
    instance.feedback(answers.ids, labels)
    judged = wait_until(lambda: [e for e in events.latest(limit=20) if e.n_labelled], 60)
    assert judged, instance.logs()
    assert all(event.dataset_drift is not True for event in events.latest(limit=20))
    assert jobs.latest() == []

    # 2. concept drift: only the labels show it
    records, labels = traffic(1500, "concept", seed=202)
    answers = instance.predict(records)
    before = answers.accuracy(labels)
    instance.feedback(answers.ids, labels)
    done = wait_until(lambda: finished_jobs(jobs), 300)
    assert done, instance.logs()
    [job] = done
    assert job.status == "succeeded", job.error
    assert job.reason == "performance_drop" and job.trigger_event_id is not None
    decision = job.gate_decision
    assert decision["outcome"] == "promote", decision["reason"]
    assert decision["candidate"]["roc_auc"] > decision["champion"]["roc_auc"]
    trigger = [e for e in events.latest(limit=50) if e.id == job.trigger_event_id][0]
    assert trigger.dataset_drift is True and trigger.job_id == job.id
    assert wait_until(lambda: instance.served_version() == job.model_version, 60)
    records, labels = traffic(1500, "concept", seed=203)
    after = instance.predict(records)
    assert set(after.versions) == {job.model_version}
    assert after.accuracy(labels) > before + 0.05, (before, after.accuracy(labels))
    assert len(jobs.latest()) == 1  # one job for the concept drift

    # 3. covariate shift: a job whose gate decision is recorded, whatever it is
    records, labels = traffic(1500, "covariate", seed=204)
    answers = instance.predict(records)
    instance.feedback(answers.ids, labels)
    second = wait_until(lambda: [j for j in finished_jobs(jobs) if j.id != job.id], 300)
    assert second, instance.logs()
    covariate_job = second[0]
    assert covariate_job.status == "succeeded", covariate_job.error
    gate = covariate_job.gate_decision
    assert gate["outcome"] in ("promote", "challenger") and gate["reason"]
    assert gate["candidate"] and gate["champion_version"] == job.model_version
    drifted = [e for e in events.latest(limit=50) if e.job_id == covariate_job.id]
    assert drifted and drifted[0].dataset_drift is True
