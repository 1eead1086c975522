"""Ingestion events on a real Redis stream, the table log without Redis, and an
ingest that succeeds while Redis is unreachable."""

from __future__ import annotations

import uuid

import pytest
import redis
import requests
from sqlalchemy.engine import Engine

from ml.feature_store.datasets import Dataset
from services.ingestion_api.app import create_app
from shared.events import RedisEventLog, TableEventLog, make_event_log, stream_key
from tests.integration.ingestion_support import (
    app_settings,
    create_lung_dataset,
    metric_value,
    sample_records,
    serve,
    stored_counts,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def dataset(engine: Engine) -> Dataset:
    return create_lung_dataset(engine)


def test_batches_and_stream_groups_are_published_to_redis(
    database_url, redis_url, redis_prefix, tmp_path, engine, dataset
) -> None:
    settings = app_settings(
        tmp_path, database_url, redis_url=redis_url, redis_prefix=f"{redis_prefix}:{uuid.uuid4()}"
    )
    app = create_app(settings)
    with serve(app) as url:
        records = sample_records(12, labelled=False)
        records[0]["Age"] = "x"
        requests.post(
            f"{url}/ingest/batch", json={"batch_id": "b-1", "records": records}, timeout=30
        )
        requests.post(
            f"{url}/ingest/batch", json={"batch_id": "b-1", "records": records}, timeout=30
        )
        streamed = requests.post(
            f"{url}/ingest/stream", json={"record": sample_records(1)[0]}, timeout=30
        )
    app.extensions["ingestion"].engine.dispose()
    log = make_event_log(settings, engine)
    assert isinstance(log, RedisEventLog)
    events = log.read_after(None)
    assert [(e.batch_id, e.source, e.accepted, e.rejected, e.labelled) for _, e in events] == [
        ("b-1", "batch", 11, 1, 0),  # the replayed request published nothing
        (streamed.json()["id"].rpartition(":")[0], "stream", 1, 0, 1),
    ]
    assert log.read_after(events[0][0]) == events[1:]  # a cursor resumes after an entry
    client = redis.Redis.from_url(redis_url)
    assert client.xlen(stream_key(settings)) == 2
    client.close()


def test_ingest_succeeds_and_counts_the_failure_when_redis_is_down(
    database_url, tmp_path, engine, dataset
) -> None:
    settings = app_settings(tmp_path, database_url, redis_url="redis://127.0.0.1:9/0")
    app = create_app(settings)
    with serve(app) as url:
        before = metric_value(
            requests.get(f"{url}/metrics", timeout=30).text,
            "ingestion_event_publish_failures_total",
        )
        r = requests.post(f"{url}/ingest/batch", json={"records": sample_records(4)}, timeout=30)
        after = metric_value(
            requests.get(f"{url}/metrics", timeout=30).text,
            "ingestion_event_publish_failures_total",
        )
    app.extensions["ingestion"].engine.dispose()
    assert r.status_code == 201 and r.json()["accepted"] == 4
    assert stored_counts(engine) == (4, 1)
    assert after == before + 1


def test_without_redis_the_batches_table_is_the_event_log(
    database_url, tmp_path, engine, dataset
) -> None:
    settings = app_settings(tmp_path, database_url)
    assert isinstance(make_event_log(settings, engine), TableEventLog)
    app = create_app(settings)
    with serve(app) as url:
        for batch_id in ("t-1", "t-2", "t-3"):
            body = {"batch_id": batch_id, "records": sample_records(2)}
            requests.post(f"{url}/ingest/batch", json=body, timeout=30)
    app.extensions["ingestion"].engine.dispose()
    log = TableEventLog(engine, settle_seconds=0)
    first_two = log.read_after(None, limit=2)
    assert [e.batch_id for _, e in first_two] == ["t-1", "t-2"]
    assert [e.batch_id for _, e in log.read_after(first_two[-1][0])] == ["t-3"]
    # Rows younger than the settle time are held back: their commit order is not final yet.
    assert TableEventLog(engine, settle_seconds=3600).read_after(None) == []
