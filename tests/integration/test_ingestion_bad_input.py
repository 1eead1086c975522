"""Everything a client can get wrong, sent over real HTTP on SQLite and PostgreSQL:
each answer is a named 4xx (never a 500) and the database is unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy.engine import Engine

from ml.feature_store.datasets import Dataset
from services.ingestion_api.app import create_app
from tests.integration.ingestion_support import (
    app_settings,
    create_lung_dataset,
    sample_csv,
    sample_records,
    serve,
    stored_counts,
)

MAX_BODY = 60_000
MAX_RECORDS = 50
GOOD = sample_records(1)[0]
HEADER = ",".join(GOOD)
DEEP = "[" * 5_000 + "]" * 5_000  # beyond what json.loads can recurse into
ROW = ",".join("" if v is None else str(v) for v in GOOD.values())


@pytest.fixture(scope="module")
def base_url(migrated_engine: Engine, database_url: str, tmp_path_factory) -> Iterator[str]:
    settings = app_settings(
        tmp_path_factory.mktemp("home"),
        database_url,
        max_body_bytes=MAX_BODY,
        ingest_max_records=MAX_RECORDS,
    )
    app = create_app(settings)
    with serve(app) as url:
        yield url
    app.extensions["ingestion"].engine.dispose()


@pytest.fixture
def dataset(engine: Engine) -> Dataset:
    return create_lung_dataset(engine)


def raw(path: str, data: str | bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"path": path, "data": data, "headers": {"Content-Type": content_type}}


def as_json(path: str, body: Any) -> dict[str, Any]:
    return raw(path, json.dumps(body))


def csv(text: str | bytes, **params: str) -> dict[str, Any]:
    return raw("/ingest/csv", text, "text/csv") | {"params": params}


# (case, request, status, error code)
REQUEST_LEVEL = [
    ("malformed JSON", raw("/ingest/batch", '{"records": [{"Age": 1}'), 400, "bad_request"),
    ("malformed JSON stream", raw("/ingest/stream", "{record:}"), 400, "bad_request"),
    ("malformed JSON feedback", raw("/feedback", "[}"), 400, "bad_request"),
    ("empty body", raw("/ingest/batch", ""), 400, "bad_request"),
    ("deeply nested JSON", raw("/ingest/batch", '{"records": [' + DEEP + "]}"), 400, None),
    ("deeply nested record", raw("/ingest/stream", '{"record": {"Age": ' + DEEP + "}}"), 400, None),
    (
        "deeply nested label",
        raw("/feedback", '{"labels": [{"prediction_id": "p", "label": ' + DEEP + "}]}"),
        400,
        None,
    ),
    ("whitespace body", raw("/ingest/stream", "  \n"), 400, "bad_request"),
    ("empty CSV", csv(""), 400, "bad_request"),
    ("not UTF-8", raw("/ingest/batch", b'{"records": ["\xff"]}'), 400, "bad_request"),
    ("CSV not UTF-8", csv((HEADER + "\n" + ROW).replace("e", "\xe4").encode("latin-1")), 400, None),
    ("wrong type batch", raw("/ingest/batch", "{}", "text/plain"), 415, "unsupported_media_type"),
    ("wrong type csv", raw("/ingest/csv", HEADER, "application/json"), 415, None),
    ("wrong type stream", raw("/ingest/stream", "{}", "text/csv"), 415, None),
    ("wrong type feedback", raw("/feedback", "{}", "application/xml"), 415, None),
    ("body over the limit", as_json("/ingest/batch", {"records": ["x" * MAX_BODY]}), 413, None),
    ("CSV over the limit", csv(HEADER + ("\n" + ROW) * 2_000), 413, "payload_too_large"),
    ("too many records", as_json("/ingest/batch", {"records": [GOOD] * 51}), 413, None),
    ("too many CSV rows", csv(HEADER + ("\n" + ROW) * 51), 413, None),
    (
        "too many labels",
        as_json("/feedback", {"labels": [{"prediction_id": "p", "label": "Yes"}] * 51}),
        413,
        None,
    ),
    ("no records", as_json("/ingest/batch", {"records": []}), 422, "validation_failed"),
    ("records not a list", as_json("/ingest/batch", {"records": {"Age": 1}}), 422, None),
    ("body is a list", as_json("/ingest/batch", [GOOD]), 422, None),
    ("unknown top-level key", as_json("/ingest/batch", {"records": [GOOD], "x": 1}), 422, None),
    (
        "batch_id of 10,000 chars",
        as_json("/ingest/batch", {"batch_id": "b" * 10_000, "records": [GOOD]}),
        422,
        None,
    ),
    (
        "batch_id not a string",
        as_json("/ingest/batch", {"batch_id": {"a": 1}, "records": [GOOD]}),
        422,
        None,
    ),
    ("stream without record", as_json("/ingest/stream", {"records": [GOOD]}), 422, None),
    ("feedback item incomplete", as_json("/feedback", {"labels": [{"label": "Yes"}]}), 422, None),
    (
        "feedback nested label",
        as_json("/feedback", {"labels": [{"prediction_id": "p", "label": {"a": 1}}]}),
        422,
        None,
    ),
    ("CSV header only", csv(HEADER + "\n"), 422, "validation_failed"),
    ("CSV duplicate header", csv(HEADER + ",Age\n" + ROW + ",1"), 400, "bad_request"),
    ("CSV empty header name", csv(HEADER + ",\n" + ROW + ",1"), 400, "bad_request"),
    ("CSV long row", csv(HEADER + "\n" + ROW + "\n" + ROW + ",1"), 400, "bad_request"),
    ("CSV short row", csv(HEADER + "\n" + ROW.rsplit(",", 2)[0]), 400, "bad_request"),
    ("CSV header lacks a feature", csv(HEADER.replace("Age", "Agee") + "\n" + ROW), 422, None),
    ("CSV data row as header", csv(ROW + "\n" + ROW), 422, "validation_failed"),
    ("CSV NUL character", csv(HEADER + "\n" + ROW.replace("COPD", "CO\0PD")), 400, None),
    (
        "JSON NUL character",
        raw("/ingest/batch", json.dumps({"records": [GOOD | {"Disease Type": "CO\0PD"}]})),
        400,
        None,
    ),
    (
        "NUL in an unknown key",
        raw("/ingest/stream", json.dumps({"record": GOOD | {"a\0": 1}})),
        400,
        None,
    ),
    ("lone surrogate", raw("/ingest/batch", '{"records": [{"Gender": "\\ud800"}]}'), 400, None),
    (
        "lone surrogate id",
        raw("/feedback", '{"labels": [{"prediction_id": "\\udc00", "label": "Yes"}]}'),
        400,
        None,
    ),
    ("control character in batch_id", csv(HEADER + "\n" + ROW, batch_id="a\nb"), 400, None),
    ("bad mode", csv(HEADER + "\n" + ROW, mode="careful"), 400, "bad_request"),
    ("misspelt parameter", csv(HEADER + "\n" + ROW, mdoe="strict"), 400, "bad_request"),
]


@pytest.mark.parametrize(
    ("case", "request_args", "status", "code"), REQUEST_LEVEL, ids=[c[0] for c in REQUEST_LEVEL]
)
def test_request_level_mistakes(
    base_url, engine, dataset, case, request_args, status, code
) -> None:
    args = dict(request_args)
    path = args.pop("path")
    before = stored_counts(engine)
    r = requests.post(f"{base_url}{path}", timeout=30, **args)
    assert r.status_code == status, r.text[:300]
    error = r.json()["error"]
    assert error["message"] and (code is None or error["code"] == code)
    assert stored_counts(engine) == before


# (case, changes to one good record, field named in the error)
BAD_VALUES = [
    ("string in a numeric field", {"Age": "fifty"}, "Age"),
    ("numeric string in a numeric field", {"Lung Capacity": "3.5"}, "Lung Capacity"),
    ("boolean in a numeric field", {"Hospital Visits": True}, "Hospital Visits"),
    ("NaN literal", "NaN", "Age"),
    ("Infinity literal", "Infinity", "Age"),
    ("-Infinity in a category", "-Infinity-category", "Gender"),
    ("number too large for a float", "1e400", "Age"),
    ("integer too large for a float", {"Hospital Visits": 10**400}, "Hospital Visits"),
    ("nested object", {"Age": {"years": 50}}, "Age"),
    ("list where a category belongs", {"Gender": ["Male"]}, "Gender"),
    ("10,000-character category", {"Disease Type": "x" * 10_000}, "Disease Type"),
    ("10,000-character entity id", {"entity_id": "e" * 10_000}, "entity_id"),
    ("unknown class label", {"Recovered": "Perhaps"}, "Recovered"),
    ("nested label", {"Recovered": {"v": "Yes"}}, "Recovered"),
    ("bad event time", {"event_time": "last tuesday"}, "event_time"),
    ("absent feature", {"Age": None, "drop": "Age"}, "Age"),
    ("record not an object", "not-an-object", None),
]


def _bad_record_json(change: Any) -> str:
    """The JSON text of one bad record (literals like NaN need raw text)."""
    if change in ("NaN", "Infinity", "1e400"):
        return json.dumps(GOOD).replace('"Age": ' + json.dumps(GOOD["Age"]), f'"Age": {change}', 1)
    if change == "-Infinity-category":
        return json.dumps(GOOD).replace(
            '"Gender": ' + json.dumps(GOOD["Gender"]), '"Gender": -Infinity', 1
        )
    if change == "not-an-object":
        return '["Age", 50]'
    record = dict(GOOD)
    for key, value in change.items():
        if key == "drop":
            record.pop(value)
        else:
            record[key] = value
    return json.dumps(record)


@pytest.mark.parametrize(("case", "change", "field"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_bad_values_rejected_in_every_mode(base_url, engine, dataset, case, change, field) -> None:
    record = _bad_record_json(change)
    headers = {"Content-Type": "application/json"}
    before = stored_counts(engine)
    strict = requests.post(
        f"{base_url}/ingest/batch?mode=strict",
        data=f'{{"records": [{record}]}}',
        headers=headers,
        timeout=30,
    )
    assert strict.status_code == 422
    assert strict.json()["error"]["details"]["errors"][0]["field"] == field
    stream = requests.post(
        f"{base_url}/ingest/stream", data=f'{{"record": {record}}}', headers=headers, timeout=30
    )
    assert stream.status_code == 422
    assert stream.json()["error"]["details"]["errors"][0]["field"] == field
    assert stored_counts(engine) == before
    lenient = requests.post(
        f"{base_url}/ingest/batch", data=f'{{"records": [{record}]}}', headers=headers, timeout=30
    )
    assert lenient.status_code == 201 and lenient.json()["rejected"] == 1
    assert lenient.json()["errors"][0]["field"] == field
    assert stored_counts(engine)[0] == before[0]  # only the batch's bookkeeping row was added


def test_csv_non_finite_and_text_cells_are_rejected(base_url, engine, dataset) -> None:
    rows = [ROW.replace(str(GOOD["Age"]), value, 1) for value in ("inf", "NaN", "-Infinity", "abc")]
    r = requests.post(
        f"{base_url}/ingest/csv?mode=strict",
        data="\n".join([HEADER, *rows]),
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert r.status_code == 422 and stored_counts(engine) == (0, 0)
    assert {e["field"] for e in r.json()["error"]["details"]["errors"]} == {"Age"}


def test_unknown_routes_and_methods(base_url, dataset) -> None:
    missing = requests.get(f"{base_url}/ingest/nothing", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert requests.get(f"{base_url}/ingest/batch", timeout=10).status_code == 405


def test_no_active_dataset_is_503_not_500(base_url, engine) -> None:
    r = requests.post(f"{base_url}/ingest/batch", json={"records": [GOOD]}, timeout=10)
    assert r.status_code == 503 and r.json()["error"]["code"] == "no_active_model"
    csv_answer = requests.post(
        f"{base_url}/ingest/csv",
        data=sample_csv(2),
        headers={"Content-Type": "text/csv"},
        timeout=10,
    )
    assert csv_answer.status_code == 503
    assert (
        requests.post(f"{base_url}/ingest/stream", json={"record": GOOD}, timeout=10).status_code
        == 503
    )
    assert stored_counts(engine) == (0, 0)
