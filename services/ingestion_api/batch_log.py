"""Queries on `ingestion_batches`: the idempotency record of every stored batch.

The row is inserted in the same transaction as the batch's feature rows, first,
so a racing twin request waits on (PostgreSQL) or is serialised behind
(SQLite, BEGIN IMMEDIATE) the primary key before any rows are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from shared.database import ingestion_batches


@dataclass(frozen=True)
class StoredBatch:
    batch_id: str
    body_hash: str
    result: dict[str, Any]


def find_batch(db: Engine | Connection, batch_id: str) -> StoredBatch | None:
    query = select(
        ingestion_batches.c.batch_id, ingestion_batches.c.body_hash, ingestion_batches.c.result
    ).where(ingestion_batches.c.batch_id == batch_id)
    if isinstance(db, Connection):
        row = db.execute(query).first()
    else:
        with db.connect() as conn:
            row = conn.execute(query).first()
    return StoredBatch(row[0], row[1], dict(row[2])) if row else None


def record_batch(
    conn: Connection,
    *,
    batch_id: str,
    dataset_id: int,
    body_hash: str,
    source: str,
    result: dict[str, Any],
    received_at: datetime,
) -> None:
    conn.execute(
        ingestion_batches.insert().values(
            batch_id=batch_id,
            dataset_id=dataset_id,
            body_hash=body_hash,
            source=source,
            accepted=result["accepted"],
            rejected=result["rejected"],
            labelled=result["labelled"],
            result=result,
            received_at=received_at,
        )
    )


def batch_summary(engine: Engine, dataset_id: int) -> dict[str, Any]:
    """Counts over the data set's batches, by source, and when the last one arrived."""
    table = ingestion_batches.c
    query = (
        select(
            table.source,
            func.count(),
            func.coalesce(func.sum(table.accepted), 0),
            func.coalesce(func.sum(table.rejected), 0),
            func.coalesce(func.sum(table.labelled), 0),
            func.max(table.received_at),
        )
        .where(table.dataset_id == dataset_id)
        .group_by(table.source)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    by_source = {
        source: {"batches": int(n), "accepted": int(a), "rejected": int(r), "labelled": int(lab)}
        for source, n, a, r, lab, _ in rows
    }
    last = max((_utc(row[5]) for row in rows if row[5] is not None), default=None)
    return {
        "batches": sum(s["batches"] for s in by_source.values()),
        "accepted": sum(s["accepted"] for s in by_source.values()),
        "rejected": sum(s["rejected"] for s in by_source.values()),
        "by_source": by_source,
        "last_received_at": last.isoformat() if last else None,
    }


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything written here is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
