"""Traffic, latency, class mix and shadow agreement from the per-minute rollup.

Each query sums the rollup rows of [start, end) into fixed-width time buckets in
SQL and returns one small row per bucket (and version or class).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, true
from sqlalchemy.engine import Connection

from dashboards.queries.sql import epoch_bucket, json_object_entries
from shared.database import prediction_minutes
from shared.rollup import LATENCY_BUCKETS_MS


class TrafficRow(NamedTuple):
    epoch: int
    version: str
    n: int
    latency_sum_ms: float
    shadow_n: int
    shadow_agree: int


class LatencyRow(NamedTuple):
    epoch: int
    counts: list[int]  # per shared.rollup.LATENCY_BUCKETS_MS bucket, all versions


class ClassRow(NamedTuple):
    epoch: int
    label: str
    n: int


def _between(model_name: str, start: datetime, end: datetime) -> list[Any]:
    t = prediction_minutes
    return [t.c.model_name == model_name, t.c.minute >= start, t.c.minute < end]


def traffic(
    conn: Connection, model_name: str, start: datetime, end: datetime, width: int
) -> list[TrafficRow]:
    """Predictions, latency sum and shadow counts per time bucket and model version."""
    t = prediction_minutes
    bucket = epoch_bucket(t.c.minute, width, conn.dialect.name)
    rows = conn.execute(
        select(
            bucket,
            t.c.model_version,
            func.sum(t.c.n),
            func.sum(t.c.latency_sum_ms),
            func.sum(t.c.shadow_n),
            func.sum(t.c.shadow_agree),
        )
        .where(*_between(model_name, start, end))
        .group_by(bucket, t.c.model_version)
    ).all()
    return [
        TrafficRow(
            int(r[0]), str(r[1]), int(r[2]), float(r[3] or 0), int(r[4] or 0), int(r[5] or 0)
        )
        for r in rows
    ]


def latency_histograms(
    conn: Connection, model_name: str, start: datetime, end: datetime, width: int
) -> list[LatencyRow]:
    """Latency histogram counts summed per time bucket, in SQL.

    One SUM per histogram position keeps the rollup rows unexploded: far faster
    than unnesting every JSON array.
    """
    t = prediction_minutes
    bucket = epoch_bucket(t.c.minute, width, conn.dialect.name)
    sums = [
        func.sum(t.c.latency_buckets[i].as_integer()) for i in range(len(LATENCY_BUCKETS_MS) + 1)
    ]
    rows = conn.execute(
        select(bucket, *sums).where(*_between(model_name, start, end)).group_by(bucket)
    ).all()
    return [LatencyRow(int(r[0]), [int(count or 0) for count in r[1:]]) for r in rows]


def class_mix(
    conn: Connection, model_name: str, start: datetime, end: datetime, width: int
) -> list[ClassRow]:
    """Predicted classes counted per time bucket (all versions)."""
    t = prediction_minutes
    bucket = epoch_bucket(t.c.minute, width, conn.dialect.name)
    entries, key, count = json_object_entries(t.c.class_counts, conn.dialect.name)
    rows = conn.execute(
        select(bucket, key, func.sum(count))
        .select_from(t)
        .join(entries, true())
        .where(*_between(model_name, start, end))
        .group_by(bucket, key)
    ).all()
    return [ClassRow(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def predictions_between(conn: Connection, model_name: str, start: datetime, end: datetime) -> int:
    """Predictions logged in [start, end), from the rollup."""
    t = prediction_minutes
    total = conn.execute(
        select(func.coalesce(func.sum(t.c.n), 0)).where(*_between(model_name, start, end))
    ).scalar_one()
    return int(total)
