"""Training jobs: what triggered them, how they went, and what the gate decided."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.engine import Connection

from dashboards.time_range import Window, as_utc
from shared.database import training_jobs

MAX_JOBS_SHOWN = 200


@dataclass(frozen=True)
class TrainingJob:
    id: str
    reason: str
    trigger_event_id: int | None
    status: str
    attempts: int
    max_attempts: int
    worker: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    champion_version: str | None
    model_version: str | None
    run_id: str | None
    gate_decision: dict[str, Any] | None
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def _decision(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {"reason": raw}
    return raw if isinstance(raw, dict) else None


def _job(row: Any) -> TrainingJob:
    return TrainingJob(
        id=row.id,
        reason=row.reason,
        trigger_event_id=row.trigger_event_id,
        status=row.status,
        attempts=int(row.attempts),
        max_attempts=int(row.max_attempts),
        worker=row.worker,
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        champion_version=row.champion_version,
        model_version=row.model_version,
        run_id=row.run_id,
        gate_decision=_decision(row.gate_decision),
        error=row.error,
    )


def jobs(
    conn: Connection, model_name: str, window: Window, limit: int = MAX_JOBS_SHOWN
) -> list[TrainingJob]:
    """Jobs created in the window, newest first."""
    t = training_jobs
    rows = conn.execute(
        select(t)
        .where(
            t.c.model_name == model_name,
            t.c.created_at >= window.start,
            t.c.created_at < window.end,
        )
        .order_by(desc(t.c.created_at))
        .limit(limit)
    ).all()
    return [_job(row) for row in rows]


def status_counts(conn: Connection, model_name: str, window: Window) -> dict[str, int]:
    """How many jobs of the window ended (or stand) in each status."""
    t = training_jobs
    rows = conn.execute(
        select(t.c.status, func.count())
        .where(
            t.c.model_name == model_name,
            t.c.created_at >= window.start,
            t.c.created_at < window.end,
        )
        .group_by(t.c.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def latest_job(conn: Connection, model_name: str) -> TrainingJob | None:
    t = training_jobs
    row = conn.execute(
        select(t).where(t.c.model_name == model_name).order_by(desc(t.c.created_at)).limit(1)
    ).first()
    return _job(row) if row else None


def pending_jobs(conn: Connection, model_name: str) -> int:
    """Jobs queued or running now (the monitor allows one per model)."""
    t = training_jobs
    return int(
        conn.execute(
            select(func.count())
            .select_from(t)
            .where(t.c.model_name == model_name, t.c.status.in_(("queued", "running")))
        ).scalar_one()
    )
