"""The shared HTTP contract (errors, access, body parsing) on a minimal app built with it."""

import pytest
from flask import jsonify
from pydantic import BaseModel

from shared.http import check_record_count, create_service_app, json_body, write_endpoint


class Envelope(BaseModel):
    records: list[dict]


@pytest.fixture
def client_for(make_settings):
    def make(**overrides):
        settings = make_settings(max_body_bytes=4_000, **overrides)
        app = create_service_app(settings, service="test-api", title="t", description="d")

        @app.post("/echo")
        @write_endpoint(settings)
        def echo():
            body = json_body(Envelope)
            check_record_count(len(body.records), 3)
            return jsonify({"n": len(body.records)})

        @app.get("/boom")
        def boom():
            raise RuntimeError("secret detail")

        return app.test_client()

    return make


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def test_happy_path_and_request_id(client_for) -> None:
    r = client_for().post("/echo", json={"records": [{}]}, headers={"X-Request-ID": "abc"})
    assert r.status_code == 200 and r.get_json() == {"n": 1} and r.headers["X-Request-ID"] == "abc"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{bad json", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "", "content_type": "application/json"}, 400, "bad_request"),
        ({"data": "{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"json": {"records": 5}}, 422, "validation_failed"),
        ({"json": {"records": []}}, 422, "validation_failed"),
        ({"json": {"records": [{}] * 4}}, 413, "payload_too_large"),
        ({"json": {"records": [{"x": "y" * 5_000}]}}, 413, "payload_too_large"),
        ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "bad_request"),
        (
            {"data": '{"records": [{"x": "a\\u0000b"}]}', "content_type": "application/json"},
            400,
            "bad_request",
        ),
        (
            {"data": '{"records": [{"x": "\\ud800"}]}', "content_type": "application/json"},
            400,
            "bad_request",
        ),
        ({"data": "[" * 1500 + "]" * 1500, "content_type": "application/json"}, 400, "bad_request"),
    ],
)
def test_client_mistakes_are_named_4xx(client_for, kwargs, status, code) -> None:
    r = client_for().post("/echo", **kwargs)
    assert r.status_code == status and error_code(r) == code


def test_envelope_errors_do_not_echo_input(client_for) -> None:
    r = client_for().post("/echo", json={"records": "top-secret-payload"})
    assert "top-secret-payload" not in r.get_data(as_text=True)
    assert r.get_json()["error"]["details"]["errors"][0]["field"] == "records"


def test_unknown_route_and_method(client_for) -> None:
    client = client_for()
    assert client.get("/nope").status_code == 404 and error_code(client.get("/nope")) == "not_found"
    assert client.get("/echo").status_code == 405


def test_unexpected_error_is_500_without_details(client_for) -> None:
    r = client_for().get("/boom")
    assert r.status_code == 500 and "secret" not in r.get_data(as_text=True)


def test_access_rules(client_for) -> None:
    keyed = client_for(api_key="s3cret")
    assert keyed.post("/echo", json={"records": [{}]}).status_code == 401
    ok = keyed.post("/echo", json={"records": [{}]}, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    remote = client_for().post(
        "/echo", json={"records": [{}]}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert remote.status_code == 403


def test_health_metrics_docs(client_for) -> None:
    client = client_for()
    assert client.get("/health").get_json()["status"] == "ok"
    client.post("/echo", json={"records": [{}]})
    assert b"test_api_http_requests_total" in client.get("/metrics").data
    assert client.get("/openapi.json").get_json()["openapi"].startswith("3.")
    assert client.get("/docs").status_code == 302
    assert b"swagger-ui" in client.get("/swagger").data
