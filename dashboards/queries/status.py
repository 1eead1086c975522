"""Is the database there, is its schema in place, and which model is active."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import desc, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.database import datasets

# Every failure that means "the database cannot answer right now".
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout)


@dataclass(frozen=True)
class DatabaseState:
    reachable: bool
    migrated: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.reachable and self.migrated


@dataclass(frozen=True)
class ActiveDataset:
    id: int
    name: str
    target: str
    task: str
    n_rows: int


def first_line(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's SQL echo and background link."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def database_state(engine: Engine) -> DatabaseState:
    """Reachability first, then whether migrations have created the tables."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                conn.execute(select(datasets.c.id).limit(1))
            except DBAPIError as exc:
                return DatabaseState(reachable=True, migrated=False, error=first_line(exc))
    except DATABASE_ERRORS as exc:
        return DatabaseState(reachable=False, migrated=False, error=first_line(exc))
    return DatabaseState(reachable=True, migrated=True)


def active_dataset(conn: Connection) -> ActiveDataset | None:
    """The dataset `mlpipe init` made active most recently, if any."""
    row = conn.execute(
        select(
            datasets.c.id, datasets.c.name, datasets.c.target, datasets.c.task, datasets.c.n_rows
        )
        .where(datasets.c.is_active.is_(True))
        .order_by(desc(datasets.c.created_at))
        .limit(1)
    ).first()
    return ActiveDataset(*row) if row else None


def active_model_name(conn: Connection, configured: str | None) -> str | None:
    """MODEL_NAME when set, else the active dataset's name (init names the model after it)."""
    if configured:
        return configured
    dataset = active_dataset(conn)
    return dataset.name if dataset else None
