"""Data sets: one row per `mlpipe init`, holding the schema and which one is active.

The registered model in MLflow carries the data set's name, so a data set and
its model are looked up by the same key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ml.schema import DatasetSchema
from shared.config import Settings
from shared.database import datasets
from shared.errors import Conflict, InputError, NoActiveModel, NotFound

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
INIT_HINT = "run `mlpipe init --data CSV --target COLUMN` first"


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    target: str
    task: str
    schema: DatasetSchema
    is_active: bool
    n_rows: int  # rows stored by `mlpipe init` (the reference data); see FeatureStore.stats
    created_at: datetime
    source: str | None = None


def validate_name(name: str) -> str:
    """Data set (and registered model) names: letters, digits, `_`, `.`, `-`."""
    if not NAME_PATTERN.match(name):
        raise InputError(
            f"invalid model name {name!r}: use 1-100 letters, digits, '_', '.' or '-' "
            "(starting with a letter or digit); pass --name"
        )
    return name


def create_dataset(
    conn: Connection,
    *,
    name: str,
    schema: DatasetSchema,
    source: str | None,
    activate: bool = True,
    replace: bool = False,
    n_rows: int = 0,
) -> Dataset:
    """Insert a data set inside the caller's transaction.

    An existing name is a Conflict unless `replace`, which deletes it (and, by
    cascade, its feature rows and ingestion batches) first.
    """
    validate_name(name)
    existing = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar()
    if existing is not None:
        if not replace:
            raise Conflict(
                f"model {name!r} is already initialised; pass --force to replace it",
                {"field": "name"},
            )
        conn.execute(datasets.delete().where(datasets.c.id == existing))
    if activate:
        conn.execute(update(datasets).where(datasets.c.is_active).values(is_active=False))
    values = {
        "name": name,
        "target": schema.target,
        "task": schema.task,
        "schema": schema.to_dict(),
        "source": source,
        "n_rows": n_rows,
        "is_active": activate,
        "created_at": datetime.now(UTC),
    }
    inserted = conn.execute(datasets.insert().values(**values)).inserted_primary_key
    assert inserted is not None
    new_id = inserted[0]
    return _from_row({"id": new_id, **values})


def delete_dataset(conn: Connection, dataset_id: int) -> None:
    """Remove a data set and, by cascade, its feature rows and ingestion batches."""
    conn.execute(datasets.delete().where(datasets.c.id == dataset_id))


def set_row_count(conn: Connection, dataset_id: int, n_rows: int) -> None:
    conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(n_rows=n_rows))


def get_dataset(engine: Engine | Connection, name: str) -> Dataset:
    """The data set called `name`; NotFound otherwise."""
    row = _fetch_one(engine, select(datasets).where(datasets.c.name == name))
    if row is None:
        raise NotFound(f"no model named {name!r}; {INIT_HINT}", {"field": "name"})
    return _from_row(row)


def find_dataset(engine: Engine | Connection, name: str) -> Dataset | None:
    row = _fetch_one(engine, select(datasets).where(datasets.c.name == name))
    return _from_row(row) if row is not None else None


def list_datasets(engine: Engine) -> list[Dataset]:
    with engine.connect() as conn:
        rows = conn.execute(select(datasets).order_by(datasets.c.id)).mappings().all()
    return [_from_row(row) for row in rows]


def active_dataset(engine: Engine, settings: Settings) -> Dataset:
    """The data set the services serve: MODEL_NAME if set, else the latest `mlpipe init`."""
    if settings.model_name:
        row = _fetch_one(engine, select(datasets).where(datasets.c.name == settings.model_name))
        if row is None:
            raise NoActiveModel(
                f"MODEL_NAME={settings.model_name!r} is not initialised; {INIT_HINT}"
            )
        return _from_row(row)
    query = select(datasets).where(datasets.c.is_active).order_by(datasets.c.id.desc()).limit(1)
    row = _fetch_one(engine, query)
    if row is None:
        raise NoActiveModel(f"no active model; {INIT_HINT}")
    return _from_row(row)


def _fetch_one(engine: Engine | Connection, query: Any) -> Any:
    if isinstance(engine, Connection):
        return engine.execute(query).mappings().first()
    with engine.connect() as conn:
        return conn.execute(query).mappings().first()


def _from_row(row: Any) -> Dataset:
    created = row["created_at"]
    if created is not None and created.tzinfo is None:  # SQLite drops the zone; values are UTC
        created = created.replace(tzinfo=UTC)
    return Dataset(
        id=int(row["id"]),
        name=row["name"],
        target=row["target"],
        task=row["task"],
        schema=DatasetSchema.from_dict(row["schema"]),
        is_active=bool(row["is_active"]),
        n_rows=int(row["n_rows"] or 0),
        created_at=created,
        source=row.get("source"),
    )
