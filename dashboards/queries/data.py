"""Ingested batches over time: rows accepted, rejected and labelled."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dashboards.queries.sql import epoch_bucket
from dashboards.time_range import Window
from shared.database import ingestion_batches


class BatchBucket(NamedTuple):
    epoch: int
    batches: int
    accepted: int
    rejected: int
    labelled: int


def batch_series(conn: Connection, dataset_id: int | None, window: Window) -> list[BatchBucket]:
    """Per time bucket; all datasets when no dataset is active."""
    t = ingestion_batches
    bucket = epoch_bucket(t.c.received_at, window.bucket_seconds, conn.dialect.name)
    conditions = [t.c.received_at >= window.start, t.c.received_at < window.end]
    if dataset_id is not None:
        conditions.append(t.c.dataset_id == dataset_id)
    rows = conn.execute(
        select(
            bucket,
            func.count(),
            func.sum(t.c.accepted),
            func.sum(t.c.rejected),
            func.sum(t.c.labelled),
        )
        .where(*conditions)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    return [
        BatchBucket(int(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0))
        for r in rows
    ]
