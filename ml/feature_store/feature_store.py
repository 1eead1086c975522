"""Feature rows in the database: bulk writes, training sets, per-entity look-ups and counts.

Feature values are stored as one JSON object per row (JSONB on PostgreSQL), so a
data set's columns need no table of their own. Rows are always normalised with
`ml.schema.normalize_frame` on the way out: training sees exactly the frame
serving sees.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from ml.feature_store.bulk_insert import FeatureRows, insert_rows
from ml.schema import DatasetSchema, normalize_frame
from ml.validation import ValidationResult
from shared.database import datasets, feature_store
from shared.errors import NotFound

REFERENCE_SPLIT = "reference"


class FeatureStore:
    """Reads and writes the `feature_store` table; one instance per process is enough."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._schemas: dict[int, DatasetSchema] = {}  # a data set id never changes its schema

    def write_validated(
        self,
        conn: Connection,
        dataset_id: int,
        validation: ValidationResult,
        *,
        batch_id: str,
        split: str,
    ) -> int:
        """Insert the valid rows of a validated request (features, labels, ids, times)."""
        return self.write_rows(
            conn,
            dataset_id,
            validation.frame,
            labels=validation.labels,
            entity_ids=validation.entity_ids,
            event_times=validation.event_times,
            batch_id=batch_id,
            split=split,
        )

    def write_rows(
        self,
        conn: Connection,
        dataset_id: int,
        features: pd.DataFrame,
        *,
        labels: pd.Series | None = None,
        entity_ids: pd.Series | None = None,
        event_times: pd.Series | None = None,
        batch_id: str | None = None,
        split: str,
    ) -> int:
        """Insert normalised rows inside the caller's transaction; return how many.

        A bulk path per backend (ml.feature_store.bulk_insert): COPY on
        PostgreSQL, one DBAPI executemany on SQLite.
        """
        if features.empty:
            return 0
        count = len(features)
        rows = FeatureRows(
            dataset_id=dataset_id,
            features=features,
            labels=[None if v is None else str(v) for v in _optional_column(labels, count)],
            entity_ids=[None if v is None else str(v) for v in _optional_column(entity_ids, count)],
            event_times=_timestamps(event_times, count),
            ingested_at=datetime.now(UTC),
            batch_id=batch_id,
            split=split,
        )
        insert_rows(conn, rows)
        return count

    def training_frame(
        self,
        dataset_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        labelled_only: bool = True,
        splits: list[str] | tuple[str, ...] | None = None,
    ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        """(features normalised to the schema, labels as class strings, ingested_at) in id order.

        `since`/`until` bound `ingested_at` (half-open: since <= t < until).
        """
        schema = self.schema(dataset_id)
        table = feature_store.c
        query = select(table.features, table.label, table.ingested_at).where(
            table.dataset_id == dataset_id
        )
        if since is not None:
            query = query.where(table.ingested_at >= since)
        if until is not None:
            query = query.where(table.ingested_at < until)
        if labelled_only:
            query = query.where(table.label.is_not(None))
        if splits is not None:
            query = query.where(table.split.in_(list(splits)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(table.id)).all()
        raw = pd.DataFrame.from_records([row[0] for row in rows], columns=schema.feature_names)
        frame = normalize_frame(schema, raw)
        labels = pd.Series([row[1] for row in rows], index=frame.index, dtype=object, name="label")
        times = pd.Series(
            pd.to_datetime(pd.Series([_utc(row[2]) for row in rows], dtype=object), utc=True),
            index=frame.index,
            name="ingested_at",
        )
        return frame, labels, times

    def latest_features(self, dataset_id: int, entity_id: str) -> dict[str, Any] | None:
        """The newest stored feature record of an entity (by event time, then arrival)."""
        table = feature_store.c
        query = (
            select(table.features)
            .where(table.dataset_id == dataset_id, table.entity_id == str(entity_id))
            .order_by(func.coalesce(table.event_time, table.ingested_at).desc(), table.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar()
        return dict(value) if value is not None else None

    def stats(self, dataset_id: int) -> dict[str, Any]:
        """Row counts by split, labelled count and the ingestion time range."""
        table = feature_store.c
        by_split = (
            select(table.split, func.count(), func.count(table.label))
            .where(table.dataset_id == dataset_id)
            .group_by(table.split)
        )
        span = select(func.min(table.ingested_at), func.max(table.ingested_at)).where(
            table.dataset_id == dataset_id
        )
        with self.engine.connect() as conn:
            counts = conn.execute(by_split).all()
            first, last = conn.execute(span).one()
        return {
            "rows": sum(int(n) for _, n, _ in counts),
            "labelled": sum(int(n) for _, _, n in counts),
            "by_split": {split: int(n) for split, n, _ in counts},
            "first_ingested_at": _iso(first),
            "last_ingested_at": _iso(last),
        }

    def schema(self, dataset_id: int) -> DatasetSchema:
        if dataset_id not in self._schemas:
            with self.engine.connect() as conn:
                raw = conn.execute(
                    select(datasets.c.schema).where(datasets.c.id == dataset_id)
                ).scalar()
            if raw is None:
                raise NotFound(f"no data set with id {dataset_id}")
            self._schemas[dataset_id] = DatasetSchema.from_dict(raw)
        return self._schemas[dataset_id]


def _optional_column(values: pd.Series | None, length: int) -> list[Any]:
    if values is None:
        return [None] * length
    as_objects = values.astype(object)
    return as_objects.where(values.notna(), None).tolist()


def _timestamps(values: pd.Series | None, length: int) -> list[datetime | None]:
    if values is None:
        return [None] * length
    parsed = pd.to_datetime(values, utc=True, errors="coerce")
    return [None if pd.isna(v) else v.to_pydatetime() for v in parsed]


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything this project writes is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _iso(value: datetime | None) -> str | None:
    value = _utc(value)
    return value.isoformat() if value is not None else None
