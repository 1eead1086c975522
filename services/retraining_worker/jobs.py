"""The `training_jobs` table: the source of truth for every training job's state.

A claim is fenced by (worker, attempts): every write of a running job names both,
so a worker that lost its lease cannot overwrite the attempt that replaced it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from services.retraining_worker.job import (
    ACTIVE,
    DEAD,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    Job,
    JobAlreadyActive,
    lease_cutoff,
    utcnow,
)
from shared.database import training_jobs, write_transaction
from shared.errors import NotFound

__all__ = [
    "ACTIVE", "DEAD", "FAILED", "FINISHED", "QUEUED", "RUNNING", "SUCCEEDED",
    "Job", "JobAlreadyActive", "JobRepository", "lease_cutoff", "utcnow",
]  # fmt: skip


class JobRepository:
    """Reads and conditional writes of `training_jobs`; safe with many processes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- creation and reads -------------------------------------------------
    def create(
        self,
        *,
        model_name: str,
        reason: str,
        max_attempts: int,
        trigger_event_id: int | None = None,
    ) -> Job:
        """Insert a queued job; JobAlreadyActive if the model has one queued or running.

        A partial unique index enforces the rule, so two monitors (or a monitor and
        `mlpipe train`) racing cannot both insert.
        """
        job_id = str(uuid.uuid4())
        values: dict[str, Any] = {
            "id": job_id,
            "model_name": model_name,
            "reason": reason,
            "trigger_event_id": trigger_event_id,
            "status": QUEUED,
            "attempts": 0,
            "max_attempts": max_attempts,
            "created_at": utcnow(),
        }
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(training_jobs.insert().values(**values))
        except IntegrityError:
            active = self.active_for(model_name)
            if active is None:  # the other job finished in between: try once more
                return self.create(
                    model_name=model_name,
                    reason=reason,
                    max_attempts=max_attempts,
                    trigger_event_id=trigger_event_id,
                )
            raise JobAlreadyActive(active) from None
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        jobs = self._select(training_jobs.c.id == job_id)
        if not jobs:
            raise NotFound(f"no training job {job_id}", {"job_id": job_id})
        return jobs[0]

    def active_for(self, model_name: str) -> Job | None:
        jobs = self._select(
            and_(training_jobs.c.model_name == model_name, training_jobs.c.status.in_(ACTIVE))
        )
        return jobs[0] if jobs else None

    def last_finished(self, model_name: str) -> Job | None:
        jobs = self._select(
            and_(training_jobs.c.model_name == model_name, training_jobs.c.status.in_(FINISHED)),
            order=training_jobs.c.finished_at.desc(),
            limit=1,
        )
        return jobs[0] if jobs else None

    def latest(self, model_name: str | None = None, limit: int = 10) -> list[Job]:
        where = training_jobs.c.model_name == model_name if model_name else None
        return self._select(where, limit=limit)

    def count_by_status(self, model_name: str | None = None) -> dict[str, int]:
        query = select(training_jobs.c.status, func.count()).group_by(training_jobs.c.status)
        if model_name:
            query = query.where(training_jobs.c.model_name == model_name)
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query).all()}

    def running_with_heartbeat_before(self, cutoff: datetime) -> list[Job]:
        """Running jobs whose last sign of life is older than `cutoff` (lease expired)."""
        beat = func.coalesce(training_jobs.c.heartbeat_at, training_jobs.c.started_at)
        return self._select(and_(training_jobs.c.status == RUNNING, beat < cutoff))

    def queued_before(self, cutoff: datetime) -> list[Job]:
        return self._select(
            and_(training_jobs.c.status == QUEUED, training_jobs.c.created_at < cutoff)
        )

    # ---- the life of one attempt -------------------------------------------
    def claim(self, job_id: str, worker: str) -> Job | None:
        """queued -> running for `worker` (attempts + 1); None if someone else has it."""
        now = utcnow()
        with write_transaction(self.engine) as conn:
            claimed = conn.execute(
                update(training_jobs)
                .where(training_jobs.c.id == job_id, training_jobs.c.status == QUEUED)
                .values(
                    status=RUNNING,
                    attempts=training_jobs.c.attempts + 1,
                    worker=worker,
                    heartbeat_at=now,
                    started_at=now,
                    finished_at=None,
                )
            ).rowcount
        return self.get(job_id) if claimed == 1 else None

    def heartbeat(self, job: Job) -> bool:
        """Extend the lease of the attempt `job`; False if it is no longer ours."""
        return self._update_attempt(job, heartbeat_at=utcnow())

    def record(self, job: Job, **values: Any) -> bool:
        """Store progress of the attempt (champion compared against, version, run id)."""
        return self._update_attempt(job, **values)

    def finish(self, job: Job, status: str, **values: Any) -> bool:
        """running -> succeeded | failed | dead for the attempt `job`."""
        assert status in FINISHED, status
        return self._update_attempt(job, status=status, finished_at=utcnow(), **values)

    def hand_back(self, job: Job, error: str) -> str | None:
        """Give a running attempt up: queued again, or dead once attempts are used up.

        Returns the new status, or None when the attempt was no longer ours.
        """
        status = DEAD if job.attempts >= job.max_attempts else QUEUED
        finished = utcnow() if status == DEAD else None
        changed = self._update_attempt(
            job, status=status, worker=None, error=error, finished_at=finished
        )
        return status if changed else None

    def expire_lease(self, job: Job, cutoff: datetime, error: str) -> str | None:
        """Like `hand_back`, but only while the heartbeat is still older than `cutoff`."""
        status = DEAD if job.attempts >= job.max_attempts else QUEUED
        finished = utcnow() if status == DEAD else None
        beat = func.coalesce(training_jobs.c.heartbeat_at, training_jobs.c.started_at)
        with write_transaction(self.engine) as conn:
            changed = conn.execute(
                update(training_jobs)
                .where(self._attempt_filter(job), beat < cutoff)
                .values(status=status, worker=None, error=error, finished_at=finished)
            ).rowcount
        return status if changed == 1 else None

    # ---- helpers -------------------------------------------------------------
    @staticmethod
    def _attempt_filter(job: Job) -> ColumnElement[bool]:
        c = training_jobs.c
        return and_(
            c.id == job.id, c.status == RUNNING, c.worker == job.worker, c.attempts == job.attempts
        )

    def _update_attempt(self, job: Job, **values: Any) -> bool:
        with write_transaction(self.engine) as conn:
            changed = conn.execute(
                update(training_jobs).where(self._attempt_filter(job)).values(**values)
            ).rowcount
        return changed == 1

    def _select(
        self, where: Any = None, *, order: Any = None, limit: int | None = None
    ) -> list[Job]:
        query = select(training_jobs)
        if where is not None:
            query = query.where(where)
        query = query.order_by(
            order if order is not None else training_jobs.c.created_at.desc(),
            training_jobs.c.id,
        )
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [Job.from_row(row) for row in rows]
