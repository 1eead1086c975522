"""The data set schema: what each feature is, inferred once from the training CSV.

The schema travels with the model (an MLflow artifact) and is stored in the
`datasets` table. `ml.validation` checks incoming records against it and
`normalize_frame` turns any frame into the exact representation the model
Pipeline was trained on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from shared.errors import InputError

FORMAT_VERSION = 1
RESERVED_COLUMNS = ("entity_id", "event_time", "batch_id", "prediction_id")
MAX_CLASSES = 20
MAX_CATEGORY_CODES = 5  # integer columns with at most this many values are codes
MAX_CATEGORIES = 1_000
MISSING = np.nan


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: Literal["numeric", "categorical"]
    categories: tuple[str, ...] = ()  # known values (as strings) of a categorical feature


@dataclass(frozen=True)
class DatasetSchema:
    target: str
    task: Literal["binary", "multiclass"]
    classes: tuple[str, ...]  # labels as strings, sorted, as they appear in the data
    features: tuple[FeatureSpec, ...]
    dropped: dict[str, str] = field(default_factory=dict)  # column -> why it is not a feature
    format_version: int = FORMAT_VERSION

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "categorical"]

    def feature(self, name: str) -> FeatureSpec:
        return next(f for f in self.features if f.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSchema:
        features = tuple(
            FeatureSpec(f["name"], f["kind"], tuple(f.get("categories", ())))
            for f in data["features"]
        )
        return cls(
            target=data["target"],
            task=data["task"],
            classes=tuple(data["classes"]),
            features=features,
            dropped=dict(data.get("dropped", {})),
            format_version=data.get("format_version", FORMAT_VERSION),
        )


def category_text(value: Any) -> str:
    """One category value as text: 1, 1.0 and "1" are the same category."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def category_strings(values: pd.Series) -> pd.Series:
    """Categories compare as strings; missing stays NaN."""
    out = values.astype(object)
    present = out.notna()
    out = out.where(present, np.nan)  # None and NaN become one missing marker
    if not present.any() or pd.api.types.infer_dtype(out[present], skipna=True) == "string":
        return out
    out[present] = out[present].map(category_text)
    return out


def normalize_frame(schema: DatasetSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input: schema columns in order, numeric float64, categorical str/NaN."""
    out = pd.DataFrame(index=frame.index)
    for spec in schema.features:
        column = frame[spec.name] if spec.name in frame else pd.Series(MISSING, index=frame.index)
        if spec.kind == "numeric":
            out[spec.name] = pd.to_numeric(column, errors="coerce").astype("float64")
        else:
            out[spec.name] = category_strings(column)
    return out


def labels_as_strings(values: pd.Series) -> pd.Series:
    """Target values as the strings the schema's classes use."""
    return category_strings(values)


def infer_schema(frame: pd.DataFrame, target: str) -> tuple[DatasetSchema, int]:
    """Infer the schema; return it with the number of rows whose target is missing."""
    if target not in frame.columns:
        raise InputError(
            f"target column {target!r} not found; the CSV has: {', '.join(map(str, frame.columns))}"
        )
    labels = labels_as_strings(frame[target])
    missing_target = int(labels.isna().sum())
    labels = labels.dropna()
    classes = sorted(labels.unique().tolist())
    if len(classes) < 2:
        raise InputError(
            f"target {target!r} has a single class ({classes[0] if classes else 'none'}); need at least two"
        )
    numeric_target = pd.to_numeric(frame[target].dropna(), errors="coerce").notna().all()
    if len(classes) > MAX_CLASSES:
        kind = (
            "a numeric target with many values (regression)"
            if numeric_target
            else "too many classes"
        )
        raise InputError(
            f"target {target!r} has {len(classes)} distinct values: {kind} is not supported yet (at most {MAX_CLASSES} classes)"
        )

    features: list[FeatureSpec] = []
    dropped: dict[str, str] = {}
    rows = frame.loc[labels.index]
    for name in frame.columns:
        if name == target:
            continue
        reason = _drop_reason(str(name), rows[name])
        if reason:
            dropped[str(name)] = reason
            continue
        features.append(_feature_spec(str(name), rows[name]))
    if not features:
        raise InputError(f"no usable feature columns (dropped: {dropped})")
    task: Literal["binary", "multiclass"] = "binary" if len(classes) == 2 else "multiclass"
    return DatasetSchema(target, task, tuple(classes), tuple(features), dropped), missing_target


def _drop_reason(name: str, values: pd.Series) -> str | None:
    if name in RESERVED_COLUMNS:
        return "reserved column name"
    present = values.dropna()
    if present.empty:
        return "all values missing"
    if present.nunique() == 1:
        return "constant"
    if not _is_numeric(values) and not pd.api.types.is_bool_dtype(values):
        if present.nunique() == len(present) and len(present) > 20:
            return "ID-like: a unique string in every row"
        if present.nunique() > MAX_CATEGORIES:
            return f"more than {MAX_CATEGORIES} distinct strings"
    return None


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def _feature_spec(name: str, values: pd.Series) -> FeatureSpec:
    present = values.dropna()
    if _is_numeric(values):
        numbers = pd.to_numeric(present, errors="coerce")
        is_code = (numbers == np.floor(numbers)).all() and numbers.nunique() <= MAX_CATEGORY_CODES
        if not is_code:
            return FeatureSpec(name, "numeric")
    categories = sorted(category_strings(present).unique().tolist())
    return FeatureSpec(name, "categorical", tuple(categories))
