"""Feature store: data sets (schema, active flag) and their stored feature rows."""

from ml.feature_store.datasets import (
    Dataset,
    active_dataset,
    create_dataset,
    find_dataset,
    get_dataset,
    list_datasets,
    validate_name,
)
from ml.feature_store.feature_store import REFERENCE_SPLIT, FeatureStore

__all__ = [
    "REFERENCE_SPLIT",
    "Dataset",
    "FeatureStore",
    "active_dataset",
    "create_dataset",
    "find_dataset",
    "get_dataset",
    "list_datasets",
    "validate_name",
]
