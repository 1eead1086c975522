"""The prediction log on SQLite and PostgreSQL: group commit of concurrent writers, JSON
and text exactly as readers see them, per-minute rollups merged race-free, shadow updates."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.prediction_service.json_rows import json_objects, new_ids
from services.prediction_service.log_rows import PredictionRows, ShadowRows
from services.prediction_service.prediction_log import PredictionLog
from shared.database import prediction_minutes, predictions
from shared.errors import ServiceUnavailable
from shared.rollup import latency_bucket_counts

NOW = datetime(2026, 5, 4, 12, 30, 15, 123456, tzinfo=UTC)


def rows_for(
    n: int, *, version: str = "1", latency_ms: float = 4.2, at: datetime = NOW
) -> PredictionRows:
    labels = ["Yes" if i % 3 else "No" for i in range(n)]
    features = {
        "Age": [float(i) if i % 4 else None for i in range(n)],
        "Disease Type": ['Lung "Cancer"\t\\ ünïcode %s' if i % 2 else None for i in range(n)],
    }
    return PredictionRows(
        model_name="m",
        model_version=version,
        endpoint="/predict",
        request_id="tab\there\\",
        created_at=at,
        latency_ms=latency_ms,
        ids=new_ids(n),
        labels=labels,
        probabilities_json=json_objects({"No": [0.25] * n, "Yes": [0.75] * n}, n),
        features_json=json_objects(features, n),
    )


@pytest.fixture
def log(engine: Engine):
    commits: list[int] = []
    writer = PredictionLog(engine, max_wait_s=0.005, on_commit=commits.append)
    writer.commits = commits  # type: ignore[attr-defined]
    yield writer
    writer.stop()


def test_rows_are_stored_as_readers_expect(log: PredictionLog, engine: Engine) -> None:
    rows = rows_for(5)
    log.write(rows, announced=False)
    with engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(select(predictions))}
    assert set(stored) == set(rows.ids)
    first, second = stored[rows.ids[0]], stored[rows.ids[1]]
    assert first.features == {"Age": None, "Disease Type": None}
    assert second.features == {"Age": 1.0, "Disease Type": 'Lung "Cancer"\t\\ ünïcode %s'}
    assert second.probabilities == {"No": 0.25, "Yes": 0.75} and second.prediction == "Yes"
    assert second.request_id == "tab\there\\" and second.latency_ms == pytest.approx(4.2)
    created = (
        second.created_at if second.created_at.tzinfo else second.created_at.replace(tzinfo=UTC)
    )
    assert created == NOW


def test_concurrent_writers_share_commits_and_minutes_add_up(
    log: PredictionLog, engine: Engine
) -> None:
    batches = [
        rows_for(3, latency_ms=1.5 + i, at=NOW + timedelta(seconds=i % 2 * 50)) for i in range(40)
    ]
    for _ in batches:
        log.announce()
    threads = [threading.Thread(target=log.write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(log.commits) == 120  # type: ignore[attr-defined]
    assert len(log.commits) < 40  # type: ignore[attr-defined]  # group commit
    with engine.connect() as conn:
        minutes = {
            m.minute.replace(tzinfo=UTC): m for m in conn.execute(select(prediction_minutes))
        }
    assert set(minutes) == {
        NOW.replace(second=0, microsecond=0),
        NOW.replace(second=0, microsecond=0) + timedelta(minutes=1),
    }
    assert sum(m.n for m in minutes.values()) == 120
    expected_buckets = [0] * len(latency_bucket_counts([]))
    for b in batches:
        expected_buckets = [
            x + y * 3
            for x, y in zip(expected_buckets, latency_bucket_counts([b.latency_ms]), strict=True)
        ]
    merged = [
        sum(m.latency_buckets[i] for m in minutes.values()) for i in range(len(expected_buckets))
    ]
    assert merged == expected_buckets
    assert sum(m.latency_sum_ms for m in minutes.values()) == pytest.approx(
        sum(b.latency_ms * 3 for b in batches)
    )
    assert sum(m.class_counts["Yes"] for m in minutes.values()) == 80


def test_two_writers_merge_into_one_minute(engine: Engine) -> None:
    """Two processes' logs (two PredictionLogs) add to the same minute row without losing counts."""
    first = PredictionLog(engine, max_wait_s=0)
    second = PredictionLog(engine, max_wait_s=0)
    try:
        threads = [
            threading.Thread(target=writer.write, args=(rows_for(2),), kwargs={"announced": False})
            for writer in (first, second) * 15
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        first.stop()
        second.stop()
    with engine.connect() as conn:
        minutes = list(conn.execute(select(prediction_minutes)))
    assert len(minutes) == 1 and minutes[0].n == 60 and sum(minutes[0].latency_buckets) == 60


def test_shadow_rows_update_the_champions_rows(log: PredictionLog, engine: Engine) -> None:
    rows = rows_for(4)
    log.write(rows, announced=False)
    log.write_shadow(
        ShadowRows(
            model_name="m",
            champion_version="1",
            created_at=rows.created_at,
            shadow_version="2",
            ids=rows.ids,
            labels=["Yes"] * 4,
            probabilities=[{"No": 0.1, "Yes": 0.9}] * 4,
            agreed=3,
        )
    )

    def shadowed() -> list:
        with engine.connect() as conn:
            return list(
                conn.execute(select(predictions).where(predictions.c.shadow_version == "2"))
            )

    assert len(shadowed()) == 4
    assert {r.shadow_prediction for r in shadowed()} == {"Yes"}
    assert shadowed()[0].shadow_probabilities == {"No": 0.1, "Yes": 0.9}
    with engine.connect() as conn:
        minute = conn.execute(select(prediction_minutes)).one()
    assert (minute.n, minute.shadow_n, minute.shadow_agree) == (4, 4, 3)


def test_a_failed_commit_raises_for_every_waiting_request(engine: Engine) -> None:
    writer = PredictionLog(engine, max_wait_s=0)
    try:
        duplicate = rows_for(1)
        writer.write(duplicate, announced=False)
        with pytest.raises(ServiceUnavailable):
            writer.write(duplicate, announced=False)  # same primary key: the commit fails
        writer.write(rows_for(1), announced=False)  # and the writer keeps working
    finally:
        writer.stop()
    with pytest.raises(ServiceUnavailable):
        writer.write(rows_for(1), announced=False)  # stopped: refuses rather than hangs


def test_known_minutes_stay_few_and_counts_stay_right(engine: Engine) -> None:
    writer = PredictionLog(engine, max_wait_s=0)
    for i in range(60):
        writer.write(rows_for(1, at=NOW + timedelta(minutes=i)), announced=False)
        writer.write(rows_for(2, at=NOW + timedelta(minutes=i)), announced=False)
    assert len(writer._minutes) <= 40
    with engine.connect() as conn:
        minutes = list(conn.execute(select(prediction_minutes)))
    assert len(minutes) == 60 and {m.n for m in minutes} == {3}
