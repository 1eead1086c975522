"""POST /feedback over real HTTP on SQLite and PostgreSQL: labels reach the logged
predictions by id; unknown ids and labels outside the classes are reported per item."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ml.feature_store.datasets import Dataset, create_dataset
from ml.schema import infer_schema
from services.ingestion_api.app import create_app
from shared.database import predictions, write_transaction
from tests.integration.ingestion_support import app_settings, create_lung_dataset, serve


@pytest.fixture(scope="module")
def base_url(migrated_engine: Engine, database_url: str, tmp_path_factory) -> Iterator[str]:
    app = create_app(app_settings(tmp_path_factory.mktemp("home"), database_url))
    with serve(app) as url:
        yield url
    app.extensions["ingestion"].engine.dispose()


@pytest.fixture
def dataset(engine: Engine) -> Dataset:
    return create_lung_dataset(engine)


def log_predictions(engine: Engine, count: int, model_name: str = "lung") -> list[str]:
    """Rows as the prediction service writes them (it owns the table)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    rows = [
        {
            "id": pid,
            "created_at": datetime.now(UTC),
            "model_name": model_name,
            "model_version": "1",
            "features": {"Age": 50},
            "prediction": "Yes",
        }
        for pid in ids
    ]
    with write_transaction(engine) as conn:
        conn.execute(predictions.insert(), rows)
    return ids


def labels_of(engine: Engine, ids: list[str]) -> dict[str, tuple]:
    query = select(predictions.c.id, predictions.c.label, predictions.c.label_at).where(
        predictions.c.id.in_(ids)
    )
    with engine.connect() as conn:
        return {row.id: (row.label, row.label_at) for row in conn.execute(query)}


def send(base_url: str, labels: list[dict]) -> requests.Response:
    return requests.post(f"{base_url}/feedback", json={"labels": labels}, timeout=30)


def test_labels_are_matched_unknown_or_rejected(base_url, engine, dataset) -> None:
    ids = log_predictions(engine, 3)
    r = send(
        base_url,
        [
            {"prediction_id": ids[0], "label": "Yes"},
            {"prediction_id": ids[1], "label": "Maybe"},
            {"prediction_id": "no-such-prediction", "label": "No"},
            {"prediction_id": ids[2], "label": "No"},
        ],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] == 2 and body["unknown"] == ["no-such-prediction"]
    assert [(item["index"], item["prediction_id"]) for item in body["rejected"]] == [(1, ids[1])]
    assert "No, Yes" in body["rejected"][0]["message"]
    stored = labels_of(engine, ids)
    assert stored[ids[0]][0] == "Yes" and stored[ids[2]][0] == "No"
    assert stored[ids[1]] == (None, None) and stored[ids[0]][1] is not None


def test_a_later_label_replaces_an_earlier_one(base_url, engine, dataset) -> None:
    [pid] = log_predictions(engine, 1)
    send(base_url, [{"prediction_id": pid, "label": "Yes"}])
    again = send(base_url, [{"prediction_id": pid, "label": "No"}])
    assert again.json()["matched"] == 1 and labels_of(engine, [pid])[pid][0] == "No"


def test_many_labels_in_one_request(base_url, engine, dataset) -> None:
    ids = log_predictions(engine, 1_200)  # more than one id look-up chunk
    r = send(base_url, [{"prediction_id": pid, "label": "Yes"} for pid in ids])
    assert r.json() == {"matched": 1_200, "unknown": [], "rejected": []}
    assert {label for label, _ in labels_of(engine, ids).values()} == {"Yes"}


def test_numeric_classes_compare_as_strings(base_url, engine) -> None:
    frame = pd.DataFrame(
        {"x": [float(i) for i in range(60)], "grade": [1, 2, 3] * 20}
    )  # classes "1", "2", "3"
    with write_transaction(engine) as conn:
        create_dataset(conn, name="grades", schema=infer_schema(frame, "grade")[0], source="t")
    ids = log_predictions(engine, 3, model_name="grades")
    r = send(
        base_url,
        [
            {"prediction_id": ids[0], "label": 2},
            {"prediction_id": ids[1], "label": "3"},
            {"prediction_id": ids[2], "label": 4},
        ],
    )
    assert r.json()["matched"] == 2 and r.json()["rejected"][0]["index"] == 2
    assert labels_of(engine, ids)[ids[0]][0] == "2"


def test_predictions_of_another_model_use_that_models_classes(base_url, engine, dataset) -> None:
    frame = pd.DataFrame({"x": [float(i) for i in range(40)], "y": ["a", "b"] * 20})
    with write_transaction(engine) as conn:  # "ab" is not the active data set
        create_dataset(
            conn, name="ab", schema=infer_schema(frame, "y")[0], source="t", activate=False
        )
    ids = log_predictions(engine, 2, model_name="ab")
    r = send(
        base_url,
        [{"prediction_id": ids[0], "label": "a"}, {"prediction_id": ids[1], "label": "Yes"}],
    )
    assert r.json()["matched"] == 1 and r.json()["rejected"][0]["prediction_id"] == ids[1]


def test_feedback_without_any_active_model_is_503(base_url, engine) -> None:
    ids = log_predictions(engine, 1, model_name="gone")
    r = send(base_url, [{"prediction_id": ids[0], "label": "Yes"}])
    assert r.status_code == 503 and labels_of(engine, ids)[ids[0]] == (None, None)
