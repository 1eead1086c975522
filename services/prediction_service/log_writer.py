"""Bulk writes of prediction rows: COPY on PostgreSQL, executemany on SQLite.

The JSON columns arrive as ready-made text (see json_rows), so the rows go to
the driver as they are instead of through a per-row `json.dumps`: on a
10,000-row batch that is the difference between logging costing more than the
prediction and costing a fraction of it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, bindparam, update
from sqlalchemy.engine import Connection, Dialect

from services.prediction_service.log_rows import PredictionRows, ShadowRows
from shared.database import predictions

COLUMNS = (
    "id",
    "created_at",
    "model_name",
    "model_version",
    "features",
    "prediction",
    "probabilities",
    "latency_ms",
    "endpoint",
    "request_id",
)


def insert_predictions(conn: Connection, batches: list[PredictionRows]) -> int:
    """Insert every row of `batches` inside the caller's transaction; returns the count."""
    if conn.dialect.name == "postgresql":
        _copy_postgres(conn, batches)
    else:
        _executemany(conn, batches)
    return sum(b.size for b in batches)


def update_shadow(conn: Connection, batches: list[ShadowRows]) -> None:
    """Write the challenger's output next to the champion's rows."""
    params = [
        {"row_id": pid, "sv": rows.shadow_version, "sp": label, "spp": probabilities}
        for rows in batches
        for pid, label, probabilities in zip(rows.ids, rows.labels, rows.probabilities, strict=True)
    ]
    if not params:
        return
    statement = (
        update(predictions)
        .where(predictions.c.id == bindparam("row_id"))
        .values(
            shadow_version=bindparam("sv"),
            shadow_prediction=bindparam("sp"),
            shadow_probabilities=bindparam("spp"),
        )
    )
    conn.execute(statement, params)


def stored_form(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The function SQLAlchemy applies to a value of `column` before the driver sees it
    (on SQLite, datetimes become its text format), so raw SQL stores and matches alike."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _executemany(conn: Connection, batches: list[PredictionRows]) -> None:
    stored_time = stored_form(predictions.c.created_at, conn.dialect)
    rows: list[tuple[Any, ...]] = []
    for b in batches:
        # The same text SQLAlchemy itself would store, so readers parse it alike.
        created = stored_time(b.created_at) if stored_time else b.created_at
        common = (created, b.model_name, b.model_version)
        tail = (b.latency_ms, b.endpoint, b.request_id)
        rows.extend(
            (pid, *common, features, label, probabilities, *tail)
            for pid, features, label, probabilities in zip(
                b.ids, b.features_json, b.labels, b.probabilities_json, strict=True
            )
        )
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO predictions ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    conn.exec_driver_sql(sql, rows)


def _copy_postgres(conn: Connection, batches: list[PredictionRows]) -> None:
    buffer = io.StringIO()
    for b in batches:
        constant_head = "\t".join(
            (b.created_at.isoformat(), _copy_text(b.model_name), _copy_text(b.model_version))
        )
        constant_tail = "\t".join(
            (repr(float(b.latency_ms)), _copy_text(b.endpoint), _copy_text(b.request_id))
        )
        labels = {label: _copy_text(label) for label in set(b.labels)}
        template = f"%s\t{_percent(constant_head)}\t%s\t%s\t%s\t{_percent(constant_tail)}\n"
        buffer.writelines(
            template % (pid, _copy_json(features), labels[label], _copy_json(probabilities))
            for pid, features, label, probabilities in zip(
                b.ids, b.features_json, b.labels, b.probabilities_json, strict=True
            )
        )
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY predictions ({', '.join(COLUMNS)}) FROM STDIN", buffer)
    finally:
        cursor.close()


def _copy_text(value: str | None) -> str:
    """A field in COPY's text format: backslash escapes, \\N for NULL."""
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_json(text: str) -> str:
    # JSON text holds no raw control characters; only its backslashes need doubling.
    return text.replace("\\", "\\\\") if "\\" in text else text


def _percent(text: str) -> str:
    return text.replace("%", "%%")
