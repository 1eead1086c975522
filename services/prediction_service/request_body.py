"""Request bodies of the scoring endpoints: orjson first, the shared parser for anything odd.

orjson parses a 10,000-record body ~6x faster than the standard library. It
refuses what the shared parser treats specially (NaN/Infinity literals, which
must become a 422 naming the field; empty or non-UTF-8 bodies, which have their
own 400 messages), so on any orjson error the body goes to
`shared.http.parse_json`, which then decides.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from flask import request
from pydantic import BaseModel, RootModel

from shared.errors import UnsupportedMediaType
from shared.http import parse_json, reject_unstorable_text, validate_payload

Model = TypeVar("Model", bound=BaseModel)


class AnyJson(RootModel[Any]):
    """Any JSON value (the MLflow protocol is checked by invocations.py)."""


def require_json() -> None:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Content-Type must be application/json", {"content_type": request.mimetype or None}
        )


def parse_body(data: bytes, model: type[Model]) -> Model:
    """`data` as `model`: 400 malformed, 422 wrong shape (never echoing the input)."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return parse_json(data, model)
    reject_unstorable_text(data, payload)
    return validate_payload(payload, model)


def parse_any(data: bytes) -> Any:
    return parse_body(data, AnyJson).root
