"""Submitting training jobs and recovering lost ones: the table first, then a queue message.

The message only says "run job <id>"; the `training_jobs` row says what the job
is and whether it still needs running. That makes a lost message (a killed
consumer, a Redis restart) recoverable by re-sending it, and a duplicate message
harmless: the claim in the table lets exactly one worker run an attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from huey.api import Huey, TaskWrapper
from sqlalchemy.engine import Engine

from services.retraining_worker.jobs import DEAD, Job, JobRepository, lease_cutoff, utcnow
from shared.config import Settings
from shared.errors import PipelineError
from shared.queue import make_huey, queue_depth

log = logging.getLogger(__name__)
TASK_NAME = "run_training_job"
# A queued job whose message is missing this long after creation gets it re-sent;
# the grace period covers a worker that has taken the message but not yet claimed.
LOST_MESSAGE_GRACE_SECONDS = 10.0


class EnqueueOnly(PipelineError):
    """A process that only submits jobs was asked to run one."""


def register_training_task(
    huey: Huey, execute: Callable[[str], object] | None = None
) -> TaskWrapper:
    """Register the one task on `huey`; producers pass no `execute`, workers their runner.

    Both sides register the same function of this module, so the message names match.
    """

    def run_training_job(job_id: str) -> None:
        if execute is None:
            raise EnqueueOnly(f"this process cannot run training job {job_id}")
        execute(job_id)

    task: TaskWrapper = huey.task(name=TASK_NAME)(run_training_job)
    return task


@dataclass
class Recovery:
    """What one recovery pass did."""

    requeued: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.requeued or self.dead or self.resent)


class TrainingQueue:
    """Job rows plus queue messages: submit, re-send, and recover expired leases."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        huey: Huey | None = None,
        task: TaskWrapper | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = JobRepository(engine)
        self.huey = huey if huey is not None else make_huey(settings)
        self.task = task if task is not None else register_training_task(self.huey)

    def submit(self, model_name: str, reason: str, trigger_event_id: int | None = None) -> Job:
        """Create a queued job and send its message; JobAlreadyActive if one is pending."""
        job = self.jobs.create(
            model_name=model_name,
            reason=reason,
            trigger_event_id=trigger_event_id,
            max_attempts=self.settings.job_max_attempts,
        )
        self.send(job.id)
        log.info(
            "training job queued", extra={"job_id": job.id, "model": model_name, "reason": reason}
        )
        return job

    def send(self, job_id: str) -> None:
        self.task(job_id)

    def depth(self) -> int:
        return queue_depth(self.huey)

    def pending_job_ids(self) -> set[str]:
        return {str(task.args[0]) for task in self.huey.pending() if task.args}

    def recover(self, now: datetime | None = None) -> Recovery:
        """Re-queue running jobs whose lease expired (dead after the last attempt) and
        re-send queued jobs whose message is gone."""
        now = now or utcnow()
        recovery = Recovery()
        cutoff = lease_cutoff(now, self.settings.job_lease_seconds)
        for job in self.jobs.running_with_heartbeat_before(cutoff):
            error = (
                f"lease expired: worker {job.worker} sent no heartbeat for "
                f"{self.settings.job_lease_seconds:g}s (attempt {job.attempts} of {job.max_attempts})"
            )
            status = self.jobs.expire_lease(job, cutoff, error)
            if status == DEAD:
                recovery.dead.append(job.id)
                log.error("training job dead", extra={"job_id": job.id, "error": error})
            elif status is not None:
                self.send(job.id)
                recovery.requeued.append(job.id)
                log.warning("training job re-queued", extra={"job_id": job.id, "error": error})
        grace = now - timedelta(seconds=LOST_MESSAGE_GRACE_SECONDS)
        stale = self.jobs.queued_before(grace)
        if stale:
            pending = self.pending_job_ids()
            for job in stale:
                if job.id not in pending and job.id not in recovery.requeued:
                    self.send(job.id)
                    recovery.resent.append(job.id)
                    log.warning("training job message re-sent", extra={"job_id": job.id})
        return recovery
