"""Model versions, their aliases and metrics, and the alias history (registry mirror)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import desc, select
from sqlalchemy.engine import Connection

from dashboards.time_range import as_utc
from shared.database import alias_history, model_registry

CHAMPION, CHALLENGER = "champion", "challenger"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    run_id: str
    experiment_id: str | None
    family: str | None
    metrics: dict[str, float]
    aliases: list[str]
    job_id: str | None
    created_at: datetime | None

    @property
    def sort_key(self) -> tuple[int, str]:
        return (int(self.version), "") if self.version.isdigit() else (10**9, self.version)


@dataclass(frozen=True)
class AliasMove:
    created_at: datetime | None
    alias: str
    version: str | None
    previous_version: str | None
    action: str  # promote, rollback, set, delete
    reason: str
    actor: str


@dataclass(frozen=True)
class Registry:
    """All versions of one model, oldest first, with the two aliases resolved."""

    versions: list[ModelVersion] = field(default_factory=list)

    def with_alias(self, alias: str) -> ModelVersion | None:
        return next((v for v in reversed(self.versions) if alias in v.aliases), None)

    @property
    def champion(self) -> ModelVersion | None:
        return self.with_alias(CHAMPION)

    @property
    def challenger(self) -> ModelVersion | None:
        return self.with_alias(CHALLENGER)


def numeric_metrics(raw: Any, prefix: str = "") -> dict[str, float]:
    """Flatten a metrics document into {"name": value} keeping numbers only."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    flat: dict[str, float] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            name = f"{prefix}{key}"
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                flat[name] = float(value)
            elif isinstance(value, dict):
                flat.update(numeric_metrics(value, f"{name}."))
    return flat


def _aliases(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [raw]
    return [str(alias) for alias in raw] if isinstance(raw, list) else []


def registry(conn: Connection, model_name: str) -> Registry:
    """Every registered version of a model (a few hundred at most)."""
    t = model_registry
    rows = conn.execute(
        select(
            t.c.version,
            t.c.run_id,
            t.c.experiment_id,
            t.c.family,
            t.c.metrics,
            t.c.aliases,
            t.c.job_id,
            t.c.created_at,
        ).where(t.c.model_name == model_name)
    ).all()
    versions = [
        ModelVersion(
            str(r.version),
            r.run_id,
            r.experiment_id,
            r.family,
            numeric_metrics(r.metrics),
            _aliases(r.aliases),
            r.job_id,
            as_utc(r.created_at),
        )
        for r in rows
    ]
    return Registry(sorted(versions, key=lambda v: v.sort_key))


def alias_moves(conn: Connection, model_name: str, limit: int = 200) -> list[AliasMove]:
    """The latest alias moves of a model, newest first."""
    t = alias_history
    rows = conn.execute(
        select(
            t.c.created_at,
            t.c.alias,
            t.c.version,
            t.c.previous_version,
            t.c.action,
            t.c.reason,
            t.c.actor,
        )
        .where(t.c.model_name == model_name)
        .order_by(desc(t.c.created_at), desc(t.c.id))
        .limit(limit)
    ).all()
    return [
        AliasMove(
            as_utc(r.created_at),
            r.alias,
            r.version,
            r.previous_version,
            r.action or "set",
            r.reason,
            r.actor,
        )
        for r in rows
    ]
