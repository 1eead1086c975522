"""A training job as the `training_jobs` table holds it, and its states.

States: queued -> running -> succeeded | failed | dead; running -> queued when a
lease expires, a worker hands a job back on shutdown, or an attempt hits a
transient error (see docs/LOOP.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.errors import Conflict

QUEUED, RUNNING, SUCCEEDED, FAILED, DEAD = "queued", "running", "succeeded", "failed", "dead"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (SUCCEEDED, FAILED, DEAD)
_TIMES = ("heartbeat_at", "created_at", "started_at", "finished_at")


class JobAlreadyActive(Conflict):
    """The model already has a queued or running job (at most one at a time)."""

    def __init__(self, job: Job) -> None:
        super().__init__(
            f"model {job.model_name!r} already has a {job.status} training job {job.id}",
            {"job_id": job.id, "status": job.status},
        )
        self.job = job


@dataclass(frozen=True)
class Job:
    id: str
    model_name: str
    reason: str
    trigger_event_id: int | None
    status: str
    attempts: int
    max_attempts: int
    worker: str | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    champion_version: str | None
    model_version: str | None
    run_id: str | None
    gate_decision: dict[str, Any] | None
    error: str | None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        for key in _TIMES:
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_row(cls, row: Any) -> Job:
        values = dict(row)
        for key in _TIMES:
            value = values[key]
            if value is not None and value.tzinfo is None:  # SQLite drops the zone; all UTC
                values[key] = value.replace(tzinfo=UTC)
        return cls(**values)


def utcnow() -> datetime:
    return datetime.now(UTC)


def lease_cutoff(now: datetime, lease_seconds: float) -> datetime:
    return now - timedelta(seconds=lease_seconds)
