"""The Ingestion API's read endpoints, documentation, metrics, access rules and
behaviour with the database down, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sqlalchemy.engine import Engine

from ml.feature_store.datasets import Dataset
from services.ingestion_api.app import create_app
from tests.integration.ingestion_support import (
    app_settings,
    create_lung_dataset,
    metric_value,
    non_loopback_address,
    sample_csv,
    sample_records,
    serve,
    stored_counts,
)

WRITES = [
    ("/ingest/batch", {"json": {"records": sample_records(2)}}),
    ("/ingest/csv", {"data": sample_csv(2), "headers": {"Content-Type": "text/csv"}}),
    ("/ingest/stream", {"json": {"record": sample_records(1)[0]}}),
    ("/feedback", {"json": {"labels": [{"prediction_id": "p", "label": "Yes"}]}}),
]
READS = ["/health", "/ready", "/schema", "/stats", "/metrics", "/openapi.json", "/docs"]


@pytest.fixture(scope="module")
def base_url(migrated_engine: Engine, database_url: str, tmp_path_factory) -> Iterator[str]:
    app = create_app(app_settings(tmp_path_factory.mktemp("home"), database_url))
    with serve(app) as url:
        yield url
    app.extensions["ingestion"].engine.dispose()


@pytest.fixture
def dataset(engine: Engine) -> Dataset:
    return create_lung_dataset(engine)


def test_schema_describes_the_active_dataset(base_url, dataset) -> None:
    body = requests.get(f"{base_url}/schema", timeout=10).json()
    assert body["dataset"] == "lung" and body["target"] == "Recovered"
    assert body["classes"] == ["No", "Yes"] and body["task"] == "binary"
    kinds = {feature["name"]: feature["kind"] for feature in body["features"]}
    assert kinds["Age"] == "numeric" and kinds["Disease Type"] == "categorical"
    assert "COPD" in next(f for f in body["features"] if f["name"] == "Disease Type")["categories"]
    assert body["reserved_keys"] == ["entity_id", "event_time"]


def test_stats_count_what_was_stored(base_url, dataset) -> None:
    requests.post(f"{base_url}/ingest/batch", json={"records": sample_records(30)}, timeout=30)
    requests.post(f"{base_url}/ingest/stream", json={"record": sample_records(1)[0]}, timeout=30)
    body = requests.get(f"{base_url}/stats", timeout=10).json()
    assert body["dataset"] == "lung"
    assert body["feature_store"]["rows"] == 31 and body["feature_store"]["labelled"] == 31
    assert body["feature_store"]["by_split"] == {"ingested": 30, "stream": 1}
    assert body["batches"]["batches"] == 2 and body["batches"]["accepted"] == 31
    assert set(body["batches"]["by_source"]) == {"batch", "stream"}
    assert body["batches"]["last_received_at"] is not None


def test_ready_needs_an_active_dataset(base_url, engine) -> None:
    before = requests.get(f"{base_url}/ready", timeout=10)
    assert before.status_code == 503 and before.json()["error"]["code"] == "no_active_model"
    assert requests.get(f"{base_url}/schema", timeout=10).status_code == 503
    create_lung_dataset(engine)
    after = requests.get(f"{base_url}/ready", timeout=10)
    assert after.status_code == 200 and after.json() == {"status": "ready", "dataset": "lung"}


def test_health_docs_and_openapi(base_url) -> None:
    assert requests.get(f"{base_url}/health", timeout=10).json()["status"] == "ok"
    docs = requests.get(f"{base_url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger-ui" in docs.text  # assets served locally
    spec = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    expected = {"/ingest/batch", "/ingest/csv", "/ingest/stream", "/feedback", "/schema", "/stats"}
    assert expected <= set(spec["paths"])
    batch = spec["paths"]["/ingest/batch"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchRequest"
    }
    assert {"201", "200", "409", "413", "415", "422"} <= set(batch["responses"])
    assert "text/csv" in spec["paths"]["/ingest/csv"]["post"]["requestBody"]["content"]
    assert {"BatchRequest", "BatchResult", "FeedbackRequest", "FeedbackResult"} <= set(
        spec["components"]["schemas"]
    )
    mode = spec["paths"]["/ingest/csv"]["post"]["parameters"][0]
    assert mode["name"] == "mode" and mode["schema"]["enum"] == ["lenient", "strict"]


def test_metrics_count_requests_and_rows(base_url, dataset) -> None:
    records = sample_records(5)
    records[0]["Age"] = "x"
    requests.post(f"{base_url}/ingest/batch", json={"records": records}, timeout=30)
    text = requests.get(f"{base_url}/metrics", timeout=10).text
    assert metric_value(text, "ingestion_rows_total", source="batch", outcome="accepted") >= 4
    assert metric_value(text, "ingestion_rows_total", source="batch", outcome="rejected") >= 1
    requests_201 = metric_value(
        text, "ingestion_api_http_requests_total", endpoint="/ingest/batch", status="201"
    )
    assert requests_201 >= 1
    assert metric_value(text, "ingestion_api_http_request_seconds_count") >= 1


def test_api_key_guards_writes_and_leaves_reads_open(
    migrated_engine, database_url, tmp_path, dataset
) -> None:
    app = create_app(app_settings(tmp_path, database_url, api_key="s3cret"))
    with serve(app) as url:
        for path, kwargs in WRITES:
            content = kwargs.get("headers", {})
            for token in (None, "Bearer nope", "s3cret", "Basic s3cret"):
                auth = {"Authorization": token} if token else {}
                refused = requests.post(
                    f"{url}{path}", timeout=10, **(kwargs | {"headers": content | auth})
                )
                assert refused.status_code == 401, (path, token)
                assert refused.json()["error"]["code"] == "unauthorized"
            auth = {"Authorization": "Bearer s3cret"}
            allowed = requests.post(
                f"{url}{path}", timeout=10, **(kwargs | {"headers": content | auth})
            )
            assert allowed.status_code in (200, 201, 202), (path, allowed.text)
        for path in READS:
            assert requests.get(f"{url}{path}", timeout=10).status_code == 200, path
    app.extensions["ingestion"].engine.dispose()


def test_without_api_key_only_loopback_clients_may_write(
    migrated_engine, database_url, tmp_path, engine, dataset
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    app = create_app(app_settings(tmp_path, database_url))
    with serve(app, host="0.0.0.0") as url:
        remote = url.replace("0.0.0.0", address)
        for path, kwargs in WRITES:
            r = requests.post(f"{remote}{path}", timeout=10, **kwargs)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path
        assert stored_counts(engine) == (0, 0)
        for path in READS:
            assert requests.get(f"{remote}{path}", timeout=10).status_code == 200, path
    app.extensions["ingestion"].engine.dispose()


def test_database_down_is_503(tmp_path) -> None:
    down = "postgresql://postgres@127.0.0.1:9/nowhere"  # nothing listens on port 9
    app = create_app(app_settings(tmp_path, down))
    with serve(app) as url:
        assert requests.get(f"{url}/health", timeout=10).status_code == 200
        for path, kwargs in WRITES:
            r = requests.post(f"{url}{path}", timeout=10, **kwargs)
            assert r.status_code == 503, (path, r.text)
        for path in ("/ready", "/schema", "/stats"):
            assert requests.get(f"{url}{path}", timeout=10).status_code == 503, path
