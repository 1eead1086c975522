"""What every HTTP service shares: the app factory base, the error contract,
request ids, body parsing, access control, health and docs routes.

Errors leave as `{"error": {"code", "message", "details"}}`; anything a client
can send maps to a 4xx here, in one place.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Response, g, jsonify, redirect, request
from flask_openapi3 import Info, OpenAPI
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ml.validation import loads_json
from shared import metrics
from shared.config import Settings
from shared.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    PipelineError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.logger import request_id_var

log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
LOOPBACK = ("127.", "::1", "::ffff:127.")
# Escapes that may decode to a NUL or a surrogate: valid JSON no database can store.
# Only bodies containing one get the full check, so ordinary bodies pay one byte scan.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
BEARER = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "API_KEY"}}


def create_service_app(
    settings: Settings, *, service: str, title: str, description: str
) -> OpenAPI:
    """A Flask (OpenAPI) app with the shared contract wired in; services add their routes."""
    app = OpenAPI(
        service,
        info=Info(title=title, version="1.0.0", description=description),
        security_schemes=BEARER,  # type: ignore[arg-type]
        doc_prefix="",
        doc_url="/openapi.json",
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings
    http_metrics = metrics.http_metrics(service)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        rid = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex[:16]
        g.request_id = rid
        g.request_id_token = request_id_var.set(rid)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        http_metrics.observe(
            endpoint,
            request.method,
            response.status_code,
            time.perf_counter() - g.get("started", time.perf_counter()),
        )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)

    register_error_handlers(app)
    _register_common_routes(app, service)
    return app


def register_error_handlers(app: OpenAPI) -> None:
    @app.errorhandler(PipelineError)
    def _pipeline_error(exc: PipelineError) -> tuple[Response, int]:
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        if code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            return jsonify(
                PayloadTooLarge(
                    f"request body is larger than {limit} bytes", {"limit_bytes": limit}
                ).to_dict()
            ), 413
        name = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": {"code": name, "message": exc.description, "details": {}}}), code

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError) -> tuple[Response, int]:
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        body = {
            "error": {
                "code": "database_unavailable",
                "message": "the database is not reachable; try again",
                "details": {},
            }
        }
        return jsonify(body), 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        body = {
            "error": {
                "code": "internal_error",
                "message": "internal error; see the service log",
                "details": {"request_id": g.get("request_id")},
            }
        }
        return jsonify(body), 500


def _register_common_routes(app: OpenAPI, service: str) -> None:
    @app.get("/health", doc_ui=False)
    def health() -> Response:
        return jsonify({"status": "ok", "service": service})

    @app.get("/metrics", doc_ui=False)
    def metrics_text() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.get("/docs", doc_ui=False)
    def docs() -> Any:
        return redirect("/swagger")


def json_body(model: type[Model]) -> Model:
    """Parse the request body as JSON into `model`; every failure is a named 4xx."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Content-Type must be application/json", {"content_type": request.mimetype or None}
        )
    return parse_json(request.get_data(cache=False), model)


def parse_json(data: bytes, model: type[Model]) -> Model:
    if not data.strip():
        raise BadRequest("request body is empty")
    try:
        payload = loads_json(data)
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8") from None
    except ValueError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    except RecursionError:  # json.loads gives up on ~1,000 levels of nesting
        raise BadRequest("JSON is nested too deeply") from None
    reject_unstorable_text(data, payload)
    return validate_payload(payload, model)


def validate_payload(payload: Any, model: type[Model]) -> Model:
    """A parsed body as `model`; a wrong shape is a 422 naming the fields, never echoing them."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(
            "request body does not match the expected shape", {"errors": envelope_errors(exc)}
        ) from None


def reject_unstorable_text(data: bytes, payload: Any) -> None:
    """400 for NUL characters or unpaired UTF-16 surrogates: PostgreSQL (and UTF-8) cannot
    store them, and failing later would fail the whole write transaction."""
    if not SUSPECT_ESCAPE.search(data):
        return
    for text in _strings(payload):
        if "\x00" in text:
            raise BadRequest("NUL characters (\\u0000) cannot be stored; remove them")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(
                "unpaired UTF-16 surrogate escapes (\\ud800-\\udfff) cannot be stored"
            ) from None


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:  # iterative: a deeply nested body must not exhaust the recursion limit
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def envelope_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as [{index, field, message}] without echoing the input."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(p) for p in err["loc"]]
        index = next((int(p) for p in loc if p.isdigit()), None)
        out.append({"index": index, "field": ".".join(loc) or None, "message": err["msg"]})
    return out


def check_record_count(count: int, limit: int, *, field: str = "records") -> None:
    if count > limit:
        raise PayloadTooLarge(
            f"{count} records is more than this endpoint takes ({limit})",
            {"field": field, "limit": limit, "count": count},
        )
    if count == 0:
        raise ValidationFailed(
            f"{field} is empty",
            {
                "errors": [
                    {"index": None, "field": field, "message": "at least one record is required"}
                ]
            },
        )


def require_write_access(settings: Settings) -> None:
    """API_KEY set: a matching bearer token. Unset: loopback clients only."""
    if settings.api_key:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), settings.api_key):
            raise Unauthorized("missing or invalid 'Authorization: Bearer <API_KEY>' header")
        return
    if not (request.remote_addr or "").startswith(LOOPBACK):
        raise Forbidden("write endpoints answer loopback clients only while API_KEY is unset")


def write_endpoint(settings: Settings) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of require_write_access."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_write_access(settings)
            return view(*args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate
