"""Drift events: the scores per feature over time, counts of what the monitor did,
and one event's full report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, case, cast, desc, func, or_, select
from sqlalchemy.engine import Connection

from dashboards.time_range import utc
from shared.database import drift_events

# More columns than this make a heatmap no one can read: longer ranges show every k-th
# check (and every check that enqueued a retrain).
MAX_EVENTS_SHOWN = 1000


@dataclass(frozen=True)
class DriftEvent:
    id: int
    created_at: datetime
    model_version: str
    n_current: int
    dataset_drift: bool | None
    reason: str
    drifted_features: list[str]
    feature_scores: dict[str, float]
    action: str
    job_id: str | None

    @property
    def epoch(self) -> int:
        """Whole seconds of created_at: where the closed-bucket memo files the event."""
        return int(self.created_at.timestamp())


class EventCounts(NamedTuple):
    checks: int
    drifted: int
    retrains: int


def _json(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def _scores(raw: Any) -> dict[str, float]:
    raw = _json(raw)
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}


def _features(raw: Any) -> list[str]:
    raw = _json(raw)
    return [str(name) for name in raw] if isinstance(raw, list) else []


t = drift_events
SUMMARY_COLUMNS = (
    t.c.id,
    t.c.created_at,
    t.c.model_version,
    t.c.n_current,
    t.c.dataset_drift,
    t.c.reason,
    t.c.drifted_features,
    t.c.feature_scores,
    t.c.action,
    t.c.job_id,
)


def _event(row: Any) -> DriftEvent:
    return DriftEvent(
        int(row.id),
        utc(row.created_at),
        str(row.model_version),
        int(row.n_current),
        row.dataset_drift,
        row.reason or "",
        _features(row.drifted_features),
        _scores(row.feature_scores),
        row.action,
        row.job_id,
    )


def _between(model_name: str, start: datetime, end: datetime) -> list[Any]:
    return [t.c.model_name == model_name, t.c.created_at >= start, t.c.created_at < end]


def event_counts(conn: Connection, model_name: str, start: datetime, end: datetime) -> EventCounts:
    """Checks, drifted checks and retrains enqueued in [start, end), counted in SQL."""
    drifted = func.sum(cast(case((t.c.dataset_drift.is_(True), 1), else_=0), Integer))
    row = conn.execute(
        select(func.count(), drifted, func.count(t.c.job_id)).where(
            *_between(model_name, start, end)
        )
    ).one()
    return EventCounts(int(row[0]), int(row[1] or 0), int(row[2]))


def events(
    conn: Connection, model_name: str, start: datetime, end: datetime, limit: int = MAX_EVENTS_SHOWN
) -> list[DriftEvent]:
    """Events of [start, end), oldest first: all of them, or every k-th when there are
    more than `limit` (plus every one that enqueued a retrain)."""
    total = event_counts(conn, model_name, start, end).checks
    query = select(*SUMMARY_COLUMNS).where(*_between(model_name, start, end))
    if total > limit:
        step = math.ceil(total / limit)
        query = query.where(or_(t.c.id % step == 0, t.c.job_id.is_not(None)))
    rows = conn.execute(query.order_by(t.c.created_at, t.c.id)).all()
    return [_event(row) for row in rows]


def latest_event(conn: Connection, model_name: str) -> DriftEvent | None:
    row = conn.execute(
        select(*SUMMARY_COLUMNS)
        .where(t.c.model_name == model_name)
        .order_by(desc(t.c.created_at), desc(t.c.id))
        .limit(1)
    ).first()
    return _event(row) if row else None


def event_with_report(conn: Connection, event_id: int) -> tuple[DriftEvent, dict[str, Any]] | None:
    """One event and its stored report (a dict; {} when unreadable)."""
    row = conn.execute(select(*SUMMARY_COLUMNS, t.c.report).where(t.c.id == event_id)).first()
    if row is None:
        return None
    report = _json(row.report)
    return _event(row), report if isinstance(report, dict) else {}
