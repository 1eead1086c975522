"""POST /ingest/batch and /ingest/csv over real HTTP, on SQLite and PostgreSQL:
lenient and strict modes, what is stored, idempotency and its races."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ml.data.sample import make_dataset
from ml.feature_store.datasets import Dataset, create_dataset
from ml.schema import infer_schema
from services.ingestion_api.app import create_app
from shared.database import feature_store, write_transaction
from shared.events import TableEventLog
from tests.integration.ingestion_support import (
    app_settings,
    create_lung_dataset,
    sample_csv,
    sample_records,
    serve,
    stored_counts,
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


def post_batch(base_url: str, body: Any, mode: str | None = None) -> requests.Response:
    params = {"mode": mode} if mode else None
    return requests.post(f"{base_url}/ingest/batch", json=body, params=params, timeout=60)


def post_csv(base_url: str, text: str, **params: str) -> requests.Response:
    return requests.post(
        f"{base_url}/ingest/csv",
        data=text.encode(),
        params=params,
        headers={"Content-Type": "text/csv"},
        timeout=60,
    )


def stored_rows(engine: Engine, batch_id: str) -> list[Any]:
    table = feature_store.c
    query = (
        select(table.features, table.label, table.entity_id, table.event_time, table.split)
        .where(table.batch_id == batch_id)
        .order_by(table.id)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def test_lenient_stores_valid_records_and_reports_the_rest(base_url, engine, dataset) -> None:
    records = sample_records(20)
    records[3]["Age"] = "old"
    records[7]["Recovered"] = "Maybe"
    r = post_batch(base_url, {"batch_id": "lenient-1", "records": records})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["batch_id"], body["accepted"], body["rejected"]) == ("lenient-1", 18, 2)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(3, "Age"), (7, "Recovered")]
    assert body["labelled"] == 18
    rows = stored_rows(engine, "lenient-1")
    assert len(rows) == 18 and {row.split for row in rows} == {"ingested"}
    assert rows[0].features["Age"] == records[0]["Age"] and rows[0].label == records[0]["Recovered"]


def test_lenient_answers_201_when_every_record_is_rejected(base_url, engine, dataset) -> None:
    r = post_batch(base_url, {"records": [{"Age": "x"}, 5]})
    assert r.status_code == 201 and r.json()["accepted"] == 0 and r.json()["rejected"] == 2
    assert stored_counts(engine)[0] == 0


def test_strict_stores_nothing_and_does_not_record_the_batch_id(base_url, engine, dataset) -> None:
    records = sample_records(10)
    bad = records[:9] + [records[9] | {"Lung Capacity": "lots"}]
    r = post_batch(base_url, {"batch_id": "strict-1", "records": bad}, mode="strict")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["errors"] == [
        {"index": 9, "field": "Lung Capacity", "message": "expected a number"}
    ]
    assert stored_counts(engine) == (0, 0)
    fixed = post_batch(base_url, {"batch_id": "strict-1", "records": records}, mode="strict")
    assert fixed.status_code == 201 and fixed.json()["accepted"] == 10


def test_a_batch_id_is_generated_when_absent(base_url, engine, dataset) -> None:
    first, second = (post_batch(base_url, {"records": sample_records(3)}) for _ in range(2))
    assert first.status_code == second.status_code == 201
    assert first.json()["batch_id"] != second.json()["batch_id"]
    assert len(stored_rows(engine, first.json()["batch_id"])) == 3


def test_same_batch_id_and_content_replays_the_first_result(base_url, engine, dataset) -> None:
    records = sample_records(5)
    first = post_batch(base_url, {"batch_id": "again", "records": records})
    # The same content serialised differently (key order, whitespace) is the same batch.
    reordered = [dict(reversed(list(record.items()))) for record in records]
    text = json.dumps({"records": reordered, "batch_id": "again"}, indent=2)
    second = requests.post(
        f"{base_url}/ingest/batch",
        data=text,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == first.json()
    assert stored_counts(engine) == (5, 1)


def test_same_batch_id_with_other_content_is_409(base_url, engine, dataset) -> None:
    post_batch(base_url, {"batch_id": "taken", "records": sample_records(3)})
    r = post_batch(base_url, {"batch_id": "taken", "records": sample_records(3, seed=99)})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    csv_reuse = post_csv(base_url, sample_csv(3), batch_id="taken")
    assert csv_reuse.status_code == 409
    assert stored_counts(engine) == (3, 1)


def _race(send: Any, copies: int) -> list[requests.Response]:
    barrier = threading.Barrier(copies)
    answers: list[requests.Response] = []

    def run(i: int) -> None:
        barrier.wait()
        answers.append(send(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_identical_requests_racing_store_the_batch_once(base_url, engine, dataset) -> None:
    body = {"batch_id": "race", "records": sample_records(2_000)}
    answers = _race(lambda _i: post_batch(base_url, body), copies=6)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 200, 200, 200, 200, 201], [r.text[:200] for r in answers]
    assert len({json.dumps(r.json(), sort_keys=True) for r in answers}) == 1
    assert stored_counts(engine) == (2_000, 1)


def test_different_bodies_racing_for_one_batch_id(base_url, engine, dataset) -> None:
    bodies = [{"batch_id": "contested", "records": sample_records(500, seed=s)} for s in range(4)]
    answers = _race(lambda i: post_batch(base_url, bodies[i]), copies=4)
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    assert stored_counts(engine) == (500, 1)


def test_csv_lenient_with_missing_cells_entities_and_times(base_url, engine, dataset) -> None:
    text = (
        "Age,Gender,Smoking Status,Lung Capacity,Disease Type,Treatment Type,Hospital Visits,"
        "Recovered,entity_id,event_time,Notes\n"
        "61,Male,,3.2,COPD,Therapy,4,Yes,patient-1,2024-05-01T10:00:00Z,x\n"
        "44,Female,Never,,Asthma,Medication,,,patient-2,,y\n"
        "70,Female,Never,2.1,Asthma,Medication,1,,patient-3,not a time,z\n"
    )
    r = post_csv(base_url, text, batch_id="csv-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"], body["labelled"]) == (2, 1, 1)
    assert body["errors"][0]["field"] == "event_time" and body["unknown_fields"] == ["Notes"]
    rows = stored_rows(engine, "csv-1")
    assert [row.entity_id for row in rows] == ["patient-1", "patient-2"]
    assert (
        rows[0].features["Smoking Status"] is None and rows[1].features["Hospital Visits"] is None
    )
    assert rows[0].event_time.year == 2024 and rows[1].event_time is None
    assert [row.label for row in rows] == ["Yes", None]


def test_csv_strict_and_idempotent(base_url, engine, dataset) -> None:
    text = sample_csv(50)
    lines = text.splitlines()
    fields = lines[5].split(",")
    fields[0] = "old"  # Age
    lines[5] = ",".join(fields)
    strict = post_csv(base_url, "\n".join(lines), mode="strict")
    assert strict.status_code == 422 and stored_counts(engine) == (0, 0)
    first = post_csv(base_url, text, batch_id="csv-2")
    again = post_csv(base_url, text.replace("\n", "\r\n"), batch_id="csv-2")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["accepted"] == 50 and stored_counts(engine) == (50, 1)


def test_unknown_fields_and_unseen_categories_are_reported(base_url, engine, dataset) -> None:
    records = sample_records(4)
    records[0]["Disease Type"] = "Tuberculosis"
    records[1]["Ünïcode 列"] = 1
    body = post_batch(base_url, {"records": records}).json()
    assert body["accepted"] == 4
    assert body["unseen_categories"] == {"Disease Type": 1}
    assert body["unknown_fields"] == ["Ünïcode 列"]


def test_each_stored_batch_is_in_the_event_log(base_url, engine, dataset) -> None:
    post_batch(base_url, {"batch_id": "evented", "records": sample_records(7)})
    events = [event for _, event in TableEventLog(engine, settle_seconds=0).read_after(None)]
    assert [(e.batch_id, e.source, e.accepted, e.labelled) for e in events] == [
        ("evented", "batch", 7, 7)
    ]


def test_unicode_column_names_round_trip(base_url, engine) -> None:
    frame = make_dataset(300, seed=5).rename(columns={"Age": "Âge", "Gender": "性别"})
    with write_transaction(engine) as conn:
        create_dataset(conn, name="unicode", schema=infer_schema(frame, "Recovered")[0], source="t")
    sample = frame.head(3)
    records = json.loads(sample.to_json(orient="records", force_ascii=False))
    as_json = post_batch(base_url, {"batch_id": "uni-json", "records": records})
    as_csv = post_csv(base_url, sample.to_csv(index=False), batch_id="uni-csv")
    assert as_json.status_code == as_csv.status_code == 201
    assert as_json.json()["accepted"] == as_csv.json()["accepted"] == 3
    assert as_json.json()["unknown_fields"] == [] and as_csv.json()["errors"] == []
    stored = stored_rows(engine, "uni-csv")[0].features
    assert stored["性别"] == records[0]["性别"] and stored["Âge"] == records[0]["Âge"]
    schema = requests.get(f"{base_url}/schema", timeout=10).json()
    assert {"Âge", "性别"} <= {feature["name"] for feature in schema["features"]}


def test_replay_of_records_with_differing_keys(base_url, engine, dataset) -> None:
    records = sample_records(4)
    records[1]["entity_id"] = "only-here"  # the records no longer share one key set
    reordered = [dict(reversed(list(record.items()))) for record in records]
    first = post_batch(base_url, {"batch_id": "mixed", "records": records})
    again = post_batch(base_url, {"batch_id": "mixed", "records": reordered})
    changed = post_batch(base_url, {"batch_id": "mixed", "records": records[:3]})
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
