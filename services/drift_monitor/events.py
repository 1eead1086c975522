"""The `drift_events` table: one row per evaluated window, with the report and the action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ml.evaluation import DriftReport
from shared.database import drift_events, write_transaction

# What a cycle did about its window (drift_events.action).
NONE = "none"  # no drift
NOT_TESTABLE = "not_testable"  # the window could not be judged
PERSISTENCE = "awaiting_persistence"  # drift, but not yet in k of the last m windows
COOLDOWN = "cooldown"  # drift, but a job finished too recently
JOB_PENDING = "job_pending"  # drift, but the model already has a queued or running job
RETRAIN = "retrain"  # a job was enqueued (job_id says which)


@dataclass(frozen=True)
class DriftEvent:
    id: int
    created_at: datetime
    model_name: str
    model_version: str
    window_start: datetime | None
    window_end: datetime | None
    n_current: int
    n_labelled: int
    dataset_drift: bool | None
    reason: str | None
    drifted_features: list[str]
    feature_scores: dict[str, float | None]
    action: str
    job_id: str | None
    report: dict[str, Any]


def feature_scores(report: DriftReport) -> dict[str, float | None]:
    """{feature: effect size} for heatmaps that should not parse whole reports."""
    return {name: feature.effect_size for name, feature in report.features.items()}


class DriftEventRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(
        self,
        *,
        model_name: str,
        model_version: str,
        report: DriftReport,
        window_start: datetime | None,
        window_end: datetime | None,
        n_labelled: int,
        action: str,
        now: datetime,
    ) -> int:
        values = {
            "created_at": now,
            "model_name": model_name,
            "model_version": model_version,
            "window_start": window_start,
            "window_end": window_end,
            "n_current": report.n_current,
            "n_labelled": n_labelled,
            "dataset_drift": report.dataset_drift,
            "reason": report.reason,
            "drifted_features": list(report.drifted_features),
            "feature_scores": feature_scores(report),
            "report": report.to_dict(),
            "action": action,
        }
        with write_transaction(self.engine) as conn:
            key = conn.execute(drift_events.insert().values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_action(self, event_id: int, action: str, job_id: str | None = None) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(drift_events)
                .where(drift_events.c.id == event_id)
                .values(action=action, job_id=job_id)
            )

    def recent_verdicts(self, model_name: str, model_version: str, limit: int) -> list[bool]:
        """dataset_drift of the newest `limit` testable windows of this version, newest first."""
        c = drift_events.c
        query = (
            select(c.dataset_drift)
            .where(
                c.model_name == model_name,
                c.model_version == model_version,
                c.dataset_drift.is_not(None),
            )
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [bool(value) for value in conn.execute(query).scalars()]

    def drift_onset(self, event_id: int, lookback: int) -> datetime | None:
        """Start of the drift episode ending at `event_id`: the earliest window start among
        the unbroken run of drifted windows (of the same version, at most `lookback`) up to it."""
        c = drift_events.c
        with self.engine.connect() as conn:
            event = conn.execute(select(drift_events).where(c.id == event_id)).mappings().first()
            if event is None:
                return None
            rows = conn.execute(
                select(c.dataset_drift, c.window_start)
                .where(
                    c.model_name == event["model_name"],
                    c.model_version == event["model_version"],
                    c.id <= event_id,
                    c.dataset_drift.is_not(None),
                )
                .order_by(c.id.desc())
                .limit(max(lookback, 1))
            ).all()
        starts = []
        for drifted, start in rows:
            if not drifted:
                break
            starts.append(_utc(start))
        known = [start for start in starts if start is not None]
        return min(known) if known else _utc(event["window_start"])

    def latest(
        self, model_name: str | None = None, model_version: str | None = None, limit: int = 10
    ) -> list[DriftEvent]:
        c = drift_events.c
        query = select(drift_events).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        if model_name:
            query = query.where(c.model_name == model_name)
        if model_version:
            query = query.where(c.model_version == model_version)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(row) for row in rows]


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _event(row: Any) -> DriftEvent:
    values = dict(row)
    for key in ("created_at", "window_start", "window_end"):
        values[key] = _utc(values[key])
    return DriftEvent(**values)
