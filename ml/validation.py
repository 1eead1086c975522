"""Column-wise validation of incoming records against a DatasetSchema.

Used by the ingestion API and the prediction service alike. Checks run per
column over the whole batch (not record by record), then the valid rows are
normalised with `ml.schema.normalize_frame`, the same function training uses.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from ml.schema import DatasetSchema, FeatureSpec, category_strings, normalize_frame

MAX_STRING_LENGTH = 1_000
MAX_ENTITY_ID_LENGTH = 200
MAX_FLOAT = sys.float_info.max


class NonFinite:
    """Stands in for a NaN/Infinity literal in JSON so validation can name the field."""

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return self.literal


def loads_json(body: bytes | str) -> Any:
    """json.loads that keeps NaN/Infinity literals recognisable instead of turning them into floats."""
    return json.loads(body, parse_constant=NonFinite)


@dataclass
class ValidationResult:
    frame: pd.DataFrame  # valid rows, normalised; index = position of the record in the request
    labels: pd.Series  # target values of the valid rows as class strings (NaN when absent)
    entity_ids: pd.Series  # str or None, aligned with frame
    event_times: pd.Series  # UTC timestamps or NaT, aligned with frame
    errors: list[dict[str, Any]] = field(default_factory=list)  # [{index, field, message}]
    rejected: list[int] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)
    unseen_categories: dict[str, int] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return len(self.frame)


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.bad = set[int]()

    def add(self, indices: Any, field_name: str | None, message: str) -> None:
        for i in np.asarray(indices).tolist():
            self.items.append({"index": int(i), "field": field_name, "message": message})
            self.bad.add(int(i))


def validate_records(
    schema: DatasetSchema, records: list[Any], *, text_values: bool = False
) -> ValidationResult:
    """Validate JSON-like records (dicts keyed by column); `text_values` for CSV cells."""
    errors = _Errors()
    not_objects = [i for i, r in enumerate(records) if not isinstance(r, dict)]
    errors.add(not_objects, None, "record must be a JSON object")
    dicts = [r if isinstance(r, dict) else {} for r in records]
    wanted = schema.feature_names + [schema.target, "entity_id", "event_time"]
    frame = pd.DataFrame.from_records(dicts, columns=wanted, index=pd.RangeIndex(len(dicts)))
    known = set(wanted)
    unknown: set[str] = set()
    # Records of one request nearly always share their keys: check each distinct key
    # set once instead of every record for every feature.
    for keys, indices in _key_sets(records).items():
        unknown.update(str(k) for k in keys - known)
        for name in schema.feature_names:
            if name not in keys:
                errors.add(indices, name, "required feature is missing")
    return _finish(schema, frame, errors, sorted(unknown), text_values)


def _key_sets(records: list[Any]) -> dict[frozenset[Any], list[int]]:
    """Positions of the dict records, grouped by their set of keys."""
    if records and all(map(isinstance, records, repeat(dict))):
        first = tuple(records[0])
        if all(map(first.__eq__, map(tuple, records))):  # the usual case, at C speed
            return {frozenset(first): list(range(len(records)))}
    by_order: dict[tuple[Any, ...], list[int]] = {}
    for i, record in enumerate(records):
        if isinstance(record, dict):
            by_order.setdefault(tuple(record), []).append(i)
    by_set: dict[frozenset[Any], list[int]] = {}
    for keys, indices in by_order.items():
        by_set.setdefault(frozenset(keys), []).extend(indices)
    return by_set


def validate_frame(
    schema: DatasetSchema, frame: pd.DataFrame, *, text_values: bool = True
) -> ValidationResult:
    """Validate a frame whose columns are the record keys (a parsed CSV: every cell is text)."""
    errors = _Errors()
    frame = frame.reset_index(drop=True)
    missing = [name for name in schema.feature_names if name not in frame.columns]
    for name in missing:
        errors.add(np.arange(len(frame)), name, "required feature is missing")
    known = set(schema.feature_names) | {schema.target, "entity_id", "event_time"}
    unknown = sorted(str(c) for c in frame.columns if c not in known)
    wanted = schema.feature_names + [schema.target, "entity_id", "event_time"]
    frame = frame.reindex(columns=wanted)
    return _finish(schema, frame, errors, unknown, text_values)


def _finish(
    schema: DatasetSchema,
    frame: pd.DataFrame,
    errors: _Errors,
    unknown: list[str],
    text_values: bool,
) -> ValidationResult:
    if text_values:
        frame = frame.replace({"": np.nan})
    unseen: dict[str, int] = {}
    for spec in schema.features:
        column = frame[spec.name]
        if spec.kind == "numeric":
            parsed = _check_numeric(column, spec, errors, text_values)
            if parsed is not None:  # text parsed once here, not again by normalize_frame
                frame[spec.name] = parsed
        else:
            count = _check_categorical(column, spec, errors)
            if count:
                unseen[spec.name] = count
    _check_label(frame[schema.target], schema, errors)
    _check_scalar_text(frame["entity_id"], "entity_id", MAX_ENTITY_ID_LENGTH, errors)
    event_times = _parse_event_times(frame["event_time"], errors)

    keep = np.ones(len(frame), dtype=bool)
    keep[list(errors.bad)] = False
    valid = np.flatnonzero(keep)
    rows = frame.iloc[valid]
    entity_ids = category_strings(rows["entity_id"]).astype(object)
    return ValidationResult(
        frame=normalize_frame(schema, rows),
        labels=category_strings(rows[schema.target]),
        entity_ids=entity_ids.where(entity_ids.notna(), None),
        event_times=event_times.iloc[valid],
        errors=sorted(errors.items, key=lambda e: (e["index"], e["field"] or "")),
        rejected=sorted(errors.bad),
        unknown_fields=unknown,
        unseen_categories=unseen,
    )


def _check_numeric(
    column: pd.Series, spec: FeatureSpec, errors: _Errors, text_values: bool
) -> pd.Series | None:
    """Record the column's errors; for text cells also return them parsed as float64."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float)
        errors.add(np.flatnonzero(np.isinf(values)), spec.name, "must be a finite number")
        return None
    present = column.notna()
    raw = column[present]
    if text_values:
        numbers = pd.to_numeric(raw, errors="coerce")
        errors.add(raw.index[numbers.isna()], spec.name, "expected a number")
        errors.add(raw.index[np.isinf(numbers.fillna(0))], spec.name, "must be a finite number")
        parsed = pd.Series(np.nan, index=column.index, dtype="float64")
        parsed[raw.index] = numbers.to_numpy(dtype="float64", na_value=np.nan)
        return parsed
    kind = raw.map(_number_kind)
    errors.add(raw.index[kind == "text"], spec.name, "expected a number")
    errors.add(raw.index[kind == "nested"], spec.name, "expected a number, not an object or a list")
    errors.add(
        raw.index[kind == "non_finite"],
        spec.name,
        "must be a finite number (NaN and Infinity are not allowed)",
    )
    return None


def _number_kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "text"
    if isinstance(value, int | np.integer):
        # JSON integers are unbounded; one beyond float range cannot be a feature value.
        return "ok" if abs(int(value)) <= MAX_FLOAT else "non_finite"
    if isinstance(value, float | np.floating):
        return "ok" if np.isfinite(value) else "non_finite"
    if isinstance(value, NonFinite):
        return "non_finite"
    if isinstance(value, dict | list):
        return "nested"
    return "text"


def _check_categorical(column: pd.Series, spec: FeatureSpec, errors: _Errors) -> int:
    """Check scalar-ness and length; return how many values were never seen in training."""
    present = column.notna()
    raw = column[present]
    if pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
        kind = raw.map(_scalar_kind)
        errors.add(
            raw.index[kind == "nested"],
            spec.name,
            "expected a single value, not an object or a list",
        )
        errors.add(raw.index[kind == "non_finite"], spec.name, "NaN and Infinity are not allowed")
        raw = raw[kind == "ok"]
    text = category_strings(raw)
    errors.add(
        text.index[_longer_than(text, MAX_STRING_LENGTH)],
        spec.name,
        f"longer than {MAX_STRING_LENGTH} characters",
    )
    known = set(spec.categories)
    return int((~text.isin(known)).sum()) if known else 0


def _scalar_kind(value: Any) -> str:
    if isinstance(value, dict | list):
        return "nested"
    if isinstance(value, NonFinite) or (
        isinstance(value, float | np.floating) and not np.isfinite(value)
    ):
        return "non_finite"
    return "ok"


def _check_label(column: pd.Series, schema: DatasetSchema, errors: _Errors) -> None:
    raw = _scalars(column[column.notna()], schema.target, "label must be a single value", errors)
    text = category_strings(raw)
    errors.add(
        text.index[~text.isin(schema.classes)],
        schema.target,
        f"unknown class; expected one of {', '.join(schema.classes)}",
    )


def _check_scalar_text(column: pd.Series, name: str, max_length: int, errors: _Errors) -> None:
    raw = _scalars(column[column.notna()], name, "expected a string or a number", errors)
    text = category_strings(raw)
    errors.add(
        text.index[_longer_than(text, max_length)], name, f"longer than {max_length} characters"
    )


def _scalars(raw: pd.Series, name: str, message: str, errors: _Errors) -> pd.Series:
    """The single (scalar) values of `raw`; the others are errors. Strings skip the per-value check."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        return raw
    kind = raw.map(_scalar_kind)
    errors.add(raw.index[kind != "ok"], name, message)
    return raw[kind == "ok"]


def _longer_than(text: pd.Series, limit: int) -> np.ndarray:
    """Mask of the values longer than `limit`, measuring each distinct value once."""
    codes, uniques = pd.factorize(text)
    too_long = np.fromiter((len(u) > limit for u in uniques), bool, len(uniques))
    return np.append(too_long, False)[codes]  # code -1 (missing) is never too long


def _parse_event_times(column: pd.Series, errors: _Errors) -> pd.Series:
    present = column.notna()
    parsed = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns, UTC]")
    if not present.any():
        return parsed
    raw = column[present]
    is_text = raw.map(lambda v: isinstance(v, str))
    errors.add(raw.index[~is_text], "event_time", "expected an ISO 8601 date-time string")
    text = raw[is_text]
    values = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    errors.add(text.index[values.isna()], "event_time", "not an ISO 8601 date-time")
    parsed.loc[values.index] = values
    return parsed
