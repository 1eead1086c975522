"""The prediction service over real HTTP against a real registered model, on SQLite and
PostgreSQL: answers, durable logging with rollups, warnings, access, health, docs, metrics."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from ml.schema import normalize_frame
from services.prediction_service.api_models import PredictResponse
from shared.config import Settings
from shared.database import prediction_minutes, predictions
from shared.rollup import LATENCY_BUCKETS_MS
from tests.integration.ingestion_support import metric_value
from tests.integration.prediction_support import (
    MODEL,
    init_model,
    logged_count,
    minute_totals,
    running_service,
    sample_records,
    service_settings,
    trained,
)


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    return service_settings(
        home, database_url, predict_batch_max_records=3_000, max_body_bytes=2_000_000
    )


@pytest.fixture(scope="module")
def url(settings: Settings, migrated_engine: Engine) -> Iterator[str]:
    init_model(settings, migrated_engine, trained())
    with running_service(settings) as url:
        yield url


def post(url: str, path: str, body: Any, **kwargs: Any) -> requests.Response:
    return requests.post(f"{url}{path}", json=body, timeout=60, **kwargs)


def test_predict_answers_from_the_champion_and_commits_every_row(
    url: str, migrated_engine: Engine
) -> None:
    records = sample_records(3)
    records[1]["Lung Capacity"] = None  # null is scored (the pipeline imputes)
    response = post(url, "/predict", {"records": records}, headers={"X-Request-ID": "req-123"})
    assert response.status_code == 200, response.text
    body = PredictResponse.model_validate(response.json())
    assert (body.model.name, body.model.version) == (MODEL, "1") and body.warnings is None
    assert len(body.predictions) == 3
    for item in body.predictions:
        assert uuid.UUID(item.prediction_id).version == 7
        assert set(item.probabilities) == {"No", "Yes"}
        assert sum(item.probabilities.values()) == pytest.approx(1.0)
        assert item.prediction == max(item.probabilities, key=item.probabilities.__getitem__)

    ids = [p.prediction_id for p in body.predictions]
    with migrated_engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(predictions).where(predictions.c.id.in_(ids)))}
    assert set(rows) == set(ids)  # committed before the answer
    for item, record in zip(body.predictions, records, strict=True):
        row = rows[item.prediction_id]
        assert (row.model_name, row.model_version, row.prediction) == (MODEL, "1", item.prediction)
        assert row.probabilities == pytest.approx(item.probabilities)
        assert row.endpoint == "/predict" and row.request_id == "req-123" and row.latency_ms > 0
        assert row.features["Disease Type"] == record["Disease Type"]
    assert rows[ids[1]].features["Lung Capacity"] is None


def test_predictions_are_the_pipelines_own(url: str) -> None:
    records = sample_records(40, seed=3)  # includes missing values
    response = post(url, "/predict", {"records": records})
    result = trained()
    frame = normalize_frame(result.schema, pd.DataFrame.from_records(records))
    expected = result.pipeline.predict_proba(frame)
    got = np.array(
        [
            [p["probabilities"][c] for c in result.pipeline.classes_]
            for p in response.json()["predictions"]
        ]
    )
    assert np.allclose(got, expected, rtol=0, atol=1e-12)


def test_batch_endpoint_and_record_limits(url: str, migrated_engine: Engine) -> None:
    before = logged_count(migrated_engine)
    response = post(url, "/predict/batch", {"records": sample_records(2_500, seed=4)})
    assert response.status_code == 200 and len(response.json()["predictions"]) == 2_500
    assert logged_count(migrated_engine) == before + 2_500
    too_many = post(url, "/predict", {"records": sample_records(1, seed=4) * 1_001})
    assert too_many.status_code == 413 and too_many.json()["error"]["details"]["limit"] == 1_000
    assert post(url, "/predict/batch", {"records": [{}] * 3_001}).status_code == 413
    assert logged_count(migrated_engine) == before + 2_500


def test_unknown_fields_and_unseen_categories_are_scored_and_reported(url: str) -> None:
    record = {**sample_records(1)[0], "favourite_colour": "teal", "Disease Type": "Tuberculosis"}
    before = metric_value(
        requests.get(f"{url}/metrics").text,
        "prediction_service_unseen_categories_total",
        feature="Disease Type",
    )
    response = post(url, "/predict", {"records": [record]})
    assert response.status_code == 200
    warnings = {w["code"]: w for w in response.json()["warnings"]}
    assert warnings["unknown_fields"]["fields"] == ["favourite_colour"]
    assert warnings["unseen_categories"]["counts"] == {"Disease Type": 1}
    assert "Tuberculosis" not in response.text  # counted, not echoed
    after = metric_value(
        requests.get(f"{url}/metrics").text,
        "prediction_service_unseen_categories_total",
        feature="Disease Type",
    )
    assert after == before + 1


def _record(**changes: Any) -> dict[str, Any]:
    record = sample_records(1, seed=9)[0]
    record.update(changes)
    return record


SECRET = "s3cr3t-payload-marker"
BAD_INPUTS = {
    "malformed JSON": (
        {"data": '{"records": [', "headers": {"Content-Type": "application/json"}},
        400,
    ),
    "empty body": ({"data": "", "headers": {"Content-Type": "application/json"}}, 400),
    "wrong content type": ({"data": "Age=1", "headers": {"Content-Type": "text/plain"}}, 415),
    "records not a list": ({"json": {"records": SECRET}}, 422),
    "no records": ({"json": {"records": []}}, 422),
    "record not an object": ({"json": {"records": [SECRET]}}, 422),
    "NaN": (
        {"data": '{"records": [{"Age": NaN}]}', "headers": {"Content-Type": "application/json"}},
        422,
    ),
    "Infinity": (
        {
            "data": '{"records": [{"Age": -Infinity}]}',
            "headers": {"Content-Type": "application/json"},
        },
        422,
    ),
    "text for a number": ({"json": {"records": [_record(Age=SECRET)]}}, 422),
    "boolean for a number": ({"json": {"records": [_record(Age=True)]}}, 422),
    "nested value": ({"json": {"records": [_record(Gender={"x": SECRET})]}}, 422),
    "list value": ({"json": {"records": [_record(**{"Lung Capacity": [1, 2]})]}}, 422),
    "missing feature": (
        {"json": {"records": [{k: v for k, v in _record().items() if k != "Age"}]}},
        422,
    ),
    "too long category": ({"json": {"records": [_record(Gender="x" * 1_001)]}}, 422),
    "huge integer": (
        {
            "data": '{"records": [{"Age": 1' + "0" * 400 + "}]}",
            "headers": {"Content-Type": "application/json"},
        },
        422,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_4xx_without_echo_and_logs_nothing(
    case: str, url: str, migrated_engine: Engine
) -> None:
    kwargs, status = BAD_INPUTS[case]
    before = logged_count(migrated_engine)
    response = requests.post(f"{url}/predict", timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"} and SECRET not in response.text
    assert logged_count(migrated_engine) == before


def test_every_invalid_record_and_field_is_named(url: str, migrated_engine: Engine) -> None:
    good = sample_records(1)[0]
    records = [
        good,
        {**good, "Age": "old", "Hospital Visits": "many"},
        good,
        {k: v for k, v in good.items() if k != "Gender"},
    ]
    before = logged_count(migrated_engine)
    response = post(url, "/predict", {"records": records})
    assert response.status_code == 422
    errors = {(e["index"], e["field"]) for e in response.json()["error"]["details"]["errors"]}
    assert errors == {(1, "Age"), (1, "Hospital Visits"), (3, "Gender")}
    assert logged_count(migrated_engine) == before  # the valid records were not scored either


def test_oversized_body_is_413(settings: Settings, url: str) -> None:
    body = b'{"records": [' + b" " * (settings.max_body_bytes + 1) + b"]}"
    response = requests.post(
        f"{url}/predict", data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 413


def test_minute_rollups_count_every_logged_prediction(url: str, migrated_engine: Engine) -> None:
    post(url, "/predict", {"records": sample_records(5, seed=21)})
    with migrated_engine.connect() as conn:
        minutes = conn.execute(select(prediction_minutes)).all()
    assert (
        sum(m.n for m in minutes)
        == logged_count(migrated_engine)
        == sum(minute_totals(migrated_engine).values())
    )
    for minute in minutes:
        assert len(minute.latency_buckets) == len(LATENCY_BUCKETS_MS) + 1
        assert sum(minute.latency_buckets) == minute.n == sum(minute.class_counts.values())
        assert minute.latency_sum_ms > 0


def test_concurrent_requests_share_predict_calls_and_commits(
    url: str, migrated_engine: Engine
) -> None:
    metrics = requests.get(f"{url}/metrics").text
    batches_before = metric_value(metrics, "prediction_service_microbatch_rows_count")
    commits_before = metric_value(metrics, "prediction_service_log_commit_rows_count")
    failures: list[int] = []
    records = sample_records(16, seed=5)

    def client(i: int) -> None:
        with requests.Session() as session:
            for _ in range(15):
                r = session.post(f"{url}/predict", json={"records": [records[i]]}, timeout=60)
                if r.status_code != 200:
                    failures.append(r.status_code)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    metrics = requests.get(f"{url}/metrics").text
    batches = metric_value(metrics, "prediction_service_microbatch_rows_count") - batches_before
    commits = metric_value(metrics, "prediction_service_log_commit_rows_count") - commits_before
    assert batches < 240 and commits < 240  # 240 requests shared predict calls and commits


def test_long_lived_objects_are_frozen_after_the_first_load(url: str) -> None:
    assert gc.get_freeze_count() > 100_000  # MLflow, sklearn, the model: out of the cyclic GC


def test_model_ready_health_docs(url: str) -> None:
    model = requests.get(f"{url}/model").json()
    assert (model["name"], model["version"], model["target"]) == (MODEL, "1", "Recovered")
    assert model["classes"] == ["No", "Yes"] and model["challenger"] is None
    assert {f["name"] for f in model["features"]} == set(trained().schema.feature_names)
    ready = requests.get(f"{url}/ready")
    assert ready.status_code == 200 and ready.json()["model"] == {"name": MODEL, "version": "1"}
    assert requests.get(f"{url}/health").json()["status"] == "ok"
    assert b"swagger-ui" in requests.get(f"{url}/docs").content


def test_openapi_describes_the_served_models_features(url: str) -> None:
    spec = requests.get(f"{url}/openapi.json").json()
    record = spec["components"]["schemas"]["Record"]
    schema = trained().schema
    assert record["required"] == schema.feature_names
    assert record["properties"]["Age"]["type"] == ["number", "null"]
    disease = schema.feature("Disease Type")
    assert record["properties"]["Disease Type"]["x-known-categories"] == list(disease.categories)
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    request_schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert request_schema["properties"]["records"]["items"] == {
        "$ref": "#/components/schemas/Record"
    }
    assert request_schema["properties"]["records"]["maxItems"] == 1_000
    responses = spec["paths"]["/predict"]["post"]["responses"]
    assert {"200", "422", "503"} <= set(responses)
    assert "text/csv" in spec["paths"]["/invocations"]["post"]["requestBody"]["content"]


def test_metrics_by_endpoint_version_and_class(url: str) -> None:
    post(url, "/predict", {"records": sample_records(4, seed=8)})
    metrics = requests.get(f"{url}/metrics").text
    assert (
        metric_value(
            metrics,
            "prediction_service_request_seconds_count",
            endpoint="/predict",
            model_version="1",
        )
        > 0
    )
    by_class = sum(
        metric_value(metrics, "prediction_service_predictions_total", model_version="1", label=c)
        for c in ("No", "Yes")
    )
    assert by_class > 0
    assert (
        metric_value(
            metrics, "prediction_service_model_in_service", alias="champion", model_version="1"
        )
        == 1
    )
    assert metric_value(metrics, "prediction_service_model_reloads_total", alias="champion") >= 1


def test_reload_endpoint_answers_loopback_only_when_no_api_key(url: str) -> None:
    response = requests.post(f"{url}/model/reload", timeout=60)
    assert response.status_code == 200
    assert response.json() == {
        "changed": False,
        "model": {"name": MODEL, "version": "1"},
        "challenger": None,
    }


def test_reload_needs_the_api_key_when_set(settings: Settings, url: str, tmp_path: Path) -> None:
    keyed = settings.model_copy(update={"api_key": "k3y", "pipeline_home": settings.pipeline_home})
    with running_service(keyed) as other:
        assert requests.post(f"{other}/model/reload", timeout=60).status_code == 401
        wrong = requests.post(
            f"{other}/model/reload", headers={"Authorization": "Bearer nope"}, timeout=60
        )
        assert wrong.status_code == 401
        ok = requests.post(
            f"{other}/model/reload", headers={"Authorization": "Bearer k3y"}, timeout=60
        )
        assert ok.status_code == 200
        assert (
            post(other, "/predict", {"records": sample_records(1)}).status_code == 200
        )  # stays open


def test_a_failed_commit_answers_503_and_nothing(url: str, migrated_engine: Engine) -> None:
    """The log cannot commit (a trigger refuses inserts): no prediction is answered."""
    sqlite = migrated_engine.dialect.name == "sqlite"
    create = (
        [
            "CREATE TRIGGER refuse BEFORE INSERT ON predictions BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        ]
        if sqlite
        else [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON predictions FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    )
    drop = (
        ["DROP TRIGGER refuse"]
        if sqlite
        else ["DROP TRIGGER refuse ON predictions", "DROP FUNCTION refuse()"]
    )
    with migrated_engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        before = logged_count(migrated_engine)
        response = post(url, "/predict", {"records": sample_records(2)})
        assert response.status_code == 503 and "predictions" not in response.json()
        assert logged_count(migrated_engine) == before
    finally:
        with migrated_engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))
    assert post(url, "/predict", {"records": sample_records(2)}).status_code == 200  # recovers


def test_unreachable_database_means_not_ready_and_503(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, "postgresql://postgres@127.0.0.1:9/nowhere")
    from services.prediction_service.app import create_app
    from tests.integration.ingestion_support import serve

    app = create_app(settings)
    try:
        with serve(app) as down:
            ready = requests.get(f"{down}/ready", timeout=30)
            assert (
                ready.status_code == 503
                and ready.json()["error"]["details"]["checks"]["database"] == "unreachable"
            )
            response = post(down, "/predict", {"records": sample_records(1)})
            assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
            assert requests.get(f"{down}/health").status_code == 200
    finally:
        app.extensions["prediction_runtime"].stop()
