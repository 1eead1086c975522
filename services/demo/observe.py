"""Read what the loop did (drift events, training jobs, alias moves) since a moment in time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from shared.database import alias_history, drift_events, model_registry, training_jobs


def drift_events_since(engine: Engine, since: datetime) -> list[dict[str, Any]]:
    query = (
        select(
            drift_events.c.id,
            drift_events.c.created_at,
            drift_events.c.model_version,
            drift_events.c.n_current,
            drift_events.c.dataset_drift,
            drift_events.c.reason,
            drift_events.c.drifted_features,
            drift_events.c.feature_scores,
            drift_events.c.action,
            drift_events.c.job_id,
        )
        .where(drift_events.c.created_at >= since)
        .order_by(drift_events.c.id)
    )
    return _rows(engine, query)


def jobs_since(engine: Engine, since: datetime) -> list[dict[str, Any]]:
    query = (
        select(training_jobs)
        .where(training_jobs.c.created_at >= since)
        .order_by(training_jobs.c.created_at)
    )
    return _rows(engine, query)


def alias_moves_since(engine: Engine, since: datetime) -> list[dict[str, Any]]:
    query = (
        select(alias_history)
        .where(alias_history.c.created_at >= since)
        .order_by(alias_history.c.id)
    )
    return _rows(engine, query)


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def version_metrics(engine: Engine, model_name: str, version: str) -> dict[str, Any]:
    """Held-out metrics of a version, from the registry mirror."""
    query = select(model_registry.c.metrics).where(
        model_registry.c.model_name == model_name, model_registry.c.version == version
    )
    with engine.connect() as conn:
        return dict(conn.execute(query).scalar_one_or_none() or {})
