"""Training jobs on real storage: the table as the source of truth, huey as the transport.

Parametrised over (SQLite database + SQLite queue) and (PostgreSQL + Redis queue).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy.engine import Engine

from services.retraining_worker.job_queue import TrainingQueue, register_training_task
from services.retraining_worker.jobs import (
    DEAD,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobAlreadyActive,
    JobRepository,
    utcnow,
)
from shared.config import Settings
from shared.queue import make_huey, queue_backend


@pytest.fixture
def settings(
    database_url: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> Settings:
    """SQLite database -> embedded queue; PostgreSQL -> Redis queue under a fresh prefix."""
    if database_url.startswith("sqlite"):
        return make_settings(database_url=database_url, job_max_attempts=2, job_lease_seconds=5)
    redis_url = request.getfixturevalue("redis_url")
    prefix = f"{request.getfixturevalue('redis_prefix')}:{uuid.uuid4().hex[:6]}"
    return make_settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=prefix,
        job_max_attempts=2,
        job_lease_seconds=5,
    )


@pytest.fixture
def queue(settings: Settings, engine: Engine) -> TrainingQueue:
    training_queue = TrainingQueue(settings, engine)
    training_queue.huey.flush()
    return training_queue


def drain(settings: Settings, execute: Callable[[str], object]) -> int:
    """Run every waiting message through a worker-side huey, as the consumer would."""
    huey = make_huey(settings)
    register_training_task(huey, execute)
    done = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        done += 1
    return done


def test_backend_follows_redis_url(settings: Settings, queue: TrainingQueue) -> None:
    expected = "redis" if settings.redis_url else "sqlite"
    assert queue_backend(settings) == expected
    queue.submit("m", "manual")
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        keys = [key.decode() for key in client.scan_iter(f"{settings.redis_prefix}:*")]
        assert keys and all(key.startswith(settings.redis_prefix + ":") for key in keys)
        assert not list(client.scan_iter("huey.*training*"))  # nothing outside the prefix
    else:
        assert settings.queue_path.exists()


def test_submit_writes_the_row_then_a_message(queue: TrainingQueue, settings: Settings) -> None:
    job = queue.submit("m", "manual")
    assert job.status == QUEUED and job.attempts == 0 and job.max_attempts == 2
    assert queue.depth() == 1 and queue.pending_job_ids() == {job.id}
    seen: list[str] = []
    assert drain(settings, seen.append) == 1
    assert seen == [job.id] and queue.depth() == 0


def test_one_active_job_per_model(queue: TrainingQueue) -> None:
    first = queue.submit("m", "data_drift")
    with pytest.raises(JobAlreadyActive) as caught:
        queue.submit("m", "manual")
    assert caught.value.job.id == first.id
    assert queue.submit("other", "manual").model_name == "other"  # other models are free
    assert queue.depth() == 2


def test_a_claim_is_exclusive_and_fenced(queue: TrainingQueue) -> None:
    jobs = queue.jobs
    job = queue.submit("m", "manual")
    attempt = jobs.claim(job.id, "worker-a")
    assert attempt is not None and attempt.status == RUNNING and attempt.attempts == 1
    assert jobs.claim(job.id, "worker-b") is None  # a duplicate message finds it taken
    assert jobs.heartbeat(attempt)
    assert jobs.hand_back(attempt, "shutting down") == QUEUED
    assert not jobs.heartbeat(attempt)  # the old attempt is fenced off
    second = jobs.claim(job.id, "worker-b")
    assert second is not None and second.attempts == 2
    assert not jobs.finish(attempt, SUCCEEDED, model_version="9")
    assert jobs.finish(second, SUCCEEDED, model_version="2")
    final = jobs.get(job.id)
    assert final.status == SUCCEEDED and final.model_version == "2" and final.worker == "worker-b"
    # once finished, the unique "active" slot is free again
    assert queue.submit("m", "manual").id != job.id


def test_expired_lease_is_requeued_then_dead(queue: TrainingQueue, settings: Settings) -> None:
    jobs = queue.jobs
    job = queue.submit("m", "manual")
    drain(settings, lambda _job_id: None)  # the message is consumed; nobody claims
    attempt = jobs.claim(job.id, "killed-worker")
    assert attempt is not None
    later = utcnow() + timedelta(seconds=settings.job_lease_seconds + 1)

    assert queue.recover(utcnow()).requeued == []  # lease still valid
    recovery = queue.recover(later)
    assert recovery.requeued == [job.id]
    requeued = jobs.get(job.id)
    assert requeued.status == QUEUED and requeued.attempts == 1
    assert "lease expired" in (requeued.error or "") and "killed-worker" in requeued.error
    assert queue.pending_job_ids() == {job.id}

    second = jobs.claim(job.id, "killed-again")
    assert second is not None and second.attempts == 2
    recovery = queue.recover(utcnow() + timedelta(seconds=settings.job_lease_seconds + 1))
    assert recovery.dead == [job.id]
    dead = jobs.get(job.id)
    assert dead.status == DEAD and dead.finished_at is not None and "attempt 2 of 2" in dead.error


def test_a_lost_message_is_sent_again(queue: TrainingQueue, settings: Settings) -> None:
    job = queue.submit("m", "manual")
    queue.huey.flush()  # e.g. Redis restarted without persistence
    assert queue.recover(utcnow()).resent == []  # too young: a worker may be claiming it
    recovery = queue.recover(utcnow() + timedelta(seconds=60))
    assert recovery.resent == [job.id] and queue.pending_job_ids() == {job.id}
    # a pending message is not duplicated
    assert queue.recover(utcnow() + timedelta(seconds=60)).resent == []


def test_duplicate_messages_run_one_attempt(queue: TrainingQueue, settings: Settings) -> None:
    job = queue.submit("m", "manual")
    queue.send(job.id)  # a duplicate enqueue
    jobs = JobRepository(queue.jobs.engine)
    claims: list[int] = []

    def execute(job_id: str) -> None:
        attempt = jobs.claim(job_id, "w")
        if attempt is not None:
            claims.append(attempt.attempts)
            jobs.finish(attempt, SUCCEEDED)

    assert drain(settings, execute) == 2
    assert claims == [1] and jobs.get(job.id).status == SUCCEEDED
