"""POST /ingest/stream over real HTTP on SQLite and PostgreSQL: a 202 means the
record is committed; concurrent records are committed in groups."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ml.feature_store.datasets import Dataset
from services.ingestion_api.app import create_app
from services.ingestion_api.group_commit import GroupCommitter
from shared.database import feature_store, ingestion_batches
from tests.integration.ingestion_support import (
    app_settings,
    create_lung_dataset,
    sample_records,
    serve,
)


@pytest.fixture(scope="module")
def base_url(migrated_engine: Engine, database_url: str, tmp_path_factory) -> Iterator[str]:
    app = create_app(app_settings(tmp_path_factory.mktemp("home"), database_url))
    with serve(app) as url:
        yield url
    app.extensions["ingestion"].engine.dispose()


@pytest.fixture
def dataset(engine: Engine) -> Dataset:
    return create_lung_dataset(engine)


def row_for(engine: Engine, record_id: str) -> tuple | None:
    """The stored row an id names (`<batch_id>:<position>`), read on a fresh connection."""
    batch_id, _, position = record_id.rpartition(":")
    query = (
        select(feature_store.c.entity_id, feature_store.c.split, feature_store.c.label)
        .where(feature_store.c.batch_id == batch_id)
        .order_by(feature_store.c.id)
        .offset(int(position))
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).first()


def test_a_202_means_the_record_is_already_committed(base_url, engine, dataset) -> None:
    record = sample_records(1)[0] | {"entity_id": "patient-7"}
    r = requests.post(f"{base_url}/ingest/stream", json={"record": record}, timeout=10)
    assert r.status_code == 202 and set(r.json()) == {"id"}
    # Read at once, on another connection: the row must be visible (committed) already.
    assert row_for(engine, r.json()["id"]) == ("patient-7", "stream", record["Recovered"])


def test_concurrent_records_all_commit_and_share_transactions(base_url, engine, dataset) -> None:
    records = sample_records(60)
    for i, record in enumerate(records):
        record["entity_id"] = f"e{i}"
    answers: dict[str, requests.Response] = {}
    barrier = threading.Barrier(len(records))

    def send(record: dict) -> None:
        barrier.wait()
        answers[record["entity_id"]] = requests.post(
            f"{base_url}/ingest/stream", json={"record": record}, timeout=30
        )

    threads = [threading.Thread(target=send, args=(record,)) for record in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in answers.values()} == {202}
    for entity, answer in answers.items():  # each id names the caller's own row
        assert row_for(engine, answer.json()["id"])[0] == entity
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(feature_store)).scalar_one()
        groups = conn.execute(
            select(func.count(), func.sum(ingestion_batches.c.accepted)).where(
                ingestion_batches.c.source == "stream"
            )
        ).one()
    # 60 simultaneous requests commit in far fewer transactions (2 to 6 seen here).
    assert rows == 60 and groups[1] == 60 and groups[0] < 60


def test_an_invalid_record_fails_alone(base_url, engine, dataset) -> None:
    good, bad = sample_records(2)
    bad["Age"] = "ninety"
    answers = {}

    def send(name: str, record: dict) -> None:
        answers[name] = requests.post(
            f"{base_url}/ingest/stream", json={"record": record}, timeout=10
        )

    threads = [threading.Thread(target=send, args=item) for item in (("good", good), ("bad", bad))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers["good"].status_code == 202 and answers["bad"].status_code == 422
    assert answers["bad"].json()["error"]["details"]["errors"] == [
        {"index": 0, "field": "Age", "message": "expected a number"}
    ]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(feature_store)).scalar_one() == 1


def test_group_committer_batches_concurrent_items_and_keeps_their_order() -> None:
    groups: list[list[int]] = []

    def write(items):  # slow writes let the next items queue up behind them
        groups.append(list(items))
        time.sleep(0.05)
        return [item * 10 for item in items]

    committer = GroupCommitter(write, max_wait_s=0.001)
    results: dict[int, int] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, committer.submit(i)))
        for i in range(30)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: i * 10 for i in range(30)}
    assert sorted(i for group in groups for i in group) == list(range(30))
    assert len(groups) < 30  # items that arrived during a write went into one later group


def test_group_committer_hands_a_failure_to_every_waiter_and_recovers() -> None:
    calls = []

    def write(items):
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return list(items)

    committer = GroupCommitter(write)
    with pytest.raises(ConnectionError):
        committer.submit("a")
    assert committer.submit("b") == "b"
