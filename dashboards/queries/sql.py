"""Dialect-specific SQL fragments (SQLite and PostgreSQL) the queries share."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement


def epoch_bucket(column: Any, seconds: int, dialect: str) -> ColumnElement[Any]:
    """Start of the fixed-width bucket a timestamp falls in, as epoch seconds.

    The width is inlined (not bound) so the same expression can appear in
    SELECT and GROUP BY on PostgreSQL.
    """
    width = literal_column(str(int(seconds)), Integer)
    if dialect == "postgresql":
        epoch = func.extract("epoch", column)
        return cast(func.floor(epoch / width) * width, BigInteger)
    # SQLite stores UTC timestamps as text. unixepoch() (3.38+) reads them a third faster
    # than strftime('%s'). Integer // Integer renders as SQL integer division.
    if sqlite3.sqlite_version_info >= (3, 38):
        return (cast(func.unixepoch(column), Integer) // width) * width
    return (cast(func.strftime("%s", column), Integer) // width) * width


def json_object_entries(
    column: Any, dialect: str
) -> tuple[Any, ColumnElement[Any], ColumnElement[Any]]:
    """(table-valued FROM item, key, integer value) for a JSON object of counts."""
    if dialect == "postgresql":
        entries = func.jsonb_each_text(column).table_valued("key", "value")
    else:
        entries = func.json_each(column).table_valued("key", "value")
    return entries, entries.c.key, cast(entries.c.value, BigInteger)
