"""The worker as a real process: SIGKILL mid-job, SIGTERM (finish), SIGTERM past the timeout (hand back).

Parametrised over SQLite (embedded queue) and PostgreSQL (Redis queue).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from registry.registry import ModelRegistry
from services.retraining_worker.job_queue import TrainingQueue
from services.retraining_worker.jobs import QUEUED, RUNNING, SUCCEEDED, Job
from shared.config import REPO_ROOT, Settings
from tests.integration.loop_support import FAST_TRAINING, MODEL, drifted_labels, init_champion

pytestmark = pytest.mark.slow
LEASE, HEARTBEAT = 4.0, 0.5


@pytest.fixture
def config(
    database_url: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "training_policy": "sliding",
        "job_lease_seconds": LEASE,
        "job_heartbeat_seconds": HEARTBEAT,
        **FAST_TRAINING,
    }
    if not database_url.startswith("sqlite"):
        values["redis_url"] = request.getfixturevalue("redis_url")
        values["redis_prefix"] = f"{request.getfixturevalue('redis_prefix')}:{uuid.uuid4().hex[:6]}"
    return make_settings(**values)


def environment(settings: Settings) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.isupper() or key in ("PATH", "HOME", "LANG")
    }
    env.update({
        "PIPELINE_HOME": str(settings.pipeline_home),
        "DATABASE_URL": settings.database_url,
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "REDIS_URL": settings.redis_url or "",
        "REDIS_PREFIX": settings.redis_prefix,
        "TRAINING_POLICY": settings.training_policy,
        "CANDIDATE_FAMILIES": settings.candidate_families,
        "CV_FOLDS": str(settings.cv_folds),
        "JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
        "JOB_HEARTBEAT_SECONDS": str(settings.job_heartbeat_seconds),
        "LOG_FORMAT": "json",
    })  # fmt: skip
    return env


@contextmanager
def worker(settings: Settings, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    log = Path(settings.log_dir) / f"worker-{uuid.uuid4().hex[:6]}.out"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.retraining_worker.worker", *args],
            cwd=REPO_ROOT, env=environment(settings), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
            if os.environ.get("SHOW_WORKER_LOG"):
                print(log.read_text())


def wait_for(
    queue: TrainingQueue, job_id: str, predicate: Callable[[Job], bool], timeout: float
) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.jobs.get(job_id)
        if predicate(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never got there: {queue.jobs.get(job_id)}")


def prepared(config: Settings, engine: Engine) -> tuple[ModelRegistry, TrainingQueue]:
    registry = init_champion(config, engine)
    drifted_labels(engine, registry, 600)
    queue = TrainingQueue(config, engine)
    queue.huey.flush()
    return registry, queue


def test_sigkill_mid_job_is_rerun_after_the_lease(config: Settings, engine: Engine) -> None:
    registry, queue = prepared(config, engine)
    job = queue.submit(MODEL, "manual")
    with worker(config) as first:
        wait_for(queue, job.id, lambda j: j.status == RUNNING, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed = queue.jobs.get(job.id)
    assert killed.status == RUNNING and killed.finished_at is None  # nobody told the table

    time.sleep(LEASE + HEARTBEAT)
    recovery = queue.recover()  # what the monitor does every cycle
    assert recovery.requeued == [job.id]
    with worker(config) as second:
        done = wait_for(queue, job.id, lambda j: j.is_finished, 120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0

    assert done.status == SUCCEEDED and done.attempts == 2, done.error
    assert [v.version for v in registry.list_versions(MODEL)] == ["1", "2"]
    assert done.model_version == "2"


def test_sigterm_lets_the_running_job_finish(config: Settings, engine: Engine) -> None:
    registry, queue = prepared(config, engine)
    job = queue.submit(MODEL, "manual")
    with worker(config) as process:
        wait_for(queue, job.id, lambda j: j.status == RUNNING, 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(120) == 0
    done = queue.jobs.get(job.id)
    assert done.status == SUCCEEDED and done.attempts == 1 and done.model_version == "2"


def test_sigterm_past_the_timeout_hands_the_job_back(config: Settings, engine: Engine) -> None:
    registry, queue = prepared(config, engine)
    job = queue.submit(MODEL, "manual")
    with worker(config, "--shutdown-timeout", "0.2") as process:
        wait_for(queue, job.id, lambda j: j.status == RUNNING, 60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    handed = queue.jobs.get(job.id)
    if handed.status == SUCCEEDED:  # the machine was quick enough to finish anyway
        pytest.skip("the job finished within the 0.2 s shutdown timeout")
    assert handed.status == QUEUED and "worker stopped" in (handed.error or "")
    assert queue.pending_job_ids() == {job.id}  # sent again: no lease wait needed
    with worker(config) as process:
        done = wait_for(queue, job.id, lambda j: j.is_finished, 120)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert done.status == SUCCEEDED and done.attempts == 2
    assert len(registry.list_versions(MODEL)) == 2  # one new version, whatever attempt made it
