"""One model's per-bucket history over a window: traffic, latency, classes, labels.

The composition of the SQL queries with the closed-bucket memo of the context, so
pages ask for "the traffic of this window" and get final buckets from memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Connection

from dashboards.closed_buckets import ClosedBuckets
from dashboards.queries import labels, predictions
from dashboards.queries.labels import AccuracyRow
from dashboards.queries.predictions import ClassRow, LatencyRow, TrafficRow
from dashboards.time_range import Window

Row = TypeVar("Row", TrafficRow, LatencyRow, ClassRow, AccuracyRow)
Query = Callable[[Connection, str, datetime, datetime, int], Sequence[Row]]


class ModelHistory:
    def __init__(
        self, memo: ClosedBuckets, conn: Connection, model_name: str, window: Window, now: datetime
    ) -> None:
        self.memo, self.conn, self.model_name = memo, conn, model_name
        self.window, self.now = window, now

    def _rows(self, name: str, query: Query[Row]) -> list[Row]:
        def fetch(start: datetime, end: datetime) -> Sequence[Row]:
            return query(self.conn, self.model_name, start, end, self.window.bucket_seconds)

        w = self.window
        return self.memo.rows(
            name, self.model_name, w.start, w.end, w.bucket_seconds, self.now, fetch
        )

    def traffic(self) -> list[TrafficRow]:
        return self._rows("traffic", predictions.traffic)

    def latency(self) -> list[LatencyRow]:
        return self._rows("latency", predictions.latency_histograms)

    def classes(self) -> list[ClassRow]:
        return self._rows("classes", predictions.class_mix)

    def labels(self) -> list[AccuracyRow]:
        """Outcomes of labels by when they arrived (the costliest scan: memo matters most)."""
        return self._rows("labels", labels.label_outcomes)
