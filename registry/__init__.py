"""The model registry: one facade over MLflow (runs, versions, aliases) plus its database mirror."""

from registry.aliases import UNCHECKED
from registry.registry import ModelRegistry
from registry.types import CHALLENGER, CHAMPION, AliasMove, LoadedModel, ModelVersionInfo

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "UNCHECKED",
    "AliasMove",
    "LoadedModel",
    "ModelRegistry",
    "ModelVersionInfo",
]
