"""The scoring fast path agrees with ml.validation: same frame, same warnings, same errors;
and the JSON text the service writes parses back to the same values."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import pandas as pd
import pytest

from ml.data.sample import make_dataset
from ml.schema import infer_schema
from ml.validation import validate_records
from services.prediction_service.json_rows import encode_column, json_objects, new_ids
from services.prediction_service.record_batch import (
    _fast_path,
    batch_from_result,
    validate_for_scoring,
)
from services.prediction_service.served_model import ServedModel
from shared.errors import ValidationFailed

FRAME = make_dataset(300, seed=3)
SCHEMA = infer_schema(FRAME, "Recovered")[0]
MODEL = ServedModel(name="m", version="1", pipeline=None, schema=SCHEMA)


def records(n: int, seed: int) -> list[dict[str, Any]]:
    """Realistic variations: ints for floats, numeric codes as categories, nulls, extras, unseen."""
    base = json.loads(FRAME.drop(columns="Recovered").to_json(orient="records"))[:n]
    rng = random.Random(seed)
    for record in base:
        roll = rng.random()
        if roll < 0.1 and record["Age"] is not None:
            record["Age"] = int(record["Age"])
        elif roll < 0.2:
            record["Disease Type"] = "Tuberculosis"
        elif roll < 0.3:
            record["notes"] = "extra"
        elif roll < 0.4:
            record["Lung Capacity"] = None
        elif roll < 0.5:
            record["Gender"] = 3
        elif roll < 0.55:
            record["Gender"] = 2.0
        elif roll < 0.6:
            record["Smoking Status"] = ""
    return base


@pytest.mark.parametrize(("n", "seed"), [(1, 1), (7, 2), (300, 3)])
def test_fast_path_matches_the_validator(n: int, seed: int) -> None:
    batch = records(n, seed)
    fast = _fast_path(SCHEMA, batch)
    assert fast is not None
    reference = validate_records(SCHEMA, batch)
    slow = batch_from_result(reference, n)
    pd.testing.assert_frame_equal(MODEL.frame(fast.columns), reference.frame.reset_index(drop=True))
    assert fast.columns == slow.columns
    assert fast.unknown_fields == slow.unknown_fields
    assert fast.unseen_categories == slow.unseen_categories


@pytest.mark.parametrize(
    "change",
    [
        {"Age": "60"},
        {"Age": True},
        {"Age": float("inf")},
        {"Gender": ["Male"]},
        {"Gender": "x" * 1_001},
        {"Recovered": "Maybe"},
        {"event_time": "not a time"},
    ],
)
def test_irregular_records_get_the_validators_errors(change: dict[str, Any]) -> None:
    batch = records(5, 4)
    batch[2] = {**batch[2], **change}
    assert _fast_path(SCHEMA, batch) is None
    with pytest.raises(ValidationFailed) as raised:
        validate_for_scoring(SCHEMA, batch)
    assert raised.value.details["errors"] == validate_records(SCHEMA, batch).errors
    assert {e["index"] for e in raised.value.details["errors"]} == {2}


def test_valid_records_with_reserved_keys_take_the_validator_path() -> None:
    batch = [
        {**r, "entity_id": f"p{i}", "event_time": "2026-01-02T03:04:05Z"}
        for i, r in enumerate(records(3, 5))
    ]
    scored = validate_for_scoring(SCHEMA, batch)
    assert scored.size == 3 and "entity_id" not in scored.unknown_fields


def test_a_boolean_category_is_text_as_in_training() -> None:
    batch = records(2, 7)
    batch[0]["Gender"] = False
    assert validate_for_scoring(SCHEMA, batch).columns["Gender"][0] == "False"


def test_missing_feature_is_named() -> None:
    batch = records(2, 6)
    del batch[1]["Age"]
    with pytest.raises(ValidationFailed) as raised:
        validate_for_scoring(SCHEMA, batch)
    assert raised.value.details["errors"] == [
        {"index": 1, "field": "Age", "message": "required feature is missing"}
    ]


def test_error_lists_are_capped() -> None:
    batch = [{"Age": "x"}] * 400  # 7 errors each
    with pytest.raises(ValidationFailed) as raised:
        validate_for_scoring(SCHEMA, batch)
    details = raised.value.details
    assert (
        len(details["errors"]) == 1_000 and details["error_count"] == 2_800 and details["truncated"]
    )


def test_json_rows_round_trip() -> None:
    columns = {
        "a": [1.5, None, 2, 1e-7, -0.0],
        'we"ird %s key': ["x", None, 'q"uo\\te\n', "ünï", "%d"],
        "flag": [True, False, None, True, False],
    }
    texts = json_objects(columns, 5)
    parsed = [json.loads(t) for t in texts]
    assert parsed == [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    assert encode_column([]) == [] and json_objects({}, 2) == ["{}", "{}"]


def test_ids_are_time_ordered_uuid7() -> None:
    ids = new_ids(1_000)
    later = new_ids(1)[0]
    assert len(set(ids)) == 1_000
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    stamp = int(uuid.UUID(later).hex[:12], 16)  # Unix milliseconds
    assert abs(stamp - time.time() * 1000) < 60_000 and later[:13] >= ids[0][:13]
