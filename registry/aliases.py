"""Alias moves (champion, challenger) as compare-and-set, recorded in the project database.

MLflow has no conditional alias update, so each move runs inside a project
database write transaction that holds a per-model lock: read the alias, check
it still points where the caller expects, move it in MLflow, then record the
move and mirror the aliases in the same transaction.
"""

from __future__ import annotations

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sqlalchemy.engine import Connection

from registry import mirror
from registry.tracking import is_not_found, retry_locked
from registry.types import CHAMPION, AliasMove
from shared.errors import Conflict, NotFound


class Unchecked:
    """Sentinel type: move the alias whatever it points at now."""

    def __repr__(self) -> str:
        return "UNCHECKED"


UNCHECKED = Unchecked()


def current_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        # A missing model is RESOURCE_DOES_NOT_EXIST; a missing alias INVALID_PARAMETER_VALUE.
        if is_not_found(exc) or "not found" in str(exc):
            return None
        raise


def move_alias(
    client: MlflowClient,
    conn: Connection,
    name: str,
    alias: str,
    version: str | None,
    *,
    action: str,
    reason: str,
    actor: str,
    expected_current: str | None | Unchecked = UNCHECKED,
) -> AliasMove | None:
    """Point `alias` at `version` (None removes it); None if `expected_current` no longer holds."""
    mirror.lock_model(conn, name)
    current = current_version(client, name, alias)
    if not isinstance(expected_current, Unchecked) and current != expected_current:
        return None
    move = AliasMove(name, alias, version, current, action)
    if version == current:
        return move  # already there: nothing to record
    if version is None:
        retry_locked(lambda: client.delete_registered_model_alias(name, alias))
    else:
        _require_version(client, name, version)
        retry_locked(lambda: client.set_registered_model_alias(name, alias, version))
    mirror.record_move(conn, move, reason=reason, actor=actor)
    aliases = client.get_registered_model(name).aliases or {}
    mirror.sync_aliases(conn, name, {key: str(value) for key, value in aliases.items()})
    return move


def rollback_target(client: MlflowClient, conn: Connection, name: str) -> tuple[str, str]:
    """(current champion, the champion before it) from the replayed history; Conflict if none."""
    mirror.lock_model(conn, name)
    current = current_version(client, name, CHAMPION)
    if current is None:
        raise Conflict(f"model {name!r} has no champion to roll back")
    moves = mirror.alias_moves(conn, name, CHAMPION)
    stack = mirror.champion_stack(moves)
    if not stack or stack[-1] != current:
        # The alias was moved outside this project (MLflow UI): fall back to the last move.
        stack = [m["previous_version"] for m in moves if m["version"] == current][-1:] + [current]
    for candidate in reversed(stack[:-1]):
        if candidate is not None and candidate != current and _exists(client, name, candidate):
            return current, candidate
    raise Conflict(
        f"model {name!r} has no previous champion to roll back to (champion: v{current})"
    )


def _require_version(client: MlflowClient, name: str, version: str) -> None:
    if not _exists(client, name, version):
        raise NotFound(f"model {name!r} has no version {version}", {"field": "version"})


def _exists(client: MlflowClient, name: str, version: str) -> bool:
    try:
        client.get_model_version(name, version)
        return True
    except MlflowException as exc:
        if is_not_found(exc) or exc.error_code == "INVALID_PARAMETER_VALUE":
            return False
        raise
