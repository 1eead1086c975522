"""Bulk insert of feature rows inside the caller's transaction, near the database's own bulk speed.

SQLAlchemy's executemany spends most of its time in per-row Python (bind
processing, statement batching): about 15 s for 100,000 rows on PostgreSQL
and 7.5 s on SQLite here. Instead:

- PostgreSQL: `COPY feature_store (...) FROM STDIN` on the raw psycopg2
  connection that carries the caller's transaction (so it commits or rolls
  back with everything else the caller wrote);
- SQLite: one DBAPI `executemany` of plain tuples whose values were converted
  by the columns' own bind processors, so they read back exactly as if
  SQLAlchemy had written them.

Rows are prepared column by column; only the final format is per row.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection

from ml.feature_store.json_rows import RowTexts, json_objects, json_row_texts
from shared.database import feature_store

COLUMNS = (
    "dataset_id",
    "entity_id",
    "event_time",
    "ingested_at",
    "features",
    "label",
    "label_at",
    "batch_id",
    "split",
)
COPY_NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class FeatureRows:
    """Rows to insert, column by column (every sequence has one entry per row)."""

    dataset_id: int
    features: pd.DataFrame  # stored as one JSON object per row
    labels: Sequence[str | None]
    entity_ids: Sequence[str | None]
    event_times: Sequence[datetime | None]
    ingested_at: datetime
    batch_id: str | None
    split: str

    def columns(self, stamp: Callable[[datetime], Any], features: Any) -> list[Any]:
        """Values in COLUMNS order: a list per varying column, a scalar for a constant one.

        Datetimes are converted by `stamp`; None stays None (null); `features`
        is put in as given (the backends encode the frame differently).
        """
        ingested = stamp(self.ingested_at)
        return [
            self.dataset_id,
            list(self.entity_ids),
            [None if t is None else stamp(t) for t in self.event_times],
            ingested,
            features,
            list(self.labels),
            [None if label is None else ingested for label in self.labels],
            self.batch_id,
            self.split,
        ]


def insert_rows(conn: Connection, rows: FeatureRows) -> None:
    if conn.dialect.name == "postgresql":
        _copy_postgresql(conn, rows)
    else:
        _executemany(conn, rows)


def _copy_postgresql(conn: Connection, rows: FeatureRows) -> None:
    features = json_row_texts(rows.features, escape=_copy_text)
    # One line template per batch: constants written in, the JSON object's template
    # spliced in, and a %s per varying value, so each line is one format operation.
    pieces, varying = [], []
    for column in rows.columns(datetime.isoformat, features):
        if isinstance(column, RowTexts):
            pieces.append(column.template)
            varying.extend(column.columns)
        elif isinstance(column, list):
            pieces.append("%s")
            varying.append([_copy_text(value) for value in column])
        else:
            pieces.append(_copy_text(column).replace("%", "%%"))
    template = "\t".join(pieces) + "\n"
    buffer = io.StringIO()
    buffer.writelines(template % values for values in zip(*varying, strict=True))
    buffer.seek(0)
    # The DBAPI connection of `conn`: COPY joins the transaction the caller opened.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY {feature_store.name} ({', '.join(COLUMNS)}) FROM STDIN", buffer)
    finally:
        cursor.close()


def _copy_text(value: Any) -> str:
    """A value in COPY's text format: \\N for null, backslash escapes for specials."""
    if value is None:
        return COPY_NULL
    if not isinstance(value, str):
        return str(value)  # numbers: no specials possible
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(COPY_ESCAPES)
    return value  # the common case, checked first because translate is slower than a scan


def _executemany(conn: Connection, rows: FeatureRows) -> None:
    dialect = conn.dialect
    to_stamp = feature_store.c.ingested_at.type.dialect_impl(dialect).bind_processor(dialect)
    columns = rows.columns(to_stamp or _identity, json_objects(rows.features))
    count = len(rows.features)
    tuples = zip(*(c if isinstance(c, list) else [c] * count for c in columns), strict=True)
    marks = ", ".join("?" for _ in COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO {feature_store.name} ({', '.join(COLUMNS)}) VALUES ({marks})",
        list(tuples),  # type: ignore[arg-type]
    )


def _identity(value: Any) -> Any:
    return value
