"""What the registry hands out: version records, loaded models and alias moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from ml.schema import DatasetSchema

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered version as MLflow knows it, with its run's metrics."""

    name: str
    version: str
    run_id: str | None
    model_id: str | None
    family: str | None
    metrics: dict[str, float]
    aliases: tuple[str, ...]
    created_at: datetime
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_champion(self) -> bool:
        return CHAMPION in self.aliases


@dataclass
class LoadedModel:
    """A version ready to serve: the Pipeline plus everything that travels with it."""

    name: str
    version: str
    pipeline: Pipeline
    schema: DatasetSchema
    profile: dict[str, Any]  # ml.evaluation.ReferenceProfile.to_dict()
    metrics: dict[str, Any]  # holdout metrics at training time
    run_id: str | None
    model_id: str | None
    family: str | None
    path: Path  # local copy under settings.model_cache_dir


@dataclass(frozen=True)
class AliasMove:
    """One alias change, as recorded in alias_history."""

    name: str
    alias: str
    version: str | None  # None: the alias was removed
    previous_version: str | None
    action: str  # promote, rollback, set, delete
