"""Where served models come from: the registry, for the active model name."""

from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy.engine import Engine

from services.prediction_service.served_model import ServedModel
from shared.config import Settings


class ModelSource(Protocol):
    def model_name(self) -> str:
        """The model to serve; NoActiveModel when there is none yet."""

    def version_for(self, name: str, alias: str) -> str | None: ...

    def load(self, name: str, version: str) -> ServedModel: ...


class RegistryModelSource:
    """MODEL_NAME, or the active data set's name; versions and pipelines from the registry."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        from registry import ModelRegistry  # MLflow is imported only when a service starts

        self._settings = settings
        self._engine = engine
        self._registry = ModelRegistry(settings, engine)

    def model_name(self) -> str:
        if self._settings.model_name:
            return self._settings.model_name
        from ml.feature_store.datasets import active_dataset

        return active_dataset(self._engine, self._settings).name

    def version_for(self, name: str, alias: str) -> str | None:
        return self._registry.version_for_alias(name, alias)

    def load(self, name: str, version: str) -> ServedModel:
        started = time.perf_counter()
        loaded = self._registry.load(name, version)
        return ServedModel.build(
            loaded.name,
            loaded.version,
            loaded.pipeline,
            loaded.schema,
            run_id=loaded.run_id,
            load_seconds=time.perf_counter() - started,
        )
