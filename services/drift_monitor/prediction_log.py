"""Reading the prediction log: windows of live traffic and of labels fed back.

The prediction service writes `predictions` (features as sent, output,
probabilities, model version); POST /feedback fills `label` and `label_at`.
Data windows are cut by when predictions were made, performance windows by
when their labels arrived (a label can come days after its prediction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ml.schema import DatasetSchema, normalize_frame
from shared.database import predictions


@dataclass
class Window:
    """Rows of one window, normalised to the model's schema, newest last."""

    frame: pd.DataFrame
    predictions: pd.Series
    probabilities: pd.DataFrame | None
    labels: pd.Series  # missing (None) where no label has arrived
    times: pd.Series  # the time the window is cut by (created_at or label_at)
    versions: pd.Series | None = None  # model version that made each prediction

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def start(self) -> datetime | None:
        return self.times.min().to_pydatetime() if self.n else None

    @property
    def end(self) -> datetime | None:
        return self.times.max().to_pydatetime() if self.n else None


class PredictionLog:
    """Read-only queries on `predictions` for the monitor, the CLI and the worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count_made(
        self, model: str, version: str, *, since: datetime | None, until: datetime
    ) -> int:
        """Predictions of `version` made in (since, until]."""
        c = predictions.c
        query = select(func.count()).where(
            c.model_name == model, c.model_version == version, c.created_at <= until
        )
        if since is not None:
            query = query.where(c.created_at > since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def made(
        self,
        model: str,
        version: str,
        schema: DatasetSchema,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
    ) -> Window:
        """The newest `limit` predictions of `version` made in (since, until]."""
        c = predictions.c
        query = select(*_COLUMNS, c.created_at.label("at")).where(
            c.model_name == model, c.model_version == version
        )
        query = _bounded(query, c.created_at, since, until)
        query = query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        return self._window(query, schema)

    def latest(self, model: str, schema: DatasetSchema, *, limit: int) -> Window:
        """The newest `limit` predictions of `model`, whichever version made them."""
        c = predictions.c
        query = (
            select(*_COLUMNS, c.created_at.label("at"))
            .where(c.model_name == model)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit)
        )
        return self._window(query, schema)

    def labelled(
        self,
        model: str,
        schema: DatasetSchema,
        *,
        version: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Window:
        """The newest `limit` predictions (of `version`, or any) whose label arrived in (since, until]."""
        c = predictions.c
        query = select(*_COLUMNS, c.label_at.label("at")).where(
            c.model_name == model, c.label.is_not(None)
        )
        if version is not None:
            query = query.where(c.model_version == version)
        query = _bounded(query, c.label_at, since, until)
        query = query.order_by(c.label_at.desc(), c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return self._window(query, schema)

    def _window(self, query: Any, schema: DatasetSchema) -> Window:
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        rows = list(reversed(rows))  # oldest first
        raw = pd.DataFrame.from_records(
            [row["features"] for row in rows], columns=schema.feature_names
        )
        frame = normalize_frame(schema, raw)
        index = frame.index
        probabilities = None
        if rows and all(row["probabilities"] for row in rows):
            classes = list(schema.classes)
            probabilities = (
                pd.DataFrame.from_records(
                    [row["probabilities"] for row in rows], columns=classes, index=index
                )
                .astype(float)
                .fillna(0.0)
            )
        times = pd.Series(
            pd.to_datetime([_utc(row["at"]) for row in rows], utc=True), index=index, name="at"
        )
        return Window(
            frame=frame,
            predictions=pd.Series([row["prediction"] for row in rows], index=index, dtype=object),
            probabilities=probabilities,
            labels=pd.Series([row["label"] for row in rows], index=index, dtype=object),
            times=times,
            versions=pd.Series([row["model_version"] for row in rows], index=index, dtype=object),
        )


_COLUMNS = (
    predictions.c.id,
    predictions.c.features,
    predictions.c.prediction,
    predictions.c.probabilities,
    predictions.c.label,
    predictions.c.model_version,
)


def _bounded(query: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        query = query.where(column > since)
    if until is not None:
        query = query.where(column <= until)
    return query


def _utc(value: datetime | None) -> datetime | float:
    if value is None:
        return np.nan
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
