"""POST /invocations speaks MLflow's scoring protocol: each input format gives exactly
what MLflow's own pyfunc gives for the same payload, plus ids and version in headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mlflow.pyfunc
import pandas as pd
import pytest
import requests
from mlflow.pyfunc.scoring_server import infer_and_parse_data
from sqlalchemy import select
from sqlalchemy.engine import Engine

from registry import ModelRegistry
from shared.config import Settings
from shared.database import predictions
from tests.integration.prediction_support import (
    MODEL,
    init_model,
    logged_count,
    running_service,
    sample_records,
    service_settings,
    trained,
)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The protocol does not depend on the backend: SQLite only."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'pipeline.db'}"


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return service_settings(tmp_path_factory.mktemp("home"), database_url)


@pytest.fixture(scope="module")
def url(settings: Settings, migrated_engine: Engine) -> Iterator[str]:
    init_model(settings, migrated_engine, trained("random_forest"))
    with running_service(settings) as url:
        yield url


@pytest.fixture(scope="module")
def pyfunc(settings: Settings, migrated_engine: Engine, url: str) -> Any:
    """MLflow's own loader on the registered version's files (what `mlflow models serve` runs)."""
    path = ModelRegistry(settings, migrated_engine).load(MODEL, "1").path
    return mlflow.pyfunc.load_model(str(path))


RECORDS = sample_records(12, seed=31)
# MLflow's schema enforcement refuses missing values in required columns: complete rows only.
COMPLETE = [r for r in sample_records(60, seed=32) if all(v is not None for v in r.values())][:12]


def payloads() -> dict[str, dict[str, Any]]:
    columns = list(COMPLETE[0])
    return {
        "dataframe_split": {
            "dataframe_split": {
                "columns": columns,
                "data": [[r[c] for c in columns] for r in COMPLETE],
            }
        },
        "dataframe_records": {"dataframe_records": COMPLETE},
        "instances": {"instances": COMPLETE},
        "inputs (records)": {"inputs": COMPLETE},
        "inputs (columns)": {"inputs": {c: [r[c] for r in COMPLETE] for c in columns}},
        "with params": {"dataframe_records": COMPLETE, "params": {"ignored": 1}},
    }


@pytest.mark.parametrize("name", list(payloads()))
def test_each_format_answers_what_mlflow_answers(
    name: str, url: str, pyfunc: Any, migrated_engine: Engine
) -> None:
    payload = payloads()[name]
    response = requests.post(f"{url}/invocations", json=payload, timeout=60)
    assert response.status_code == 200, response.text
    # MLflow's own server path: its parser, then the pyfunc's predict.
    data = infer_and_parse_data(
        {k: v for k, v in payload.items() if k != "params"}, pyfunc.metadata.get_input_schema()
    )
    expected = pyfunc.predict(data)
    assert list(expected) == list(pyfunc.predict(pd.DataFrame.from_records(COMPLETE)))
    assert response.json() == {"predictions": list(expected)}
    # MLflow's server writes json.dumps({"predictions": ...}); so do we, byte for byte.
    assert response.text == json.dumps({"predictions": list(expected)})
    assert response.headers["X-Model-Name"] == MODEL and response.headers["X-Model-Version"] == "1"
    ids = response.headers["X-Prediction-Ids"].split(",")
    assert len(ids) == len(COMPLETE)
    with migrated_engine.connect() as conn:
        logged = dict(
            conn.execute(
                select(predictions.c.id, predictions.c.prediction).where(predictions.c.id.in_(ids))
            ).all()
        )
    assert [logged[i] for i in ids] == list(expected)


def test_missing_values_are_scored_where_mlflow_would_refuse(url: str) -> None:
    response = requests.post(f"{url}/invocations", json={"dataframe_records": RECORDS}, timeout=60)
    assert response.status_code == 200 and len(response.json()["predictions"]) == len(RECORDS)


def test_csv_body(url: str, pyfunc: Any) -> None:
    frame = pd.DataFrame.from_records(COMPLETE)
    response = requests.post(
        f"{url}/invocations",
        data=frame.to_csv(index=False),
        headers={"Content-Type": "text/csv"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": list(pyfunc.predict(frame))}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"records": COMPLETE}, 400),  # not a protocol key
        ({"dataframe_records": COMPLETE, "instances": COMPLETE}, 400),  # two formats
        ({"dataframe_split": {"data": [[1]]}}, 400),  # no columns
        ({"dataframe_split": {"columns": ["Age"], "data": [[1, 2]]}}, 400),  # ragged row
        ({"dataframe_records": {"Age": 1}}, 400),
        ({"inputs": {"Age": [1, 2], "Gender": ["Male"]}}, 400),  # columns of unequal length
        ({"dataframe_records": [{"Age": "old"}]}, 422),  # missing features, wrong type
        ({"instances": [[60, "Male"]]}, 422),  # rows must be objects
        ([1, 2], 400),
    ],
)
def test_malformed_protocol_bodies_are_4xx_and_log_nothing(
    payload: Any, status: int, url: str, migrated_engine: Engine
) -> None:
    before = logged_count(migrated_engine)
    response = requests.post(f"{url}/invocations", json=payload, timeout=60)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert logged_count(migrated_engine) == before


def test_wrong_content_type_is_415(url: str) -> None:
    response = requests.post(
        f"{url}/invocations", data=b"x", headers={"Content-Type": "application/xml"}, timeout=30
    )
    assert response.status_code == 415


def test_large_invocations_say_ids_were_omitted(url: str) -> None:
    records = sample_records(1_600, seed=33)
    response = requests.post(f"{url}/invocations", json={"dataframe_records": records}, timeout=120)
    assert response.status_code == 200 and len(response.json()["predictions"]) == 1_600
    assert "X-Prediction-Ids" not in response.headers
    assert response.headers["X-Prediction-Ids-Omitted"] == "1600"
