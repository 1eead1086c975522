"""JSON request bodies, parsed by shared.http and checked for text no database can store.

PostgreSQL refuses NUL characters in text and JSONB, and no UTF-8 database can
hold an unpaired UTF-16 surrogate (a lone `\\ud800` escape). Both are valid
JSON, so they are refused here with a 400 on either backend, instead of
failing inside the write transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel

from shared.errors import BadRequest, UnsupportedMediaType
from shared.http import parse_json

Model = TypeVar("Model", bound=BaseModel)
# Escapes that may decode to a NUL or a surrogate; only bodies containing one get
# the full (slower) check, so ordinary bodies pay for one scan of the bytes.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
TOO_DEEP = "JSON is nested too deeply"


def read_json(model: type[Model]) -> Model:
    """The body as `model`: 415 unless application/json, 400 for what cannot be stored."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Content-Type must be application/json", {"content_type": request.mimetype or None}
        )
    data = request.get_data(cache=False)
    try:
        body = parse_json(data, model)
    except RecursionError:  # json.loads gives up on ~1,000 levels of nesting
        raise BadRequest(TOO_DEEP) from None
    if SUSPECT_ESCAPE.search(data):
        check_storable(body.model_dump())
    return body


def check_storable(payload: Any) -> None:
    """Raise BadRequest if any key or string value holds a NUL or an unpaired surrogate."""
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
