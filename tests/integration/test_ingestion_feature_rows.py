"""The bulk write path of FeatureStore.write_rows (COPY on PostgreSQL, executemany
on SQLite) stores awkward values exactly and joins the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ml.feature_store.feature_store import FeatureStore
from ml.feature_store.json_rows import json_objects
from shared.database import feature_store, write_transaction
from tests.integration.ingestion_support import create_lung_dataset, stored_counts

AWKWARD = ["tab\there", "new\nline", "back\\slash", 'quote"d', "100%", "ünï 列", "cr\rx", r"\N"]


def test_json_objects_match_json_dumps() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.5, np.nan, 1e-05, 0.1 + 0.2],
            'wëird "key" %s': ["a", None, 'b"\\', "ü"],
            "n": pd.array([1, 2, None, 4], dtype="Int64"),
        }
    )
    expected = [
        json.dumps(
            {k: (None if pd.isna(v) else v) for k, v in row.items()},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for row in frame.astype(object).to_dict("records")
    ]
    assert json_objects(frame) == expected
    assert json.loads(json_objects(frame)[3])["x"] == 0.1 + 0.2  # full float precision


def test_json_objects_refuse_infinity() -> None:
    with pytest.raises(ValueError, match="'x'"):
        json_objects(pd.DataFrame({"x": [1.0, np.inf]}))


def test_awkward_values_round_trip(engine: Engine) -> None:
    dataset = create_lung_dataset(engine)
    count = len(AWKWARD)
    frame = pd.DataFrame(
        {"Gender": AWKWARD, "Age": np.arange(count, dtype=float), "Tab\tkey": AWKWARD}
    )
    times = pd.Series([datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)] + [pd.NaT] * (count - 1))
    with write_transaction(engine) as conn:
        written = FeatureStore(engine).write_rows(
            conn,
            dataset.id,
            frame,
            labels=pd.Series(["Yes", None] * (count // 2)),
            entity_ids=pd.Series(AWKWARD),
            event_times=times,
            batch_id="b\t1",
            split="ingested",
        )
    assert written == count
    table = feature_store.c
    query = select(
        table.features, table.entity_id, table.label, table.label_at, table.event_time,
        table.batch_id, table.ingested_at,
    ).order_by(table.id)  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    assert [row.features["Gender"] for row in rows] == AWKWARD
    assert [row.features["Tab\tkey"] for row in rows] == AWKWARD
    assert [row.entity_id for row in rows] == AWKWARD
    assert [row.label for row in rows] == ["Yes", None] * (count // 2)
    assert [row.label_at is None for row in rows] == [False, True] * (count // 2)
    assert rows[0].event_time.replace(tzinfo=UTC) == times[0] and rows[1].event_time is None
    assert {row.batch_id for row in rows} == {"b\t1"}
    assert rows[0].features["Age"] == 0.0 and rows[0].label_at == rows[0].ingested_at


def test_rows_roll_back_with_the_callers_transaction(engine: Engine) -> None:
    dataset = create_lung_dataset(engine)
    frame = pd.DataFrame({"Age": [1.0, 2.0]})
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        FeatureStore(engine).write_rows(conn, dataset.id, frame, split="ingested")
        raise RuntimeError("the caller fails after writing")
    assert stored_counts(engine) == (0, 0)
