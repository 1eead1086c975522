"""Validated records as normalised columns, ready for the model and the log.

`ml.validation.validate_records` is the authority on what is valid and how it is
normalised, but its pandas machinery costs ~10 ms even for one record. Scoring
first tries a plain-Python pass that only accepts records whose normalisation is
trivial (every feature present, numbers finite, categories short scalars), and
hands anything else to `validate_records`, which then names every problem.
tests/integration/test_prediction_validation.py checks both paths agree.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from ml.schema import DatasetSchema, category_text
from ml.validation import MAX_STRING_LENGTH, ValidationResult, validate_frame, validate_records
from shared.errors import ValidationFailed

MAX_LISTED_ERRORS = 1_000
RESERVED_KEYS = ("entity_id", "event_time")


@dataclass
class RecordBatch:
    columns: dict[str, list[Any]]  # feature -> values (float | None, str | None)
    size: int
    unknown_fields: list[str] = field(default_factory=list)
    unseen_categories: dict[str, int] = field(default_factory=dict)


def validate_for_scoring(schema: DatasetSchema, records: list[Any]) -> RecordBatch:
    """Records as columns; ValidationFailed naming every invalid record and field."""
    batch = _fast_path(schema, records)
    if batch is not None:
        return batch
    return batch_from_result(validate_records(schema, records), len(records))


def validate_csv_for_scoring(schema: DatasetSchema, frame: pd.DataFrame) -> RecordBatch:
    """A parsed CSV (every cell text) as columns, with the same rules."""
    return batch_from_result(validate_frame(schema, frame, text_values=True), len(frame))


def batch_from_result(result: ValidationResult, total: int) -> RecordBatch:
    if result.errors:
        raise validation_failed(result.errors, total)
    columns: dict[str, list[Any]] = {}
    for name in result.frame.columns:
        values = result.frame[name].to_numpy(dtype=object)
        columns[name] = [None if _is_missing(v) else v for v in values]
    return RecordBatch(columns, len(result.frame), result.unknown_fields, result.unseen_categories)


def validation_failed(errors: list[dict[str, Any]], total: int) -> ValidationFailed:
    invalid = len({e["index"] for e in errors})
    details: dict[str, Any] = {"errors": errors[:MAX_LISTED_ERRORS], "error_count": len(errors)}
    if len(errors) > MAX_LISTED_ERRORS:
        details["truncated"] = True
    return ValidationFailed(
        f"{invalid} of {total} records are invalid; nothing was scored", details
    )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fast_path(schema: DatasetSchema, records: list[Any]) -> RecordBatch | None:
    """Columns when every record is plainly valid; None to defer to validate_records."""
    if not all(type(r) is dict for r in records):
        return None
    names = schema.feature_names
    known = set(names)
    # C-level loops (map/operator) keep this pass cheap for 100,000 records.
    if not all(map(operator.le, repeat(known, len(records)), map(dict.keys, records))):
        return None  # a feature is absent somewhere
    keys: set[str] = set().union(*records)
    if schema.target in keys or any(k in keys for k in RESERVED_KEYS):
        return None  # labels and reserved keys have rules of their own
    columns: dict[str, list[Any]] = {}
    unseen: dict[str, int] = {}
    for spec in schema.features:
        values = [r[spec.name] for r in records]
        if spec.kind == "numeric":
            numbers = _numbers(values)
            if numbers is None:
                return None
            columns[spec.name] = numbers
        else:
            categories = _categories(values)
            if categories is None:
                return None
            columns[spec.name] = categories
            if spec.categories:
                count = _count_unseen(categories, spec.categories)
                if count:
                    unseen[spec.name] = count
    unknown = sorted(str(k) for k in keys - known)
    return RecordBatch(columns, len(records), unknown, unseen)


def _numbers(values: list[Any]) -> list[Any] | None:
    types = set(map(type, values))
    if not types <= {int, float, type(None)}:
        return None  # bool, text, nested or NaN/Infinity literals: let the validator name them
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        return None
    if np.isinf(array).any():
        return None
    if types == {float}:
        return values
    return [None if v is None else float(v) for v in values]


def _categories(values: list[Any]) -> list[Any] | None:
    types = set(map(type, values))
    if types <= {str, type(None)}:
        texts = values
    elif types <= {str, int, float, type(None)}:
        if float in types and not all(map(math.isfinite, filter(_is_float, values))):
            return None
        # 1, 1.0 and "1" are one category: the same rule as ml.schema.category_strings
        texts = [v if v is None or type(v) is str else category_text(v) for v in values]
    else:
        return None  # bools, nested values, NaN/Infinity literals: let the validator name them
    if max(map(len, filter(None, texts)), default=0) > MAX_STRING_LENGTH:
        return None
    return texts


def _is_float(value: Any) -> bool:
    return type(value) is float


def _count_unseen(values: list[Any], categories: tuple[str, ...]) -> int:
    known = set(categories)
    known.add(None)  # type: ignore[arg-type]  # missing is not unseen
    return len(values) - sum(map(known.__contains__, values))
