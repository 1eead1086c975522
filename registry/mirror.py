"""The project database's copy of the registry: `model_registry` rows and `alias_history`.

MLflow stays the source of truth; these tables let the dashboard read versions,
metrics and alias moves without talking to MLflow, and keep who moved an alias,
when and why (MLflow records none of that).
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from registry.types import AliasMove, ModelVersionInfo
from shared.database import alias_history, model_registry


def lock_model(conn: Connection, name: str) -> None:
    """Serialise alias moves of one model across processes until the transaction ends.

    SQLite's BEGIN IMMEDIATE (see shared.database.write_transaction) already
    holds the database's single write lock; PostgreSQL needs an advisory lock.
    """
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"mlpipe-model:{name}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def upsert_version(conn: Connection, info: ModelVersionInfo, *, job_id: str | None) -> None:
    table = model_registry.c
    conn.execute(
        model_registry.delete().where(table.model_name == info.name, table.version == info.version)
    )
    conn.execute(
        model_registry.insert().values(
            model_name=info.name,
            version=info.version,
            run_id=info.run_id or "",
            experiment_id=info.tags.get("mlpipe.experiment_id"),
            family=info.family,
            metrics=info.metrics,
            aliases=list(info.aliases),
            job_id=job_id,
            created_at=info.created_at,
        )
    )


def sync_aliases(conn: Connection, name: str, aliases: dict[str, str]) -> None:
    """Make every mirrored version's alias list match MLflow's {alias: version}."""
    table = model_registry.c
    versions = conn.execute(select(table.version).where(table.model_name == name)).scalars()
    for version in list(versions):
        held = sorted(alias for alias, target in aliases.items() if str(target) == version)
        conn.execute(
            model_registry.update()
            .where(table.model_name == name, table.version == version)
            .values(aliases=held)
        )


def record_move(conn: Connection, move: AliasMove, *, reason: str, actor: str) -> None:
    conn.execute(
        alias_history.insert().values(
            model_name=move.name,
            alias=move.alias,
            version=move.version,
            previous_version=move.previous_version,
            action=move.action,
            reason=reason,
            actor=actor,
            created_at=datetime.now(UTC),
        )
    )


def alias_moves(
    conn: Connection | Engine, name: str, alias: str | None = None
) -> list[dict[str, Any]]:
    """Alias history of a model, oldest first (optionally of one alias)."""
    table = alias_history.c
    query = select(alias_history).where(table.model_name == name)
    if alias is not None:
        query = query.where(table.alias == alias)
    query = query.order_by(table.id)
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            rows = connection.execute(query).mappings().all()
    else:
        rows = conn.execute(query).mappings().all()
    return [dict(row) for row in rows]


def forget_model(conn: Connection, name: str) -> None:
    """Drop a model's mirror rows and history (re-initialising a name starts afresh)."""
    conn.execute(model_registry.delete().where(model_registry.c.model_name == name))
    conn.execute(alias_history.delete().where(alias_history.c.model_name == name))


def forget_history(conn: Connection, name: str) -> None:
    conn.execute(alias_history.delete().where(alias_history.c.model_name == name))


def forget_version(conn: Connection, name: str, version: str) -> None:
    table = model_registry.c
    conn.execute(model_registry.delete().where(table.model_name == name, table.version == version))


def champion_stack(moves: list[dict[str, Any]]) -> list[str]:
    """Replay champion moves: promotions push a version, rollbacks pop one.

    The top is the current champion; the entry below it is where a rollback goes,
    so rolling back twice walks further back instead of toggling.
    """
    stack: list[str] = []
    for move in moves:
        version = move["version"]
        if move["action"] == "rollback" and stack:
            stack.pop()
        if version is not None and (not stack or stack[-1] != version):
            stack.append(version)
    return stack
