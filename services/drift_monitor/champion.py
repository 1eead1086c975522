"""The model the monitor watches: the active data set's champion, reloaded when the alias moves."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from ml.evaluation import ReferenceProfile
from ml.feature_store import Dataset, active_dataset
from registry.types import CHAMPION, LoadedModel
from shared.config import Settings
from shared.errors import NoActiveModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    dataset: Dataset
    model: LoadedModel
    profile: ReferenceProfile
    registered_at: datetime | None  # for the age trigger

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def version(self) -> str:
        return self.model.version


class ChampionTracker:
    """Resolves `@champion` every cycle (cheap) and loads a version only when it changes."""

    def __init__(self, settings: Settings, engine: Engine, registry: Any) -> None:
        self.settings, self.engine, self.registry = settings, engine, registry
        self._current: Champion | None = None

    def current(self) -> Champion | None:
        """The champion now, or None when no model is initialised or none is champion."""
        try:
            dataset = active_dataset(self.engine, self.settings)
        except NoActiveModel:
            return None
        version = self.registry.version_for_alias(dataset.name, CHAMPION)
        if version is None:
            return None
        cached = self._current
        if cached is not None and (cached.name, cached.version) == (dataset.name, str(version)):
            return cached
        model = self.registry.load(dataset.name, str(version))
        self._current = Champion(
            dataset=dataset,
            model=model,
            profile=ReferenceProfile.from_dict(model.profile),
            registered_at=self._registered_at(dataset.name, str(version)),
        )
        log.info("watching champion", extra={"model": dataset.name, "version": version})
        return self._current

    def _registered_at(self, name: str, version: str) -> datetime | None:
        for info in self.registry.list_versions(name):
            if str(info.version) == version:
                return info.created_at  # type: ignore[no-any-return]
        return None
