"""Data sets and feature rows on real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset
from ml.feature_store import (
    FeatureStore,
    active_dataset,
    create_dataset,
    get_dataset,
)
from ml.schema import infer_schema, labels_as_strings, normalize_frame
from shared.database import write_transaction
from shared.errors import Conflict, InputError, NoActiveModel, NotFound


@pytest.fixture
def sample() -> tuple:
    frame = make_dataset(200, seed=3)
    schema, _ = infer_schema(frame, "Recovered")
    return schema, normalize_frame(schema, frame), labels_as_strings(frame["Recovered"])


def test_rows_round_trip_with_missing_values(engine: Engine, sample: tuple) -> None:
    schema, features, labels = sample
    store = FeatureStore(engine)
    with write_transaction(engine) as conn:
        dataset = create_dataset(conn, name="lung", schema=schema, source="x.csv")
        written = store.write_rows(conn, dataset.id, features, labels=labels, split="reference")
    assert written == 200
    frame, got_labels, times = store.training_frame(dataset.id)
    assert len(frame) == 200 and list(frame.columns) == schema.feature_names
    pd.testing.assert_frame_equal(frame, features.reset_index(drop=True))
    assert got_labels.tolist() == labels.tolist()
    assert frame["Lung Capacity"].isna().sum() == features["Lung Capacity"].isna().sum() > 0
    assert times.dt.tz is not None and times.notna().all()


def test_filters_by_label_split_and_time(engine: Engine, sample: tuple) -> None:
    schema, features, labels = sample
    store = FeatureStore(engine)
    unlabelled = pd.Series([np.nan] * 50, dtype=object)
    with write_transaction(engine) as conn:
        dataset = create_dataset(conn, name="lung", schema=schema, source=None)
        store.write_rows(conn, dataset.id, features, labels=labels, split="reference")
        store.write_rows(
            conn,
            dataset.id,
            features.head(50),
            labels=unlabelled,
            entity_ids=pd.Series([f"p{i}" for i in range(50)]),
            batch_id="b1",
            split="ingested",
        )
    assert len(store.training_frame(dataset.id)[0]) == 200
    assert len(store.training_frame(dataset.id, labelled_only=False)[0]) == 250
    only_ingested = store.training_frame(dataset.id, labelled_only=False, splits=["ingested"])
    assert len(only_ingested[0]) == 50
    future = datetime.now(UTC) + timedelta(hours=1)
    assert store.training_frame(dataset.id, since=future)[0].empty
    assert len(store.training_frame(dataset.id, until=future)[0]) == 200
    stats = store.stats(dataset.id)
    assert stats["rows"] == 250 and stats["labelled"] == 200
    assert stats["by_split"] == {"reference": 200, "ingested": 50}
    assert stats["first_ingested_at"] is not None


def test_latest_features_of_an_entity(engine: Engine, sample: tuple) -> None:
    schema, features, _ = sample
    store = FeatureStore(engine)
    rows = features.head(2).reset_index(drop=True)
    with write_transaction(engine) as conn:
        dataset = create_dataset(conn, name="lung", schema=schema, source=None)
        store.write_rows(
            conn,
            dataset.id,
            rows,
            entity_ids=pd.Series(["a", "a"]),
            event_times=pd.Series(["2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"]),
            split="stream",
        )
    latest = store.latest_features(dataset.id, "a")
    assert latest is not None and latest["Gender"] == rows.loc[0, "Gender"]
    assert store.latest_features(dataset.id, "nobody") is None


def test_dataset_lifecycle_and_active_flag(engine: Engine, sample: tuple, make_settings) -> None:
    schema, features, labels = sample
    settings = make_settings()
    with pytest.raises(NoActiveModel, match="mlpipe init"):
        active_dataset(engine, settings)
    with write_transaction(engine) as conn:
        first = create_dataset(conn, name="first", schema=schema, source=None)
        FeatureStore(engine).write_rows(conn, first.id, features, labels=labels, split="reference")
    with write_transaction(engine) as conn:
        second = create_dataset(conn, name="second", schema=schema, source=None)
    assert active_dataset(engine, settings).name == "second"
    assert not get_dataset(engine, "first").is_active
    assert active_dataset(engine, make_settings(model_name="first")).id == first.id
    with pytest.raises(NoActiveModel):
        active_dataset(engine, make_settings(model_name="ghost"))
    with pytest.raises(NotFound):
        get_dataset(engine, "ghost")
    with pytest.raises(Conflict), write_transaction(engine) as conn:
        create_dataset(conn, name="first", schema=schema, source=None)
    with write_transaction(engine) as conn:
        replaced = create_dataset(conn, name="first", schema=schema, source=None, replace=True)
    assert replaced.id != first.id and second.id != replaced.id
    assert FeatureStore(engine).stats(first.id)["rows"] == 0  # old rows went with the old row
    assert get_dataset(engine, "first").schema == schema


def test_bad_names_are_refused(engine: Engine, sample: tuple) -> None:
    schema = sample[0]
    with pytest.raises(InputError, match="invalid model name"), write_transaction(engine) as conn:
        create_dataset(conn, name="has space", schema=schema, source=None)
