"""Reading model versions from MLflow into ModelVersionInfo, with NotFound for what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from registry.tracking import ALREADY_EXISTS, is_not_found, retry_locked
from registry.types import ModelVersionInfo
from shared.errors import NotFound


def ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if not is_not_found(exc):
            raise
        try:
            retry_locked(lambda: client.create_registered_model(name))
        except MlflowException as again:
            if again.error_code != ALREADY_EXISTS:
                raise


def resolve(client: MlflowClient, name: str, alias_or_version: str) -> ModelVersion:
    if alias_or_version.isdigit():
        return model_version(client, name, alias_or_version)
    try:
        return client.get_model_version_by_alias(name, alias_or_version)
    except MlflowException as exc:
        if is_not_found(exc) or "not found" in str(exc):
            raise NotFound(f"model {name!r} has no version aliased {alias_or_version!r}") from None
        raise


def model_version(client: MlflowClient, name: str, version: str) -> ModelVersion:
    try:
        return client.get_model_version(name, str(version))
    except MlflowException as exc:
        if is_not_found(exc) or exc.error_code == "INVALID_PARAMETER_VALUE":
            raise NotFound(
                f"model {name!r} has no version {version}", {"field": "version"}
            ) from None
        raise


def aliases_by_version(client: MlflowClient, name: str) -> dict[str, tuple[str, ...]]:
    # search_model_versions leaves ModelVersion.aliases empty; the registered model has them.
    by_version: dict[str, list[str]] = {}
    for alias, version in (client.get_registered_model(name).aliases or {}).items():
        by_version.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in by_version.items()}


def version_info(
    client: MlflowClient,
    version: ModelVersion,
    metrics: dict[str, float] | None = None,
    aliases: dict[str, tuple[str, ...]] | None = None,
) -> ModelVersionInfo:
    tags = dict(version.tags or {})
    if metrics is None:
        metrics = {}
        if version.run_id:
            run_metrics = client.get_run(version.run_id).data.metrics
            metrics = {k: v for k, v in run_metrics.items() if not k.startswith(("cv_", "time_"))}
    return ModelVersionInfo(
        name=version.name,
        version=str(version.version),
        run_id=version.run_id,
        model_id=getattr(version, "model_id", None) or tags.get("mlpipe.model_id"),
        family=tags.get("mlpipe.family"),
        metrics=metrics,
        aliases=(
            aliases.get(str(version.version), ())
            if aliases is not None
            else tuple(sorted(version.aliases or []))
        ),
        created_at=datetime.fromtimestamp(version.creation_timestamp / 1000, UTC),
        tags=tags,
    )
