"""ModelRegistry: the one facade over MLflow that every process uses.

Built explicitly from settings (no global MLflow state). MLflow is the source
of truth for versions and aliases; the project database mirrors them and keeps
the alias history that rollback and the dashboard read.
"""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sqlalchemy.engine import Engine

from ml.training import TrainingResult
from registry import mirror
from registry.aliases import UNCHECKED, Unchecked, current_version, move_alias, rollback_target
from registry.cache import ModelCache
from registry.model_logging import log_training_run
from registry.tracking import (
    experiment_id,
    is_not_found,
    make_client,
    retry_locked,
    tracking_uri,
)
from registry.types import CHALLENGER, CHAMPION, AliasMove, LoadedModel, ModelVersionInfo
from registry.versions import (
    aliases_by_version,
    ensure_registered_model,
    model_version,
    resolve,
    version_info,
)
from shared.config import Settings
from shared.database import write_transaction
from shared.signals import publish_model_changed


class ModelRegistry:
    """Versions, aliases and loading for every model of one instance (see docs/TRAINING.md)."""

    def __init__(self, settings: Settings, engine: Engine, client: MlflowClient | None = None):
        self.settings = settings
        self.engine = engine
        self.client = client or make_client(settings)
        self.cache = ModelCache(settings.model_cache_dir, tracking_uri(settings))

    # -- versions ---------------------------------------------------------------
    def log_candidate(
        self,
        name: str,
        result: TrainingResult,
        *,
        tags: dict[str, str] | None = None,
        data_window: dict[str, Any] | None = None,
        job_id: str | None = None,
    ) -> ModelVersionInfo:
        """Log a run and its model, register a new version (no alias), mirror it."""
        experiment = experiment_id(self.client, self.settings, name)
        all_tags = {"mlpipe.family": result.family, "mlpipe.model": name, **(tags or {})}
        if job_id:
            all_tags["mlpipe.job_id"] = job_id
        run_id, model_id, location = log_training_run(
            self.client, experiment, name, result, tags=all_tags, data_window=data_window
        )
        ensure_registered_model(self.client, name)
        # The source is the artifact location, not models:/<id>: MLflow's SQL store
        # resolves models:/ URIs through a default MlflowClient() (global URI, cwd).
        registered = retry_locked(
            lambda: self.client.create_model_version(
                name,
                source=location,
                run_id=run_id,
                model_id=model_id,
                tags={"mlpipe.family": result.family, "mlpipe.model_id": model_id},
            )
        )
        info = version_info(self.client, registered, metrics=result.scalar_metrics)
        info.tags["mlpipe.experiment_id"] = experiment
        with write_transaction(self.engine) as conn:
            mirror.upsert_version(conn, info, job_id=job_id)
        return info

    def get_version(self, name: str, version: str) -> ModelVersionInfo:
        registered = model_version(self.client, name, version)
        return version_info(self.client, registered, aliases=aliases_by_version(self.client, name))

    def version_for_alias(self, name: str, alias: str) -> str | None:
        """The version an alias points at, or None (one cheap query, for polling)."""
        return current_version(self.client, name, alias)

    def list_versions(self, name: str) -> list[ModelVersionInfo]:
        """Every version with its run's metrics and its aliases, oldest first."""
        escaped = name.replace("'", "\\'")
        found = self.client.search_model_versions(f"name = '{escaped}'")
        aliases = aliases_by_version(self.client, name) if found else {}
        infos = (version_info(self.client, v, aliases=aliases) for v in found)
        return sorted(infos, key=lambda info: int(info.version))

    def load(self, name: str, alias_or_version: str) -> LoadedModel:
        """A version (number or alias) ready to predict, from the local cache when possible."""
        registered = resolve(self.client, name, str(alias_or_version))
        info = version_info(self.client, registered, metrics={})
        key = info.model_id or info.run_id or "model"
        return self.cache.load(
            name,
            str(registered.version),
            key=key,
            artifact_uri=self.client.get_model_version_download_uri(name, registered.version),
            run_id=info.run_id,
            model_id=info.model_id,
        )

    # -- aliases ----------------------------------------------------------------
    def set_alias(
        self,
        name: str,
        alias: str,
        version: str,
        *,
        reason: str,
        actor: str,
        expected_current: str | None | Unchecked = UNCHECKED,
        action: str = "set",
    ) -> bool:
        """Move an alias; False when `expected_current` was given and no longer holds."""
        with write_transaction(self.engine) as conn:
            move = move_alias(
                self.client, conn, name, alias, str(version), action=action,
                reason=reason, actor=actor, expected_current=expected_current,
            )  # fmt: skip
        self._announce(move)
        return move is not None

    def delete_alias(
        self,
        name: str,
        alias: str,
        *,
        reason: str,
        actor: str,
        expected_current: str | None | Unchecked = UNCHECKED,
    ) -> bool:
        with write_transaction(self.engine) as conn:
            move = move_alias(
                self.client, conn, name, alias, None, action="delete",
                reason=reason, actor=actor, expected_current=expected_current,
            )  # fmt: skip
        self._announce(move)
        return move is not None

    def promote(
        self,
        name: str,
        version: str,
        *,
        reason: str,
        actor: str,
        expected_current: str | None | Unchecked = UNCHECKED,
    ) -> AliasMove | None:
        """Make `version` the champion (the old one stays in the history for rollback).

        The challenger alias is dropped if it pointed at the promoted version.
        None when `expected_current` no longer holds.
        """
        version = str(version)
        with write_transaction(self.engine) as conn:
            move = move_alias(
                self.client, conn, name, CHAMPION, version, action="promote",
                reason=reason, actor=actor, expected_current=expected_current,
            )  # fmt: skip
            if move is not None:
                move_alias(
                    self.client, conn, name, CHALLENGER, None, action="delete",
                    reason=f"v{version} promoted to champion", actor=actor,
                    expected_current=version,
                )  # fmt: skip
        self._announce(move)  # one signal: a service re-reads both aliases on any
        return move

    def rollback(self, name: str, *, reason: str, actor: str) -> AliasMove:
        """Champion back to the one before it; each further rollback goes one step further back."""
        with write_transaction(self.engine) as conn:
            current, target = rollback_target(self.client, conn, name)
            move = move_alias(
                self.client, conn, name, CHAMPION, target, action="rollback",
                reason=reason, actor=actor, expected_current=current,
            )  # fmt: skip
        assert move is not None  # the per-model lock was held since reading `current`
        self._announce(move)
        return move

    def _announce(self, move: AliasMove | None) -> None:
        """After a committed move, tell the prediction services at once (the Redis
        model-changed signal; a no-op without REDIS_URL, where they poll)."""
        if move is not None:
            publish_model_changed(self.settings, move.name, move.version, alias=move.alias)

    def alias_history(self, name: str) -> list[dict[str, Any]]:
        return mirror.alias_moves(self.engine, name)

    # -- housekeeping -------------------------------------------------------------
    def delete_model(self, name: str) -> None:
        """Remove a registered model and its mirror (re-initialising a name with --force)."""
        try:
            retry_locked(lambda: self.client.delete_registered_model(name))
        except MlflowException as exc:
            if not is_not_found(exc):
                raise
        with write_transaction(self.engine) as conn:
            mirror.forget_model(conn, name)

    def delete_versions_except(self, name: str, keep: str) -> None:
        """Drop every other version and the alias history (re-initialising with --force)."""
        for info in self.list_versions(name):
            if info.version != str(keep):
                self.delete_version(name, info.version)
        with write_transaction(self.engine) as conn:
            mirror.forget_history(conn, name)

    def delete_version(self, name: str, version: str) -> None:
        """Undo a registration whose follow-up failed, so nothing half-made is left."""
        try:
            retry_locked(lambda: self.client.delete_model_version(name, version))
        except MlflowException as exc:
            if not is_not_found(exc):
                raise
        with write_transaction(self.engine) as conn:
            mirror.forget_version(conn, name, version)
