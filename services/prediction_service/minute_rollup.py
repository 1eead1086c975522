"""Per-minute rollups (`prediction_minutes`), updated in the same transaction as the rows.

Merging is race-free on both backends: insert the minute if it is new; if it
exists, lock it (FOR UPDATE on PostgreSQL, the database write lock that
BEGIN IMMEDIATE holds on SQLite), merge the JSON counts in Python and update.
Keys are handled in sorted order, so two writers never deadlock.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from services.prediction_service.log_rows import PredictionRows, ShadowRows, minute_of
from shared.database import prediction_minutes
from shared.rollup import LATENCY_BUCKETS_MS, merge_counts

MinuteKey = tuple[str, str, datetime]  # model name, model version, minute (UTC)


@dataclass
class MinuteTotals:
    n: int = 0
    latency_sum_ms: float = 0.0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    class_counts: dict[str, int] = field(default_factory=dict)
    shadow_n: int = 0
    shadow_agree: int = 0

    def add_predictions(self, rows: PredictionRows) -> None:
        self.n += rows.size
        self.latency_sum_ms += rows.latency_ms * rows.size
        # Same bucket rule as shared.rollup.latency_bucket_counts (side="left").
        self.latency_buckets[bisect_left(LATENCY_BUCKETS_MS, rows.latency_ms)] += rows.size
        for label, count in rows.class_counts().items():
            self.class_counts[label] = self.class_counts.get(label, 0) + count

    def add_shadow(self, rows: ShadowRows) -> None:
        self.shadow_n += rows.size
        self.shadow_agree += rows.agreed

    def merged_with(self, row: Any) -> dict[str, Any]:
        """Column values of the stored `row` plus these totals."""
        classes = dict(row.class_counts or {})
        for label, count in self.class_counts.items():
            classes[label] = int(classes.get(label, 0)) + count
        return {
            "n": int(row.n) + self.n,
            "latency_sum_ms": float(row.latency_sum_ms) + self.latency_sum_ms,
            "latency_buckets": merge_counts(row.latency_buckets, self.latency_buckets),
            "class_counts": classes,
            "shadow_n": int(row.shadow_n) + self.shadow_n,
            "shadow_agree": int(row.shadow_agree) + self.shadow_agree,
        }

    def as_values(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "latency_sum_ms": self.latency_sum_ms,
            "latency_buckets": self.latency_buckets,
            "class_counts": self.class_counts,
            "shadow_n": self.shadow_n,
            "shadow_agree": self.shadow_agree,
        }


def prediction_totals(batches: list[PredictionRows]) -> dict[MinuteKey, MinuteTotals]:
    totals: dict[MinuteKey, MinuteTotals] = {}
    for rows in batches:
        key = (rows.model_name, rows.model_version, minute_of(rows.created_at))
        totals.setdefault(key, MinuteTotals()).add_predictions(rows)
    return totals


def shadow_totals(batches: list[ShadowRows]) -> dict[MinuteKey, MinuteTotals]:
    totals: dict[MinuteKey, MinuteTotals] = {}
    for rows in batches:
        key = (rows.model_name, rows.champion_version, minute_of(rows.created_at))
        totals.setdefault(key, MinuteTotals()).add_shadow(rows)
    return totals


def upsert_minutes(conn: Connection, totals: dict[MinuteKey, MinuteTotals]) -> None:
    """Add `totals` to their minutes inside the caller's write transaction."""
    table = prediction_minutes
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for key in sorted(totals):
        name, version, minute = key
        added = totals[key]
        match = and_(
            table.c.model_name == name, table.c.model_version == version, table.c.minute == minute
        )
        statement = (
            dialect_insert(table)
            .values(model_name=name, model_version=version, minute=minute, **added.as_values())
            .on_conflict_do_nothing(index_elements=["model_name", "model_version", "minute"])
        )
        if conn.execute(statement).rowcount:
            continue
        stored = conn.execute(select(table).where(match).with_for_update()).one()
        conn.execute(update(table).where(match).values(**added.merged_with(stored)))
